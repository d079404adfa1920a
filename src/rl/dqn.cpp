#include "rl/dqn.h"

#include <torch/torch.h>

#include <sstream>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/error.h"
#include "nn/mlp.h"
#include "nn/optim.h"

namespace dojo::rl {

namespace {

void require(bool ok, const std::string& field, double value, const std::string& expected) {
  if (!ok) throw Error(field + " = " + fmt::format("{:g}", value) + ": expected " + expected);
}

const envs::Discrete& discrete_actions(const envs::Env& env) {
  const auto* d = std::get_if<envs::Discrete>(&env.action_space());
  if (!d) {
    throw Error("dqn needs a Discrete action space; " + env.id() + " has " +
                envs::to_string(env.action_space()));
  }
  return *d;
}

const envs::Box& box_observations(const envs::Env& env, const std::string& network) {
  const auto* b = std::get_if<envs::Box>(&env.observation_space());
  const std::size_t dims = network == "mlp" ? 1 : 3;
  if (!b || b->shape.size() != dims) {
    throw Error("dqn's " + network + " network needs " +
                (dims == 1 ? std::string("a flat Box") : std::string("an [H, W, C] Box")) +
                " observation space; " + env.id() + " has " + envs::to_string(env.observation_space()));
  }
  return *b;
}

// The Dueling head (Wang et al. 2016): separate value and advantage streams on the shared features,
// recombined as Q(s, a) = V(s) + A(s, a) − mean_a' A(s, a'), the mean making V and A identifiable.
struct DuelingImpl : torch::nn::Module {
  DuelingImpl(std::int64_t features, std::int64_t hidden, std::int64_t actions)
      : value(register_module("value", stream(features, hidden, 1))),
        advantage(register_module("advantage", stream(features, hidden, actions))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    const auto a = advantage->forward(x);
    return value->forward(x) + a - a.mean(1, /*keepdim=*/true);
  }
  // features -> hidden ReLU -> out, or a single linear layer when hidden is 0.
  static torch::nn::Sequential stream(std::int64_t features, std::int64_t hidden, std::int64_t out) {
    if (hidden == 0) return torch::nn::Sequential(torch::nn::Linear(features, out));
    return torch::nn::Sequential(torch::nn::Linear(features, hidden), torch::nn::ReLU(),
                                 torch::nn::Linear(hidden, out));
  }
  torch::nn::Sequential value, advantage;
};
TORCH_MODULE(Dueling);

// A Q-network is a feature trunk and a head: the trunk's output width, and the hidden layer the head
// puts before the action values (0: none).
struct Trunk {
  torch::nn::Sequential layers;
  std::int64_t features, hidden;
};

// MinAtar's network (Young & Tian 2019): [H, W, C] grid -> 16 3×3 filters, stride 1, ReLU -> 128 ReLU
// -> one value per action.
Trunk minatar_trunk(const std::vector<std::int64_t>& shape) {
  const auto h = shape[0], w = shape[1], c = shape[2];
  return {torch::nn::Sequential(torch::nn::Functional([](const torch::Tensor& x) {
                                  return x.permute({0, 3, 1, 2}).to(torch::kFloat32);
                                }),
                                torch::nn::Conv2d(torch::nn::Conv2dOptions(c, 16, 3)), torch::nn::ReLU(),
                                torch::nn::Flatten()),
          16 * (h - 2) * (w - 2), 128};
}

// The Nature DQN (Mnih et al. 2015): [84, 84, k] uint8 frames scaled to [0, 1] -> 32 8×8 filters,
// stride 4 -> 64 4×4, stride 2 -> 64 3×3, stride 1 (ReLU after each) -> 512 ReLU -> one value per action.
Trunk nature_trunk(const std::vector<std::int64_t>& shape) {
  auto out = [](std::int64_t n, std::int64_t k, std::int64_t s) { return (n - k) / s + 1; };
  const auto h = out(out(out(shape[0], 8, 4), 4, 2), 3, 1), w = out(out(out(shape[1], 8, 4), 4, 2), 3, 1);
  if (h < 1 || w < 1) {
    throw Error("dqn's nature network needs frames of at least 36×36, got " + std::to_string(shape[0]) + "×" +
                std::to_string(shape[1]));
  }
  return {torch::nn::Sequential(
              torch::nn::Functional([](const torch::Tensor& x) {
                return x.permute({0, 3, 1, 2}).to(torch::kFloat32) / 255.0;
              }),
              torch::nn::Conv2d(torch::nn::Conv2dOptions(shape[2], 32, 8).stride(4)), torch::nn::ReLU(),
              torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 4).stride(2)), torch::nn::ReLU(),
              torch::nn::Conv2d(torch::nn::Conv2dOptions(64, 64, 3).stride(1)), torch::nn::ReLU(),
              torch::nn::Flatten()),
          64 * h * w, 512};
}

