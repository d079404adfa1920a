// State-representation learning (Lesort et al. 2018; the S-RL Toolbox, Raffin et al. 2018): learn a
// small state s = φ(o) from observations o so that control becomes cheap. This header has the
// objectives that are not a distribution's log-likelihood — Jonschkowski & Brock's (2015) robotic
// priors, as prob formulas — and the two measures the S-RL Toolbox scores a state with.
//
// The priors read a batch of transitions from a prob::Dict: s and s_next [B, d] (φ of o and of o'),
// a [B] (a Discrete action) or [B, k] (a Box action), r [B] (the transition's reward). Pairs are
// taken within the batch: (i, j), i < j, whose actions are the same (Box actions: within
// `action_tolerance` in Euclidean distance), as the S-RL Toolbox pairs a minibatch.
#pragma once
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/export.h"
#include "envs/factory.h"
#include "envs/space.h"
#include "envs/wrappers.h"
#include "prob/loss.h"
#include "rl/world_model.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct PriorVariables {
  std::string s = "s", s_next = "s_next", action = "a", reward = "r";
  double action_tolerance = 1e-6;  // Box actions closer than this count as the same action
};

// Temporal coherence: states change slowly. mean_t ||Δs_t||², Δs_t = s_{t+1} − s_t.
prob::Loss TemporalCoherence(PriorVariables v = {});
// Proportionality: the same action moves the state as far. mean over same-action pairs of
// (||Δs_j|| − ||Δs_i||)².
prob::Loss Proportionality(PriorVariables v = {});
// Causality: where the same action earned different rewards, the states differ. mean over those
// pairs of exp(−||s_j − s_i||²).
prob::Loss Causality(PriorVariables v = {});
// Repeatability: the same action from similar states moves them alike. mean over same-action pairs
// of exp(−||s_j − s_i||²)·||Δs_j − Δs_i||².
prob::Loss Repeatability(PriorVariables v = {});

// The pairs (i, j), i < j, of a batch whose actions match ([P, 2] int64), and of those the ones whose
// rewards differ.
struct PriorPairs {
  torch::Tensor same_action, different_reward;
};
PriorPairs prior_pairs(const torch::Tensor& actions, const torch::Tensor& rewards,
                       double action_tolerance = 1e-6);

// Ground-truth correlation (GTC, Raffin et al. 2018): for each dimension of the true state, the
// largest |Pearson correlation| with any learned dimension; `mean` is their mean, 1 when every true
// dimension is some learned one up to scale and shift.
struct GroundTruthCorrelation {
  std::vector<double> per_dimension;
  double mean = 0.0;
};
GroundTruthCorrelation ground_truth_correlation(const torch::Tensor& learned, const torch::Tensor& truth);

// KNN-MSE (Lesort et al. 2017): for `samples` observations drawn with `seed` (0: every one), the k
// nearest others in the learned space, and the mean squared distance between their true states and
// the observation's. Low when neighbours in the learned space are neighbours in the world.
double knn_mse(const torch::Tensor& learned, const torch::Tensor& truth, std::int64_t k = 5,
               std::int64_t samples = 0, std::uint64_t seed = 0);

