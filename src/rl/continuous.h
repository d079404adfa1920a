// What the off-policy actor-critics for Box actions share (SAC and TD3 now, the offline agents next):
// the one place actions are scaled between the policy's [-1, 1] and the env's bounds, the env check,
// twin Q critics, exploration noise and the guard that keeps the critic fixed while the actor learns
// through it.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/export.h"
#include "envs/env.h"
#include "rl/loops.h"
#include "rl/replay.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

// SB3's scale_action / unscale_action: policies act in [-1, 1]^d, the env in [low, high].
class ActionScaler {
 public:
  explicit ActionScaler(const envs::Box& box);
  torch::Tensor to_env(const torch::Tensor& unit) const;     // low + (a + 1)/2 · (high − low)
  torch::Tensor to_unit(const torch::Tensor& action) const;  // 2 (a − low)/(high − low) − 1
  std::int64_t dim() const { return dim_; }

 private:
  std::int64_t dim_;
  torch::Tensor low_, high_;  // float32 [d], CPU
};

// Box actions with finite bounds, a flat Box observation: else a dojo::Error naming the algorithm,
// the env and its spaces.
void check_continuous_env(const std::string& algo, const envs::Env& env);

// Two independent Q-functions of (s, a) (Fujimoto et al. 2018's clipped double Q): each an MLP on the
// concatenated observation and action, net_arch hidden layers, one output.
struct TwinQImpl : torch::nn::Module {
  TwinQImpl(std::int64_t obs_dim, std::int64_t action_dim, const std::vector<std::int64_t>& net_arch,
            const std::string& activation);
  // Q1(s, a) and Q2(s, a): [B] each.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& obs, const torch::Tensor& action);
  torch::Tensor q1(const torch::Tensor& obs, const torch::Tensor& action);
  torch::nn::Sequential net1, net2;
};
TORCH_MODULE(TwinQ);

// Exploration noise added to the policy's [-1, 1] action (SB3's action_noise, RL Zoo's noise_type and
// noise_std): "none", "normal" (independent N(0, σ²) each step) or "ornstein-uhlenbeck" (θ = 0.15,
// dt = 1e-2, reset at each episode's start). Drawn from the agent's generator.
class ActionNoise {
 public:
  ActionNoise(std::string type, double std, std::int64_t dim);
  torch::Tensor sample(std::mt19937_64& rng);  // float32 [d]
  void reset();
  bool active() const { return type_ != "none"; }

 private:
  std::string type_;
  double std_;
  std::vector<double> state_;
};

// The rollout side SAC and TD3 share (SB3's _sample_action): uniform random actions until
// learning_starts (unless the policy explores from the start), then the policy's, plus the exploration
// noise, clipped to [-1, 1]. Replay stores actions in [-1, 1]; the env gets them in its units.
struct ContinuousRollout {
  ContinuousRollout(const ActionScaler& scaler, ActionNoise& noise, ReplayBuffer& replay,
                    std::mt19937_64& rng, const std::int64_t& num_timesteps)
      : scaler(scaler), noise(noise), replay(replay), rng(rng), num_timesteps(num_timesteps) {}
  const ActionScaler& scaler;
  ActionNoise& noise;
  ReplayBuffer& replay;
  std::mt19937_64& rng;
  const std::int64_t& num_timesteps;
  std::int64_t learning_starts = 100;
  bool random_warmup = true;
  std::function<torch::Tensor(const torch::Tensor& obs)> policy;  // one [-1, 1] action, exploring
  std::function<void(std::int64_t step)> before_step;             // optional: gSDE's noise draws
  std::function<std::map<std::string, double>()> update;          // one gradient step
  // The loop's hooks; the returned functions refer to this object, which must outlive the loop.
  OffPolicyHooks hooks();

 private:
  torch::Tensor last_;  // the [-1, 1] action taken last, stored with its transition
};

// The clipped double-Q target both critics regress to (Fujimoto et al. 2018; Haarnoja et al. 2018):
//   y = r + γ (1 − terminated) (min(Q̄_1(s', ã'), Q̄_2(s', ã')) − α log π(ã'|s'))
// TD3 passes no log-prob (α = 0). A truncated transition bootstraps like any other.
torch::Tensor clipped_double_q_target(const torch::Tensor& reward, const torch::Tensor& terminated,
                                      double gamma, const torch::Tensor& next_q1,
                                      const torch::Tensor& next_q2, const torch::Tensor& next_log_prob = {},
                                      double alpha = 0.0);

// TD3's target policy smoothing (Fujimoto et al. 2018): ã' = clip(μ̄(s') + clip(ε, −c, c), −1, 1), for
// noise ε already scaled by its std (TD3's and TD3+BC's critics).
torch::Tensor smoothed_target_action(torch::nn::Sequential& actor_target, const torch::Tensor& next_obs,
                                     const torch::Tensor& eps, double noise_clip);

// SAC's temperature loss (Haarnoja et al. 2018, eq. 18 on log α): −log α · (log π(ã|s) + H̄), averaged;
// its gradient raises α while the policy's entropy is below the target H̄ and lowers it above.
torch::Tensor entropy_coef_loss(const torch::Tensor& log_ent_coef, const torch::Tensor& log_prob,
                                double target_entropy);

// Standard normal draws from `rng` as a float32 tensor of `sizes` (on the CPU): the agent's own
// stream, so the same seed gives the same noise on any device.
torch::Tensor standard_normal(const std::vector<std::int64_t>& sizes, std::mt19937_64& rng);

// Stops gradients from reaching `module`'s parameters while it lives: the actor's loss goes through
// the critic, and the critic's weight gradients would be computed for nothing.
class FrozenParameters {
 public:
  explicit FrozenParameters(torch::nn::Module& module);
  ~FrozenParameters();
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  std::vector<torch::Tensor> params_;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
