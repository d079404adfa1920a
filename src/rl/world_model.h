// World Models (Ha & Schmidhuber 2018, "Recurrent World Models Facilitate Policy Evolution"): the
// vision model V compresses each frame into a latent z, the memory model M predicts the next latent
// from (z, action) and carries a hidden state h, and the controller C acts on [z, h] with one linear
// layer. V and M learn from random rollouts; C is evolved by CMA-ES (rl/cmaes.h), in the real
// environment or inside M's dream.
//
// - V: the paper's convolutional VAE on 64 × 64 × 3 frames — four 4 × 4 stride-2 convolutions
//   (32, 64, 128, 256, ReLU) to q(z|x) = N(μ, σ) with z of 32, and a dense layer plus four transposed
//   convolutions (5, 5, 6, 6 wide, 128-64-32-3, a sigmoid last) back to p(x|z) — the first, on a
//   1 × 1 map, is the dense layer it equals (LibTorch's CPU kernel took 65x longer) — a Normal of variance
//   ½ per pixel so that −log p(x|z) is the paper's summed squared error plus a constant. The KL to
//   N(0, I) is floored at `kl_floor` nats per frame (the paper's kl_tolerance 0.5 × 32): below it V
//   is free to spend the bits.
// - M: an LSTM of 256 units on [z_t, a_t] and a mixture-density head: for each latent dimension a
//   mixture of 5 Normals over z_{t+1} (prob::MixtureOfNormal), and heads for the reward r_t and for
//   whether the episode ended. Sampling at temperature τ divides the mixture logits by τ and
//   multiplies σ by √τ.
// - C: a = tanh(W [z, h] + b) (or [z] alone: the paper's "V only" ablation), mapped to the car's
//   controls as the paper does: steer = a₀, gas = (a₁ + 1)/2, brake = max(a₂, 0).
#pragma once
#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>
#include <torch/types.h>

#include <cstdint>
#include <random>
#include <tuple>
#include <vector>

#include "core/export.h"
#include "envs/env.h"
#include "prob/distribution.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

// CarRacing's 96 × 96 × 3 observation (or a batch [N, 96, 96, 3]) without the indicator bar (rows
// 0–83), resized to V's 64 × 64 × 3 by area averaging; uint8 in, uint8 out.
torch::Tensor world_model_frame(const torch::Tensor& observation);

// ---------------------------------------------------------------------------------------------- V
class ConvVaeImpl : public torch::nn::Module {
 public:
  static constexpr std::int64_t kSize = 64;  // frames are kSize × kSize × channels

  // channels: 3 for an RGB frame, more for a stack of frames (state-representation learning's).
  // squash: p(x|z)'s mean through a sigmoid, as World Models has it; false leaves it linear, which
  // frames mostly of one saturated colour need (pixel Pendulum's white: a sigmoid pushed to 1 there
  // stops passing gradients, and the decoder settles on one image whatever z is).
  explicit ConvVaeImpl(std::int64_t z_size = 32, std::int64_t channels = 3, bool squash = true);
  std::int64_t z_size() const { return z_size_; }
  std::int64_t channels() const { return channels_; }

  // The model as prob distributions over named variables: q(z|x), p(x|z) and the prior p(z). x is a
  // float frame [N, 3, 64, 64] in [0, 1] (see pixels()).
  const prob::DistPtr& encoder() const { return q_; }
  const prob::DistPtr& decoder() const { return p_; }
  const prob::DistPtr& prior() const { return prior_; }

  struct Losses {
    torch::Tensor total;           // reconstruction + max(KL, kl_floor), averaged over the batch
    torch::Tensor reconstruction;  // Σ (x − x̂)² per frame (−log p(x|z) less its constant), mean
    torch::Tensor kl;              // D_KL[q(z|x) || p(z)] per frame, mean (before the floor)
  };
  // One reparameterised draw of z per frame; frames uint8 [N, 64, 64, channels].
  Losses losses(const torch::Tensor& frames, double kl_floor);

  // q(z|x)'s mean and standard deviation, each [N, z] (no gradients).
  std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& frames);
  // p(x|z)'s mean as uint8 frames [N, 64, 64, channels] (no gradients).
  torch::Tensor decode(const torch::Tensor& z);

  // Lays the convolution weights out channels-last (NHWC), as the frames are: LibTorch's CPU
  // convolutions are 10-30x faster so (measured: the first layer at batch 100, 130 -> 5 ms). The
  // constructor does it; call it again after loading weights.
  void use_channels_last();

  // uint8 [N, 64, 64, C] -> float [N, C, 64, 64] in [0, 1] (channels-last in memory), and back.
  static torch::Tensor pixels(const torch::Tensor& frames);
  static torch::Tensor frames(const torch::Tensor& pixels);

 private:
  torch::Tensor input(const torch::Tensor& frames) const;  // pixels() of frames with this V's channels
  std::vector<torch::Tensor> encode_params(const torch::Tensor& x);
  std::vector<torch::Tensor> decode_params(const torch::Tensor& z);

  std::int64_t z_size_, channels_;
  bool squash_ = true;
  torch::nn::Conv2d enc1_{nullptr}, enc2_{nullptr}, enc3_{nullptr}, enc4_{nullptr};
  torch::nn::Linear mu_{nullptr}, log_var_{nullptr}, dense_{nullptr}, dec1_{nullptr};
  torch::nn::ConvTranspose2d dec2_{nullptr}, dec3_{nullptr}, dec4_{nullptr};
  prob::DistPtr q_, p_, prior_;
};
TORCH_MODULE(ConvVae);