// ------------------------------------------------------------------------------------- the model
struct SrlOptions {
  // The objectives, any mix (Raffin et al. 2018 compare them alone and combined):
  //   autoencoder  −log p(o|s) − log p(o'|s'): s must let a decoder redraw the frames;
  //   vae          the same with q(s|o) a Normal and β·D_KL[q(s|o)||N(0, I)] per frame (β-VAE);
  //   forward      −log p(s'|s, a): the next state predictable from the state and the action;
  //   inverse      −log p(a|s, s'): the action recoverable from two states;
  //   reward       −log p(r|s, s'): the reward recoverable from two states;
  //   priors       Jonschkowski & Brock's four robotic priors (above);
  //   e2c          Embed to Control (Watter et al. 2015): a VAE whose latent moves locally linearly,
  //                ŝ' ~ T(ŝ'|o, a) = N(Aμ + Ba + c, AΣAᵀ) with A = I + vrᵀ and (v, r, B, c) = h(μ) for
  //                q(s|o) = N(μ, Σ); it redraws o from s and o' from ŝ', and pulls T toward q(s'|o'):
  //                −log p(o|s) + D_KL[q(s|o)||N(0, I)] + E_T[−log p(o'|ŝ')] + λ·D_KL[T||q(s'|o')].
  TORCH_ARG(std::vector<std::string>, losses) = std::vector<std::string>{"autoencoder"};
  TORCH_ARG(std::vector<double>, weights) = {};  // one per loss; empty: each 1
  TORCH_ARG(std::int64_t, state_dim) = 8;
  TORCH_ARG(double, beta) = 1.0;  // vae's KL weight
  TORCH_ARG(std::int64_t,
            hidden) = 64;  // the forward, inverse, reward and E2C transition models' hidden layers
  TORCH_ARG(double, e2c_lambda) = 0.25;  // λ, E2C's weight on D_KL[T(ŝ'|o, a)||q(s'|o')]
};

// One encoder φ for every objective: the World Models V (four 4×4 stride-2 convolutions, rl/world_model.h)
// on 64×64 frame stacks, its mean as the state (a sample of it for vae), and its decoder for the
// reconstructions; on float32 vector observations an MLP (two hidden layers of `hidden`), without
// reconstruction (ICM's features on a state env), each bounded coordinate scaled to [−1, 1]. The
// objective is one prob formula over a batch Dict (batch()): o, o_next float [B, C, 64, 64] in [0, 1],
// a (Discrete: int64 [B]; Box: float [B, k]), r float [B, 1].
class SrlModelImpl : public torch::nn::Module {
 public:
  // observations: uint8 [64, 64, C] (envs::pixel_observations with size 64).
  SrlModelImpl(const envs::Space& observations, const envs::Space& actions, SrlOptions options = {});
  const SrlOptions& options() const { return o_; }

  // The weighted sum of the chosen objectives, averaged over the batch, as a formula.
  const prob::Loss& objective() const { return objective_; }
  // Each chosen objective alone (for logging), by name.
  const std::vector<std::pair<std::string, prob::Loss>>& terms() const { return terms_; }

  // Transitions as the Dict the objective reads: frames uint8 [B, 64, 64, C], actions as the
  // action space gives them, rewards [B].
  prob::Dict batch(const torch::Tensor& obs, const torch::Tensor& next_obs, const torch::Tensor& actions,
                   const torch::Tensor& rewards) const;
  // Frames are standardised per pixel before φ reads them and the decoder redraws them: (x − mean) /
  // max(sd, 0.1) over the training frames, which fit_frames sets (train_srl calls it; until then
  // mean 0, sd 1). A picture that is mostly background (pixel Pendulum: a thin rod on white) otherwise
  // varies so little at φ's input that its state hardly moves, and reconstruction settles on the
  // mean image; standardised, the pixels the rod sweeps carry the input and the loss.
  void fit_frames(const torch::Tensor& frames);
  // φ(o) for frames uint8 [B, 64, 64, C]: q(s|o)'s mean, [B, state_dim], without gradients.
  torch::Tensor encode(const torch::Tensor& frames);
  // p(o|s)'s mean as frames uint8 [B, 64, 64, C] (autoencoder and vae).
  torch::Tensor decode(const torch::Tensor& states);
  // E2C's locally linear step from frames o (float, as batch() gives them) and actions a: T(ŝ'|o, a)'s
  // mean [B, d] and the lower Cholesky factor of its covariance AΣAᵀ [B, d, d].
  std::pair<torch::Tensor, torch::Tensor> e2c_transition(const torch::Tensor& o, const torch::Tensor& a);
  // ||s + f(s, a) − φ(o')||² per transition of a batch() (the forward model's error, no gradients):
  // ICM's curiosity.
  torch::Tensor forward_error(const prob::Dict& batch);

 private:
  torch::Tensor action_features(const torch::Tensor& a) const;
  torch::Tensor state_of(const torch::Tensor& o);       // φ with gradients, of batch()'s o
  torch::Tensor input(const torch::Tensor& obs) const;  // observations as batch() gives them

