#include "rl/dqn.h"

#include <torch/torch.h>

#include <sstream>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/error.h"
#include "core/seed.h"
#include "nn/optim.h"
#include "rl/loops.h"
#include "rl/networks.h"

namespace dojo::rl {

void DQNOptions::validate() const { core::check_options(*this); }

void DQN::check_env(const DQNOptions& o, const envs::Env& env) {
  if (!std::get_if<envs::Discrete>(&env.action_space())) {
    throw Error("dqn needs a Discrete action space; " + env.id() + " has " +
                envs::to_string(env.action_space()));
  }
  // DQN's MLP takes flat observations only: a grid or frame stack wants a CNN (network: minatar/nature).
  const auto* box = std::get_if<envs::Box>(&env.observation_space());
  if (o.network() == "mlp" && (!box || box->shape.size() != 1)) {
    throw Error("dqn's mlp network needs a flat Box observation space; " + env.id() + " has " +
                envs::to_string(env.observation_space()) +
                " (network: minatar or nature for grids and frames)");
  }
  check_trunk("dqn", o.network(), env.observation_space());
}

DQN::DQN(envs::EnvFactory env, DQNOptions options, std::uint64_t seed)
    : Agent(core::derive_seed(seed, "agent")),
      env_(env()),
      opts_((options.validate(), check_env(options, *env_), std::move(options))),
      seed_(seed),
      action_space_(std::get<envs::Discrete>(env_->action_space())),
      // With frame replay the transition buffer is unused: one slot keeps it valid.
      replay_(opts_.network() == "nature" ? 1 : opts_.buffer_size(),
              std::get<envs::Box>(env_->observation_space()).shape,
              std::get<envs::Box>(env_->observation_space()).dtype, {}, torch::kLong),
      exploration_{opts_.exploration_initial_eps(), opts_.exploration_final_eps(), 1.0},
      eval_rng_(core::derive_seed(seed, "eval_exploration")),
      epsilon_(opts_.exploration_initial_eps()),
      beta_(opts_.prioritized_replay_beta0()) {
  device_ = core::device(opts_.device());
  const auto& obs = std::get<envs::Box>(env_->observation_space());
  if (opts_.network() == "nature")
    frames_ = std::make_unique<FrameReplay>(opts_.buffer_size(), obs.shape[0], obs.shape[1], obs.shape[2]);
  if (opts_.prioritized_replay()) {
    per_ = std::make_unique<PrioritizedSampler>(
        opts_.buffer_size(),
        PrioritizedOptions{.alpha = opts_.prioritized_replay_alpha(),
                           .eps = opts_.prioritized_replay_eps(),
                           .batch_weights = opts_.prioritized_replay_weights() == "batch"});
  }
  auto build = [&] {
    return q_network(make_trunk("dqn", opts_.network(), obs, opts_.net_arch(), opts_.activation()),
                     action_space_.n, opts_.dueling());
  };
  core::with_seed(core::derive_seed(seed, "network"), [&] {
    q_net_ = build();
    target_net_ = build();
  });
  // Initialised on the CPU (the same weights for a seed on any device), then moved.
  q_net_->to(device_);
  target_net_->to(device_);
  for (auto& p : target_net_->parameters()) p.requires_grad_(false);
  update_target();
  nn::OptimizerOptions o;
  o.name = opts_.optimizer();
  o.learning_rate = opts_.learning_rate();
  o.eps = opts_.optimizer_eps();
  o.alpha = opts_.rmsprop_alpha();
  o.centered = opts_.rmsprop_centered();
  o.momentum = opts_.rmsprop_momentum();
  optimizer_ = nn::make_optimizer(q_net_->parameters(), o);
}

std::int64_t DQN::greedy_action(const torch::Tensor& obs) {
  torch::InferenceMode guard;
  return q_net_->forward(obs.unsqueeze(0).to(device_)).argmax(1).item<std::int64_t>() + action_space_.start;
}

torch::Tensor DQN::act_batch(const torch::Tensor& obs, bool deterministic) {
  auto actions = torch::empty({obs.size(0)}, torch::kLong);
  for (std::int64_t i = 0; i < obs.size(0); ++i) actions[i] = act(obs[i], deterministic);
  return actions;
}

torch::Tensor DQN::act(const torch::Tensor& obs, bool deterministic) {
  std::uniform_real_distribution<double> uniform;
  if (!deterministic) {
    if (uniform(rng_) < epsilon_) return action_space_.sample(rng_);
  } else if (opts_.eval_exploration_eps() > 0 && uniform(eval_rng_) < opts_.eval_exploration_eps()) {
    return action_space_.sample(eval_rng_);
  }
  return torch::scalar_tensor(greedy_action(obs), torch::kLong);
}

void DQN::learn(std::int64_t total_timesteps, Callback& callback) {
  OffPolicyHooks h;
  h.schedule = [&](std::int64_t step, std::int64_t horizon_steps) {
    // ε annealed linearly (see exploration_at); β (for prioritized replay) over all of training.
    const double progress = std::min(1.0, static_cast<double>(step) / static_cast<double>(horizon_steps));
    epsilon_ = exploration_at(step, horizon_steps);
    beta_ = opts_.prioritized_replay_beta0() + progress * (1.0 - opts_.prioritized_replay_beta0());
    logger_.record("exploration", epsilon_);
  };
  h.explore = [&](const torch::Tensor& obs) { return act(obs, /*deterministic=*/false); };
  if (frames_) h.episode_start = [&](const torch::Tensor& obs) { frames_->start(obs); };
  h.store = [&](const torch::Tensor& obs, const torch::Tensor& action, const envs::StepResult& step) {
    const auto slot = frames_
                          ? frames_->add(action.item<std::int64_t>(), step.reward, step.obs, step.terminated)
                          : replay_.add(obs, action, step.reward, step.obs, step.terminated, step.truncated);
    if (per_) per_->added(slot);
  };
  h.stored = [&] { return frames_ ? frames_->size() : replay_.size(); };
  h.update = [&] { return update(sample_batch()); };
  h.update_target = [&] { update_target(); };

  OffPolicySchedule schedule{
      opts_.learning_starts(), opts_.train_freq(), opts_.gradient_steps(), opts_.target_update_interval(),
      // A resumed run starts with an empty buffer: refill learning_starts first.
      std::max<std::int64_t>(1, std::min(opts_.learning_starts(), opts_.buffer_size()))};
  // The first call seeds the env; a resumed agent restarts it from a seed derived from the step count.
  std::optional<std::uint64_t> reset_seed;
  if (!env_started_) reset_seed = core::derive_seed(seed_, "env", static_cast<std::uint64_t>(num_timesteps_));
  env_started_ = true;
  off_policy_loop({*this, num_timesteps_, logger_}, *env_, reset_seed, schedule, h, total_timesteps,
                  horizon(total_timesteps), callback);
}

double DQN::exploration_at(std::int64_t step, std::int64_t total_timesteps) const {
  // ε anneals over exploration_steps, or the first exploration_fraction of the run, counted from
  // the first step (SB3) or from learning_starts (DeepMind, Dopamine, MinAtar).
  const double length = opts_.exploration_steps() > 0
                            ? static_cast<double>(opts_.exploration_steps())
                            : opts_.exploration_fraction() * static_cast<double>(total_timesteps);
  const std::int64_t from = opts_.exploration_after_learning_starts() ? opts_.learning_starts() : 0;
  return exploration_(length > 0 ? static_cast<double>(step - from) / length : 1.0);
}

Batch DQN::sample_batch() {
  const NStep nstep{opts_.n_step(), opts_.gamma()};
  return per_ ? per_->sample(memory(), opts_.batch_size(), beta_, rng_, nstep)
              : memory().sample(opts_.batch_size(), rng_, nstep);
}

std::map<std::string, double> DQN::update(const Batch& batch) {
  const auto b = batch.to(device_);
  // y = R + γ^m (1 − terminated) Q_target(s', argmax_a' Q(s', a'))   [Double DQN]
  //   or R + γ^m (1 − terminated) max_a' Q_target(s', a')            [DQN]
  torch::Tensor td_target;
  {
    torch::NoGradGuard no_grad;
    const auto next_q = target_net_->forward(b.next_obs);  // [B, A]
    const auto next_v = opts_.double_q()
                            ? next_q.gather(1, q_net_->forward(b.next_obs).argmax(1, true)).squeeze(1)
                            : std::get<0>(next_q.max(1));
    const auto discount =
        b.steps.defined() ? torch::pow(opts_.gamma(), b.steps) : torch::full_like(b.reward, opts_.gamma());
    td_target = b.reward + discount * (1.0 - b.terminated) * next_v;
  }
  const auto q = q_net_->forward(b.obs).gather(1, b.action.unsqueeze(1)).squeeze(1);  // Q(s, a): [B]
  // Huber loss = the paper's clipping of the TD error to [-1, 1]; prioritized batches weight each
  // transition's loss by its importance weight.
  const auto per_sample = opts_.loss() == "huber" ? torch::smooth_l1_loss(q, td_target, at::Reduction::None)
                                                  : torch::mse_loss(q, td_target, at::Reduction::None);
  const auto loss = b.weight.defined() ? (per_sample * b.weight).mean() : per_sample.mean();
  const double loss_value = gradient_step(*optimizer_, loss, opts_.max_grad_norm());
  if (per_ && b.weight.defined()) per_->update(b.slots, q.detach() - td_target);
  return {{"loss", loss_value}, {"q_mean", q.detach().mean().item<double>()}};
}

void DQN::update_target() { soft_update(*target_net_, *q_net_, opts_.tau()); }

void DQN::save_state(core::CheckpointWriter& w) const {
  w.put("options", core::options_yaml(opts_));
  w.put("q_net", *q_net_);
  w.put("target_net", *target_net_);
  w.put("optimizer", *optimizer_);
  w.put("epsilon", epsilon_);
}

void DQN::load_state(core::CheckpointReader& r) {
  r.get("q_net", *q_net_);
  r.get("target_net", *target_net_);
  r.get("optimizer", *optimizer_);
  epsilon_ = r.get_double("epsilon");
}

}  // namespace dojo::rl