// net_arch's hidden layers on a flat observation; the heads sit on the last one.
Trunk mlp_trunk(const envs::Box& obs, const DQNOptions& o) {
  return {nn::mlp_body(obs.numel(), o.net_arch(), o.activation()), o.net_arch().back(), 0};
}

torch::nn::Sequential q_network(const envs::Box& obs, std::int64_t actions, const DQNOptions& o) {
  if (o.network() == "mlp" && !o.dueling())
    return nn::mlp(obs.numel(), o.net_arch(), actions, o.activation());
  auto t = o.network() == "minatar"  ? minatar_trunk(obs.shape)
           : o.network() == "nature" ? nature_trunk(obs.shape)
                                     : mlp_trunk(obs, o);
  if (o.dueling()) {
    t.layers->push_back(Dueling(t.features, t.hidden, actions));
  } else {
    t.layers->extend(*Dueling::Impl::stream(t.features, t.hidden, actions));
  }
  return t.layers;
}

}  // namespace

void DQNOptions::validate() const {
  require(learning_rate_ > 0, "learning_rate", learning_rate_, "> 0");
  require(buffer_size_ > 0, "buffer_size", static_cast<double>(buffer_size_), "> 0");
  require(learning_starts_ >= 0, "learning_starts", static_cast<double>(learning_starts_), ">= 0");
  require(batch_size_ > 0, "batch_size", static_cast<double>(batch_size_), "> 0");
  require(tau_ > 0 && tau_ <= 1, "tau", tau_, "in (0, 1]");
  require(gamma_ >= 0 && gamma_ <= 1, "gamma", gamma_, "in [0, 1]");
  require(train_freq_ > 0, "train_freq", static_cast<double>(train_freq_), "> 0");
  require(gradient_steps_ > 0, "gradient_steps", static_cast<double>(gradient_steps_), "> 0");
  require(target_update_interval_ > 0, "target_update_interval", static_cast<double>(target_update_interval_),
          "> 0");
  require(exploration_fraction_ >= 0 && exploration_fraction_ <= 1, "exploration_fraction",
          exploration_fraction_, "in [0, 1]");
  require(exploration_initial_eps_ >= 0 && exploration_initial_eps_ <= 1, "exploration_initial_eps",
          exploration_initial_eps_, "in [0, 1]");
  require(exploration_final_eps_ >= 0 && exploration_final_eps_ <= 1, "exploration_final_eps",
          exploration_final_eps_, "in [0, 1]");
  require(eval_exploration_eps_ >= 0 && eval_exploration_eps_ <= 1, "eval_exploration_eps",
          eval_exploration_eps_, "in [0, 1]");
  require(exploration_steps_ >= 0, "exploration_steps", static_cast<double>(exploration_steps_),
          ">= 0 (0: exploration_fraction of the run)");
  require(max_grad_norm_ >= 0, "max_grad_norm", max_grad_norm_, ">= 0 (0: no clipping)");
  require(optimizer_eps_ > 0, "optimizer_eps", optimizer_eps_, "> 0");
  require(rmsprop_momentum_ >= 0 && rmsprop_momentum_ < 1, "rmsprop_momentum", rmsprop_momentum_,
          "in [0, 1)");
  require(n_step_ >= 1, "n_step", static_cast<double>(n_step_), ">= 1");
  require(prioritized_replay_alpha_ >= 0, "prioritized_replay_alpha", prioritized_replay_alpha_, ">= 0");
  require(prioritized_replay_beta0_ >= 0 && prioritized_replay_beta0_ <= 1, "prioritized_replay_beta0",
          prioritized_replay_beta0_, "in [0, 1]");
  require(prioritized_replay_eps_ > 0, "prioritized_replay_eps", prioritized_replay_eps_, "> 0");
  if (loss_ != "huber" && loss_ != "mse") throw Error("loss = '" + loss_ + "': expected huber or mse");
  if (prioritized_replay_weights_ != "global" && prioritized_replay_weights_ != "batch") {
    throw Error("prioritized_replay_weights = '" + prioritized_replay_weights_ +
                "': expected global or batch");
  }
  if (optimizer_ != "adam" && optimizer_ != "rmsprop") {
    throw Error("optimizer = '" + optimizer_ + "': expected adam or rmsprop");
  }
  if (net_arch_.empty()) throw Error("net_arch = []: expected at least one hidden layer, e.g. [64, 64]");
  if (network_ != "mlp" && network_ != "minatar" && network_ != "nature") {
    throw Error("network = '" + network_ + "': expected mlp, minatar or nature");
  }
}

