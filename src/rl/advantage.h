// Returns and advantages for policy-gradient agents.
//
// Rollouts come from vector envs with Gymnasium's next-step autoreset (envs/vector.h), laid out
// [T, N] by time and env. Entry t holds the observation the agent acted on, the reward and flags of
// that step and the critic's value of the observation. The entry after an episode's last step is
// the autoreset step: its observation is the final observation of that episode, so its value is what
// a truncated episode bootstraps from, and the entry itself is not a transition (valid = false).
#pragma once
#include <torch/types.h>

#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

// G_t = r_t + γ G_{t+1} over one episode's rewards (REINFORCE's returns), with G_T = `bootstrap`: 0
// for an episode that terminated, an estimate of V(s_T) for one a time limit cut short.
std::vector<double> discounted_returns(const std::vector<double>& rewards, double gamma,
                                       double bootstrap = 0.0);

struct Rollout {
  torch::Tensor rewards;     // [T, N] float
  torch::Tensor values;      // [T, N] float: V(obs_t)
  torch::Tensor terminated;  // [T, N] bool
  torch::Tensor truncated;   // [T, N] bool
  torch::Tensor valid;       // [T, N] bool: false on autoreset steps
};

struct Advantages {
  torch::Tensor advantages;  // [T, N], 0 where not valid
  torch::Tensor returns;     // [T, N]: advantages + values (the critic's targets)
};

// Generalised advantage estimation (Schulman et al. 2016):
//   δ_t = r_t + γ V_{t+1} (1 − terminated_t) − V_t,   A_t = δ_t + γλ A_{t+1}
// The sum stops at an episode's end: a terminated step bootstraps from nothing, a truncated one from
// the value of its final observation (V_{t+1}, the autoreset entry's). last_values [N] is V of the
// observations after the rollout. λ = 1 gives discounted returns minus V; λ = 0 one-step TD errors.
Advantages compute_gae(const Rollout& rollout, const torch::Tensor& last_values, double gamma, double lambda);

}  // namespace dojo::rl

DOJO_PUBLIC_END
