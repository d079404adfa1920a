// TD-VAE (Gregor et al. 2019, "Temporal Difference Variational Auto-Encoder"), one latent layer: a
// belief LSTM b_t summarises x_1..x_t; from the beliefs at t1 and t2 = t1 + δ (δ drawn per sequence,
// 1..max_jump) the two-time-step ELBO
//   log p_D(x2|z2) + log p_B(z1|b1) + log p_T(z2|z1,δ) − log p_B(z2|b2) − log q_S(z1|z2,b1,b2)
// with z2 ~ p_B(z2|b2) and z1 ~ q_S. The transition sees δ, so one step jumps δ frames ahead. Written
// with prob: the beliefs are a Deterministic over the whole sequence, the per-t1 terms an
// IterativeLoss over the series of (belief pair, x2, δ):
//   mean(E_f(bb|xs,jump)[sum_(t=1..T)[E_p(z2|bb)[D_KL[q(z1|z2,bb)||p(z1|bb)]
//        + E_q(z1|z2,bb)[log p(z2|bb) − log p(z2|z1,dt)] − log p(x2|z2)]]])
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>

#include "core/export.h"
#include "prob/loss.h"

DOJO_PUBLIC_BEGIN
namespace dojo::prob {

struct TdVaeOptions {
  std::int64_t x_dim = 784;     // a frame, flattened, values in [0, 1]
  std::int64_t features = 256;  // the MLP that reads each frame before the belief LSTM
  std::int64_t belief = 256;    // belief LSTM units
  std::int64_t z_dim = 32;      // latent state
  std::int64_t hidden = 128;    // the gated MLPs ("D blocks") that give each Normal
  std::int64_t max_jump = 5;    // δ is drawn from 1..max_jump
};

class TdVaeImpl : public torch::nn::Module {
 public:
  explicit TdVaeImpl(TdVaeOptions o = {});
  const TdVaeOptions& options() const { return o_; }

  // The loss's input for sequences xs [T, B, x_dim] (T > max_jump): a jump δ per sequence drawn from
  // 1..max_jump, and for t1 = 1..T − max_jump the frame x2 = x_(t1+δ) and δ as series.
  Dict batch(const torch::Tensor& xs) const;
  // mean over sequences of the negative ELBO summed over the T − max_jump pairs (nats).
  const Loss& loss() const { return loss_; }

  // Beliefs b_1..b_T for xs [T, B, x_dim]: [T, B, belief].
  torch::Tensor beliefs(const torch::Tensor& xs);
  // Frames predicted from the belief after the whole of xs [T, B, x_dim], k = 1..horizon ahead, as
  // probabilities [horizon, B, x_dim]. jumpy: each z_(t+k) drawn from z_t with δ = k (horizon ≤
  // max_jump); otherwise step by step with δ = 1. Latents are drawn (not their means) from p_B and
  // p_T, as the paper's rollouts.
  torch::Tensor predict(const torch::Tensor& xs, std::int64_t horizon, bool jumpy = true);

  DistPtr belief() const { return belief_; }          // bb | xs, jump (Deterministic)
  DistPtr p_b1() const { return p_b1_; }              // z1 | bb: p_B at t1
  DistPtr p_b2() const { return p_b2_; }              // z2 | bb: p_B at t2
  DistPtr q() const { return q_; }                    // z1 | z2, bb: the smoothing posterior q_S
  DistPtr transition() const { return transition_; }  // z2 | z1, dt: p_T
  DistPtr decoder() const { return decoder_; }        // x2 | z2: p_D, Bernoulli
  std::vector<DistPtr> distributions() const { return {belief_, p_b1_, p_b2_, q_, transition_, decoder_}; }

 private:
  // The paper's D block: (tanh(W1 x) ⊙ σ(W2 x)) → μ, log σ.
  struct DBlock {
    torch::nn::Linear gate_a{nullptr}, gate_b{nullptr}, loc{nullptr}, log_scale{nullptr};
    std::vector<torch::Tensor> operator()(const torch::Tensor& x);
  };
  DBlock d_block(const std::string& name, std::int64_t in);

  TdVaeOptions o_;
  torch::nn::Sequential frame_{nullptr}, decode_{nullptr};
  torch::nn::LSTM lstm_{nullptr};
  DBlock b_to_z_, smoothing_, transition_block_;
  DistPtr belief_, p_b1_, p_b2_, q_, transition_, decoder_;
  Loss loss_{0.0};
};
TORCH_MODULE(TdVae);

// Sequences for TD-VAE from images [N, H, W]: each image, rolled to a random horizontal offset, moves
// one pixel per step left or right (wrapping), the direction drawn per sequence; returns frames
// [T, N, H·W] and the directions [N] (−1 left, +1 right).
std::pair<torch::Tensor, torch::Tensor> shifting_sequences(const torch::Tensor& images, std::int64_t steps);

}  // namespace dojo::prob

DOJO_PUBLIC_END