DQN::DQN(std::unique_ptr<envs::Env> env, DQNOptions options, std::uint64_t seed)
    : env_(std::move(env)),
      opts_((options.validate(), std::move(options))),
      seed_(seed),
      action_space_(discrete_actions(*env_)),
      // With frame replay the transition buffer is unused: one slot keeps it valid.
      replay_(opts_.network() == "nature" ? 1 : opts_.buffer_size(),
              box_observations(*env_, opts_.network()).shape, box_observations(*env_, opts_.network()).dtype,
              {}, torch::kLong),
      exploration_{opts_.exploration_initial_eps(), opts_.exploration_final_eps(), 1.0},
      rng_(seed),
      eval_rng_(seed ^ 0x9e3779b97f4a7c15ULL),
      epsilon_(opts_.exploration_initial_eps()),
      beta_(opts_.prioritized_replay_beta0()) {
  const auto& obs = box_observations(*env_, opts_.network());
  if (opts_.network() == "nature") {
    if (obs.dtype != torch::kUInt8) {
      throw Error("dqn's nature network needs uint8 frame stacks; " + env_->id() + " has " +
                  envs::to_string(env_->observation_space()));
    }
    frames_ = std::make_unique<FrameReplay>(opts_.buffer_size(), obs.shape[0], obs.shape[1], obs.shape[2]);
  }
  if (opts_.prioritized_replay()) {
    per_ = std::make_unique<PrioritizedSampler>(
        opts_.buffer_size(),
        PrioritizedOptions{.alpha = opts_.prioritized_replay_alpha(),
                           .eps = opts_.prioritized_replay_eps(),
                           .batch_weights = opts_.prioritized_replay_weights() == "batch"});
  }
  q_net_ = q_network(obs, action_space_.n, opts_);
  target_net_ = q_network(obs, action_space_.n, opts_);
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
  return q_net_->forward(obs.unsqueeze(0)).argmax(1).item<std::int64_t>() + action_space_.start;
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
  callback.on_start(*this, total_timesteps);
  // The first call seeds the env; a resumed agent restarts it from a seed derived from the step count.
  auto obs =
      env_->reset(env_started_ ? std::nullopt : std::optional<std::uint64_t>(seed_ + num_timesteps_)).obs;
  env_started_ = true;
  if (frames_) frames_->start(obs);
  // A resumed run starts with an empty buffer: refill learning_starts transitions before updating.
  const std::int64_t min_replay = std::max<std::int64_t>(
      1, std::min(opts_.learning_starts(), frames_ ? frames_->capacity() : replay_.capacity()));

  while (num_timesteps_ < total_timesteps) {
    // Act ε-greedily, ε annealed linearly (see exploration_at); β (for prioritized replay) over
    // all of training.
    const double progress = static_cast<double>(num_timesteps_) / static_cast<double>(total_timesteps);
    epsilon_ = exploration_at(num_timesteps_, total_timesteps);
    beta_ = opts_.prioritized_replay_beta0() + progress * (1.0 - opts_.prioritized_replay_beta0());
    const torch::Tensor action = act(obs, /*deterministic=*/false);
    const auto step = env_->step(action);

    // Store the transition; a truncated episode keeps its real s' and still bootstraps from it.
    const auto slot = frames_
                          ? frames_->add(action.item<std::int64_t>(), step.reward, step.obs, step.terminated)
                          : replay_.add(obs, action, step.reward, step.obs, step.terminated, step.truncated);
    if (per_) per_->added(slot);
    obs = step.done() ? env_->reset().obs : step.obs;
    if (frames_ && step.done()) frames_->start(obs);
    ++num_timesteps_;

    // Learn from sampled minibatches every train_freq steps.
    const auto stored = frames_ ? frames_->size() : replay_.size();
    if (num_timesteps_ > opts_.learning_starts() && stored >= min_replay &&
        num_timesteps_ % opts_.train_freq() == 0) {
      for (std::int64_t g = 0; g < opts_.gradient_steps(); ++g) last_metrics_ = update(sample_batch());
    }
    // Sync the target network every target_update_interval env steps.
    if (num_timesteps_ % opts_.target_update_interval() == 0) update_target();

    if (!callback.on_step(*this, {num_timesteps_, total_timesteps, &step, epsilon_, &last_metrics_})) break;
  }
  callback.on_end(*this);
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

std::map<std::string, double> DQN::update(const Batch& b) {
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
  const double loss_value = nn::gradient_step(*optimizer_, loss, opts_.max_grad_norm());
  if (per_ && b.weight.defined()) per_->update(b.slots, q.detach() - td_target);
  return {{"loss", loss_value}, {"q_mean", q.detach().mean().item<double>()}};
}

void DQN::update_target() {
  torch::NoGradGuard no_grad;
  const auto online = q_net_->parameters();
  auto target = target_net_->parameters();
  for (std::size_t i = 0; i < online.size(); ++i) {
    if (opts_.tau() >= 1.0)
      target[i].copy_(online[i]);
    else
      target[i].mul_(1.0 - opts_.tau()).add_(online[i], opts_.tau());
  }
}

void DQN::save(const std::filesystem::path& path, const std::map<std::string, double>& extra) const {
  core::CheckpointWriter w;
  w.put("algo", algo());
  core::Config cfg;
  core::write_options(opts_, cfg);
  w.put("options", cfg.dump());
  w.put("q_net", *q_net_);
  w.put("target_net", *target_net_);
  w.put("optimizer", *optimizer_);
  w.put("num_timesteps", num_timesteps_);
  w.put("epsilon", epsilon_);
  put_agent_state(w, rng_, extra);
  w.save(path);
}

std::map<std::string, double> DQN::load(const std::filesystem::path& path) {
  core::CheckpointReader r(path);
  require_algo(r, path, algo());
  r.get("q_net", *q_net_);
  r.get("target_net", *target_net_);
  r.get("optimizer", *optimizer_);
  num_timesteps_ = r.get_int("num_timesteps");
  epsilon_ = r.get_double("epsilon");
  return get_agent_state(r, rng_);
}

}  // namespace dojo::rl
