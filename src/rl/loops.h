// The training loops, written once. An agent supplies what is its own — how it acts, what it stores,
// its update — and the loop does the rest in the same order for every agent: the env's seeding and
// resets, step counting, the train_freq / gradient_steps / target-update cadence, rollouts on vector
// envs, and one callback per env step (which may stop training).
//
//   off-policy (DQN, SAC, TD3):               on-policy (PPO, A2C):
//     act -> step -> store -> count             repeat: n_steps on each of N envs -> update(rollout)
//     every train_freq: gradient_steps updates
//     every target_update_interval: target sync
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/export.h"
#include "envs/env.h"
#include "envs/vector.h"
#include "rl/advantage.h"
#include "rl/agent.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

// What a loop advances: the agent's step count and its record, which the agent owns.
struct LoopState {
  Agent& agent;
  std::int64_t& num_timesteps;
  Logger& logger;
};

// The off-policy cadence, in env steps (SB3's names).
struct OffPolicySchedule {
  std::int64_t learning_starts = 100;
  std::int64_t train_freq = 4;
  std::int64_t gradient_steps = 1;
  std::int64_t target_update_interval = 10'000;
  std::int64_t min_replay = 1;  // transitions stored before updating (a resumed run refills its buffer)
};

struct OffPolicyHooks {
  // Before each step, with the step count and the schedules' horizon: ε, β and the like.
  std::function<void(std::int64_t step, std::int64_t horizon)> schedule;
  std::function<torch::Tensor(const torch::Tensor& obs)> explore;  // the behaviour policy's action
  std::function<void(const torch::Tensor& obs)> episode_start;     // optional: the first obs of an episode
  // Stores (obs, action, step.reward, step.obs, step.terminated, step.truncated).
  std::function<void(const torch::Tensor& obs, const torch::Tensor& action, const envs::StepResult& step)>
      store;
  std::function<std::int64_t()> stored;                   // transitions in the replay memory
  std::function<std::map<std::string, double>()> update;  // one gradient step on a sampled minibatch
  std::function<void()> update_target;  // optional: agents that update targets per gradient step do it there
};

// Steps `env` until num_timesteps reaches total (or a callback stops it). `reset_seed` seeds the first
// reset (none: the env continues where it was).
void off_policy_loop(LoopState state, envs::Env& env, std::optional<std::uint64_t> reset_seed,
                     const OffPolicySchedule& schedule, const OffPolicyHooks& hooks, std::int64_t total,
                     std::int64_t horizon, Callback& callback);

// Offline (batch) learning: no env, `update` draws its own minibatch from a fixed dataset. A step is
// a gradient step: num_timesteps counts them, and each is one callback (StepInfo::result is null), so
// periodic evaluation and checkpoints work as online.
void offline_loop(LoopState state, const std::function<std::map<std::string, double>()>& update,
                  std::int64_t total, Callback& callback);

// One rollout of T steps on N envs, as collected (observations as the networks see them).
struct RolloutBatch {
  torch::Tensor obs;       // [T, N, *obs_shape] float32
  torch::Tensor actions;   // [T, N] int64 or [T, N, k] float32, as sampled (unclipped)
  torch::Tensor log_prob;  // [T, N]: log π_old(a|s)
  Rollout rollout;         // rewards, values, terminated, truncated, valid: [T, N]
  torch::Tensor last_obs;  // [N, *obs_shape]: after the rollout, to bootstrap from
};

struct OnPolicyHooks {
  // Observations [N, ...] from the vector env as the networks see them (running normalisation
  // updates here), and rewards [N] likewise, with which envs just ended an episode.
  std::function<torch::Tensor(const torch::Tensor& obs)> observe;
  std::function<torch::Tensor(const torch::Tensor& reward, const torch::Tensor& done)> reward;
  // For observations [N, ...]: sampled actions (to store), the same as the env takes them (clipped),
  // log π(a|s) and V(s).
  struct Action {
    torch::Tensor action, env_action, log_prob, value;
  };
  std::function<Action(const torch::Tensor& obs)> act;
  // The update on a whole rollout, with the fraction of the schedules' horizon done.
  std::function<std::map<std::string, double>(const RolloutBatch& batch, double progress)> update;
};

// The vector env's state between calls (a resumed or continued learn() picks up mid-episode).
struct OnPolicyState {
  bool started = false;
  torch::Tensor obs;        // [N, ...] as the networks see them
  torch::Tensor last_done;  // [N] bool: which envs autoreset on the next step
};

// Collects n_steps on each env of `envs`, then updates, until num_timesteps reaches total. Each env
// step is one timestep and one callback; a rollout a callback cut short is not learned from.
void on_policy_loop(LoopState state, envs::VectorEnv& envs, OnPolicyState& vec, std::uint64_t reset_seed,
                    std::int64_t n_steps, const OnPolicyHooks& hooks, std::int64_t total,
                    std::int64_t horizon, Callback& callback);

}  // namespace dojo::rl

DOJO_PUBLIC_END
