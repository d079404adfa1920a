// Policy evaluation shared by every agent (SB3's evaluate_policy): whole episodes on a separate env.
#pragma once
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "core/export.h"
#include "envs/env.h"
#include "rl/agent.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct EvalResult {
  double mean = 0.0;
  double std = 0.0;  // population standard deviation, as numpy's default
  std::vector<double> returns;
  std::vector<std::int64_t> lengths;
};

// Called after each reset (step 0) and after each step, e.g. to record the env's frames.
using EvalObserver = std::function<void(std::int64_t episode, std::int64_t step, const envs::Env& env)>;

// The mean and population standard deviation of `v` (NaN, NaN when empty).
std::pair<double, double> mean_std(const std::vector<double>& v);

// An action for an observation.
using Policy = std::function<torch::Tensor(const torch::Tensor& obs)>;

// Evaluation's own cap on an episode, whatever the env's TimeLimit: ALE's 108,000 frames. A policy
// that never ends an episode on an env without a limit (a custom one) would otherwise hang the run.
inline constexpr std::int64_t kEvalMaxEpisodeSteps = 108'000;

// Runs n_episodes to termination, truncation or max_episode_steps steps; the env continues its own
// seeded generator.
EvalResult evaluate(const Policy& policy, envs::Env& env, std::int64_t n_episodes,
                    const EvalObserver& observe = {}, std::int64_t max_episode_steps = kEvalMaxEpisodeSteps);
// The agent's greedy (deterministic) or exploring actions.
EvalResult evaluate(Agent& agent, envs::Env& env, std::int64_t n_episodes, bool deterministic = true,
                    const EvalObserver& observe = {}, std::int64_t max_episode_steps = kEvalMaxEpisodeSteps);

}  // namespace dojo::rl

DOJO_PUBLIC_END
