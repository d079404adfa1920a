#include "rl/loops.h"

#include <torch/torch.h>

#include "core/distributed.h"

namespace dojo::rl {

namespace {

// One vector step's figures, a row per env: reward, terminated, truncated and, where an episode
// ended, its return and length: what the callbacks see, and what ranks send each other.
torch::Tensor step_figures(const envs::VecStep& step) {
  return torch::stack(
      {step.reward.to(torch::kDouble), step.terminated.to(torch::kDouble), step.truncated.to(torch::kDouble),
       step.episode_return.to(torch::kDouble), step.episode_length.to(torch::kDouble)},
      1);
}

// One callback step per env step (rows of step_figures), each counting one timestep; false once a
// callback stops training (the rest are not counted).
bool step_callbacks(LoopState& s, const torch::Tensor& figures, std::int64_t total, Callback& callback) {
  const auto f = figures.contiguous();
  const auto* row = f.data_ptr<double>();
  for (std::int64_t i = 0; i < f.size(0); ++i, row += 5) {
    envs::StepResult one;
    one.reward = row[0];
    one.terminated = row[1] != 0.0;
    one.truncated = row[2] != 0.0;
    if (one.done()) {
      one.info["episode_return"] = row[3];
      one.info["episode_length"] = row[4];
    }
    ++s.num_timesteps;
    if (!callback.on_step(s.agent, {s.num_timesteps, total, &one, &s.logger})) return false;
  }
  return true;
}

// Data parallel (DD-PPO): the callbacks of a rollout every rank collected, after the fact. Each rank's
// figures [T, N, 5] go to all; every rank counts the steps of all of them in the order (step, rank,
// env), so num_timesteps is the group's; rank 0's callbacks decide whether training goes on (and at
// which step it stopped), and every rank follows. The policy is the same throughout a rollout, so an
// evaluation at its end sees the agent a callback mid-rollout would.
bool replay_callbacks(LoopState& s, const torch::Tensor& figures, std::int64_t total, Callback& callback) {
  auto* group = core::process_group();
  const auto world = group->size();
  std::vector<torch::Tensor> all{torch::zeros({world, figures.size(0), figures.size(1), 5}, torch::kDouble)};
  all[0][group->rank()] = figures;
  group->allreduce_sum(all);
  bool go_on = true;
  for (std::int64_t t = 0; t < figures.size(0) && go_on; ++t) {
    for (int r = 0; r < world && go_on; ++r) go_on = step_callbacks(s, all[0][r][t], total, callback);
  }
  std::vector<torch::Tensor> decision{
      torch::tensor({go_on ? 1.0 : 0.0, static_cast<double>(s.num_timesteps)}, torch::kDouble)};
  group->broadcast(decision);
  s.num_timesteps = static_cast<std::int64_t>(decision[0][1].item<double>());
  return decision[0][0].item<double>() != 0.0;
}

}  // namespace

void off_policy_loop(LoopState s, envs::Env& env, std::optional<std::uint64_t> reset_seed,
                     const OffPolicySchedule& schedule, const OffPolicyHooks& h, std::int64_t total,
                     std::int64_t horizon, Callback& callback) {
  callback.on_start(s.agent, total);
  auto obs = env.reset(reset_seed).obs;
  if (h.episode_start) h.episode_start(obs);
  while (s.num_timesteps < total) {
    h.schedule(s.num_timesteps, horizon);
    const auto action = h.explore(obs);
    const auto step = env.step(action);

    // Store the transition; a truncated episode keeps its real s' and still bootstraps from it.
    h.store(obs, action, step);
    obs = step.done() ? env.reset().obs : step.obs;
    if (step.done() && h.episode_start) h.episode_start(obs);
    ++s.num_timesteps;

    // Learn from sampled minibatches every train_freq steps, once learning has started.
    if (s.num_timesteps > schedule.learning_starts && h.stored() >= schedule.min_replay &&
        s.num_timesteps % schedule.train_freq == 0) {
      for (std::int64_t g = 0; g < schedule.gradient_steps; ++g) s.logger.record(h.update());
    }
    // Sync the target network every target_update_interval env steps.
    if (h.update_target && s.num_timesteps % schedule.target_update_interval == 0) h.update_target();

    if (!callback.on_step(s.agent, {s.num_timesteps, total, &step, &s.logger})) break;
  }
  callback.on_end(s.agent);
}

void offline_loop(LoopState s, const std::function<std::map<std::string, double>()>& update,
                  std::int64_t total, Callback& callback) {
  callback.on_start(s.agent, total);
  while (s.num_timesteps < total) {
    s.logger.record(update());
    ++s.num_timesteps;
    if (!callback.on_step(s.agent, {s.num_timesteps, total, nullptr, &s.logger})) break;
  }
  callback.on_end(s.agent);
}

void on_policy_loop(LoopState s, envs::VectorEnv& envs, OnPolicyState& vec, std::uint64_t reset_seed,
                    std::int64_t n_steps, const OnPolicyHooks& h, std::int64_t total, std::int64_t horizon,
                    Callback& callback) {
  callback.on_start(s.agent, total);
  const auto n = envs.num_envs(), t_max = n_steps;
  if (!vec.started) {
    vec.obs = h.observe(envs.reset(reset_seed)).clone();
    vec.last_done = torch::zeros({n}, torch::kBool);
    vec.started = true;
  }
  std::vector<std::int64_t> obs_shape{t_max, n};
  for (std::int64_t d = 1; d < vec.obs.dim(); ++d) obs_shape.push_back(vec.obs.size(d));
  bool go_on = true;
  while (go_on && s.num_timesteps < total) {
    // Collect n_steps × n_envs steps with the current policy.
    RolloutBatch b;
    b.obs = torch::empty(obs_shape, torch::kFloat32);
    b.log_prob = torch::empty({t_max, n});
    b.rollout =
        Rollout{torch::zeros({t_max, n}), torch::empty({t_max, n}), torch::zeros({t_max, n}, torch::kBool),
                torch::zeros({t_max, n}, torch::kBool), torch::empty({t_max, n}, torch::kBool)};
    auto& r = b.rollout;
    const auto figures =
        core::dist_world_size() > 1 ? torch::empty({t_max, n, 5}, torch::kDouble) : torch::Tensor();
    std::int64_t t = 0;
    for (; t < t_max && go_on; ++t) {
      const auto a = h.act(vec.obs);
      if (!b.actions.defined()) {
        auto shape = a.action.sizes().vec();
        shape.insert(shape.begin(), t_max);
        b.actions = torch::empty(shape, a.action.options());
      }
      b.obs[t] = vec.obs.to(torch::kFloat32);
      b.actions[t] = a.action;
      b.log_prob[t] = a.log_prob;
      r.values[t] = a.value;
      r.valid[t] = ~vec.last_done;  // an autoreset step is not a transition
      const auto& step = envs.step(a.env_action);
      vec.last_done = step.terminated | step.truncated;
      r.rewards[t] = h.reward(step.reward, vec.last_done);
      r.terminated[t] = step.terminated;
      r.truncated[t] = step.truncated;
      vec.obs = h.observe(step.obs).clone();
      // One callback step per env step, with the episode's statistics where it ended; data
      // parallel, after the rollout, for every rank's steps.
      if (figures.defined()) {
        figures[t] = step_figures(step);
      } else {
        go_on = step_callbacks(s, step_figures(step), total, callback);
      }
    }
    if (figures.defined() && !replay_callbacks(s, figures, total, callback)) break;
    if (t < t_max) break;  // stopped mid-rollout: no update on a partial one
    b.last_obs = vec.obs;
    const double progress =
        std::min(1.0, static_cast<double>(s.num_timesteps) / static_cast<double>(horizon));
    s.logger.record(h.update(b, progress));
  }
  callback.on_end(s.agent);
}

}  // namespace dojo::rl