  SrlOptions o_;
  std::int64_t action_size_ = 0;  // classes of a Discrete space, else the Box's size
  bool discrete_ = true;
  bool vector_ = false;  // float32 vector observations: an MLP φ, no reconstruction
  std::int64_t observation_size_ = 0;
  torch::Tensor input_offset_, input_scale_;  // vector observations: the Box's bounds to [−1, 1]
  torch::Tensor frame_mean_, frame_scale_;    // frames: buffers [1, C, 64, 64], fit_frames()
  ConvVae vae_{nullptr};
  torch::nn::Sequential mlp_{nullptr};
  torch::nn::Sequential forward_{nullptr}, inverse_{nullptr}, reward_{nullptr}, transition_{nullptr};
  prob::Loss objective_{0.0};
  std::vector<std::pair<std::string, prob::Loss>> terms_;
};
TORCH_MODULE(SrlModel);

// The objectives SrlOptions::losses knows.
const std::vector<std::string>& srl_loss_names();

// ---------------------------------------------------------------------------------- data, training
// A random policy's experience in a pixel env, each frame stored once: transition i goes from
// frames[from[i]] to frames[from[i] + 1] with actions[i] and rewards[i]; states[k] is the true state
// behind frames[k] (info["state"]), episode[k] its episode.
struct SrlData {
  torch::Tensor frames;   // uint8 [M, 64, 64, C]
  torch::Tensor states;   // float [M, m]
  torch::Tensor episode;  // int64 [M]
  torch::Tensor from;     // int64 [N]
  torch::Tensor actions;  // int64 [N] or float [N, k]
  torch::Tensor rewards;  // float [N]
  std::int64_t transitions() const { return from.size(0); }
  // The transitions of episodes [first, last) (a held-out split keeps whole episodes).
  SrlData episodes(std::int64_t first, std::int64_t last) const;
};
// The policy that drives collection: an action for the true state behind the frame (info["state"]).
using SrlBehaviour = std::function<torch::Tensor(const torch::Tensor& state)>;
// `steps` transitions; the env (a factory of pixel observations with info["state"]) resets with seeds
// seed, seed + 1, ... so the same seed gives the same data. Actions are uniformly random, or, with a
// behaviour, its action except for a random one with probability `epsilon` at each step (the S-RL
// Toolbox's data from a trained policy: a random policy never leaves the start of some tasks).
SrlData collect_srl_data(const envs::EnvFactory& factory, std::int64_t steps, std::uint64_t seed,
                         const SrlBehaviour& behaviour = {}, double epsilon = 1.0);

struct SrlTrainOptions {
  TORCH_ARG(std::int64_t, epochs) = 10;
  TORCH_ARG(std::int64_t, batch_size) = 128;
  TORCH_ARG(double, learning_rate) = 1e-3;
  TORCH_ARG(std::uint64_t, seed) = 0;
};
// Adam on the model's objective over shuffled minibatches of transitions; the mean objective of each
// epoch, in order.
// on_epoch (optional) hears each epoch's number (from 1) and mean objective as it ends.
std::vector<double> train_srl(SrlModel& model, const SrlData& data, const SrlTrainOptions& options,
                              const std::function<void(std::int64_t, double)>& on_epoch = {});
// φ of every frame, in batches: [M, state_dim].
torch::Tensor encode_frames(SrlModel& model, const torch::Tensor& frames);

// An agent's view through a learned state: the pixel env's frame stack becomes φ(o), float32
// [state_dim] (the encoder frozen; info["state"] passes through). One model serves every copy of the
// env (vector envs): encoding runs without gradients.
class LearnedState final : public envs::Wrapper {
 public:
  LearnedState(std::unique_ptr<envs::Env> env, SrlModel model);
  envs::ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  envs::StepResult step(const torch::Tensor& action) override;
  const envs::Space& observation_space() const override { return space_; }
  std::string name() const override { return wrap_name("LearnedState"); }

 private:
  SrlModel model_;
  envs::Space space_;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