// ---------------------------------------------------------------------------------------------- M
struct MdnRnnOptions {
  std::int64_t z_size = 32;
  std::int64_t action_size = 3;
  std::int64_t hidden = 256;
  std::int64_t mixtures = 5;
};

class MdnRnnImpl : public torch::nn::Module {
 public:
  using State = std::tuple<torch::Tensor, torch::Tensor>;  // the LSTM's (h, c), each [1, N, hidden]

  explicit MdnRnnImpl(MdnRnnOptions options = {});
  const MdnRnnOptions& options() const { return o_; }

  struct Output {
    torch::Tensor logits, loc, log_scale;  // the mixture for z_{t+1}: [..., z, K] each
    torch::Tensor reward;                  // r_t [...]
    torch::Tensor done_logit;              // whether the episode ended with this step [...]
    torch::Tensor hidden;                  // the LSTM's output h_{t+1} [..., hidden]
    State state;
  };
  // Sequences: z [N, T, z], a [N, T, A] from `state` (zeros when undefined) -> outputs [N, T, ...].
  Output forward(const torch::Tensor& z, const torch::Tensor& a, const State& state = {});
  // One step for a batch: z [N, z], a [N, A] -> outputs [N, ...].
  Output step(const torch::Tensor& z, const torch::Tensor& a, const State& state);
  // The zero state for a batch of n.
  State initial_state(std::int64_t n) const;

  // p(z_{t+1} | z_t, a_t, h_t) at temperature τ: one mixture of Normals per latent dimension
  // (prob::MixtureOfNormal over a trailing axis of 1).
  prob::DistPtr next_latent(const Output& out, double temperature = 1.0) const;
  // −log p(z_{t+1}) per latent dimension, averaged over the positions where mask is 1 ([N, T]).
  torch::Tensor latent_nll(const Output& out, const torch::Tensor& z_next, const torch::Tensor& mask) const;
  // A draw of z_{t+1} [..., z] at temperature τ (from `gen`, or LibTorch's default generator).
  torch::Tensor sample_latent(const Output& out, double temperature,
                              c10::optional<torch::Generator> gen = c10::nullopt) const;

 private:
  MdnRnnOptions o_;
  torch::nn::LSTM lstm_{nullptr};
  torch::nn::Linear head_{nullptr};
};
TORCH_MODULE(MdnRnn);

// ---------------------------------------------------------------------------------------------- C
// a = tanh(W f + b) for a population of controllers at once: params [P, A·F + A] (W row-major, then
// b), features [P, F] -> tanh outputs [P, A].
torch::Tensor controller_output(const torch::Tensor& params, const torch::Tensor& features,
                                std::int64_t action_size);
std::int64_t controller_parameters(std::int64_t features, std::int64_t action_size);
// The paper's map from C's tanh outputs [N, 3] to CarRacing's (steer, gas, brake).
torch::Tensor car_controls(const torch::Tensor& tanh_output);

// ---------------------------------------------------------------------------------------------- dream
// M as an environment: the observation is [z, h] (the controller's input), a step samples z_{t+1} at
// temperature τ, the reward and the end from M's heads (the episode ends when the end is more likely
// than not); a reset starts from one of `start_latents` ([S, z], e.g. the encoded first frames of
// real rollouts), picked by the env's generator. render() decodes z with V when V is given.
class DreamEnv final : public envs::Env {
 public:
  DreamEnv(MdnRnn mdn, torch::Tensor start_latents, double temperature, ConvVae vae = nullptr);
  envs::ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  envs::StepResult step(const torch::Tensor& action) override;
  const envs::Space& action_space() const override { return action_space_; }
  const envs::Space& observation_space() const override { return observation_space_; }
  torch::Tensor render() const override;
  std::string name() const override { return "Dream"; }
  double temperature() const { return temperature_; }

 private:
  MdnRnn mdn_;
  ConvVae vae_;
  torch::Tensor starts_;
  double temperature_;
  envs::Space action_space_, observation_space_;
  torch::Tensor z_;
  MdnRnnImpl::State state_;
  torch::Generator gen_;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
