#include "rl/ppo.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/distributed.h"
#include "core/error.h"
#include "core/seed.h"
#include "nn/mlp.h"
#include "nn/optim.h"
#include "rl/loops.h"
#include "rl/networks.h"
#include "rl/policy.h"

namespace dojo::rl {

void PPOOptions::validate() const { core::check_options(*this); }

// A2C's own keys in its own words (not the PPO it becomes: a user who wrote use_rms_prop should not
// read about `optimizer`).
void A2COptions::validate() const { core::check_options(*this); }

void PPO::check_env(const PPOOptions& o, const envs::Env& env, const std::string& algo) {
  if (!std::get_if<envs::Box>(&env.observation_space())) {
    throw Error(algo + " needs a Box observation space; " + env.id() + " has " +
                envs::to_string(env.observation_space()));
  }
  const auto* box = std::get_if<envs::Box>(&env.action_space());
  if (!std::get_if<envs::Discrete>(&env.action_space()) && (!box || box->shape.size() != 1)) {
    throw Error(algo + " needs a Discrete or flat Box action space; " + env.id() + " has " +
                envs::to_string(env.action_space()));
  }
  check_trunk(algo, o.network(), env.observation_space());
}

PPOOptions A2COptions::to_ppo() const {
  return PPOOptions()
      .n_envs(n_envs_)
      .learning_rate(learning_rate_)
      .lr_schedule(lr_schedule_)
      .n_steps(n_steps_)
      .batch_size(n_steps_ * n_envs_)
      .n_epochs(1)
      .gamma(gamma_)
      .gae_lambda(gae_lambda_)
      .normalize_advantage(normalize_advantage_)
      .ent_coef(ent_coef_)
      .vf_coef(vf_coef_)
      .max_grad_norm(max_grad_norm_)
      .net_arch(net_arch_)
      .activation(activation_)
      .log_std_init(log_std_init_)
      .ortho_init(ortho_init_)
      .network(network_)
      .optimizer(use_rms_prop_ ? "rmsprop" : "adam")
      .optimizer_eps(rms_prop_eps_)
      .device(device_);
}

PPO::PPO(envs::EnvFactory env, PPOOptions options, std::uint64_t seed, std::string algo)
    : Agent(core::derive_seed(seed, "agent")),
      id_(env.id()),
      algo_(std::move(algo)),
      opts_((options.validate(), std::move(options))),
      seed_(seed) {
  envs_ = envs::make_vec(env, opts_.n_envs(), {.async = false, .n_threads = 0, .make = {}});
  const auto& probe = envs_->env(0);
  check_env(opts_, probe, algo_);
  device_ = core::device(opts_.device());
  const auto& obs = std::get<envs::Box>(probe.observation_space());
  if (const auto* d = std::get_if<envs::Discrete>(&probe.action_space())) {
    discrete_ = true;
    n_actions_ = d->n;
  } else {
    const auto& box = std::get<envs::Box>(probe.action_space());
    discrete_ = false;
    n_actions_ = box.numel();
    low_ = box.low;
    high_ = box.high;
  }
  norm_ = std::make_unique<Normalizer>(obs.shape, opts_.n_envs(), opts_.normalize_observations(),
                                       opts_.normalize_reward(), opts_.gamma());
  // Actor and critic are separate networks (SB3's default for MLPs); on pixels each has its own CNN.
  auto network = [&](std::int64_t out) {
    if (opts_.network() == "mlp") return nn::mlp(obs.numel(), opts_.net_arch(), out, opts_.activation());
    auto trunk =
        make_trunk(algo_, opts_.network(), probe.observation_space(), opts_.net_arch(), opts_.activation());
    trunk.layers->extend(*linear_head(trunk.features, trunk.hidden, out));
    return trunk.layers;
  };
  core::with_seed(core::derive_seed(seed, "network"), [&] {
    actor_ = network(n_actions_);
    critic_ = network(1);
    if (opts_.ortho_init()) {
      orthogonal_init(*actor_, std::sqrt(2.0), 0.01);
      orthogonal_init(*critic_, std::sqrt(2.0), 1.0);
    }
  });
  // Initialised on the CPU (the same weights for a seed on any device), then moved.
  actor_->to(device_);
  critic_->to(device_);
  auto params = actor_->parameters();
  for (auto& p : critic_->parameters()) params.push_back(p);
  if (!discrete_) {
    log_std_ = torch::full({n_actions_}, opts_.log_std_init(),
                           torch::TensorOptions().device(device_).requires_grad(true));
    params.push_back(log_std_);
  }
  if (opts_.intrinsic() == "icm") {
    // ICM's features, inverse and forward models: one SRL model, trained in the same steps.
    const auto beta = opts_.icm_beta();
    core::with_seed(core::derive_seed(seed, "icm"), [&] {
      icm_ = SrlModel(probe.observation_space(), probe.action_space(),
                      SrlOptions()
                          .losses({"inverse", "forward"})
                          .weights({1.0 - beta, beta})
                          .state_dim(opts_.icm_features())
                          .hidden(opts_.icm_hidden()));
    });
    icm_->to(device_);
    for (auto& p : icm_->parameters()) params.push_back(p);
    icm_scale_ =
        std::make_unique<Normalizer>(obs.shape, opts_.n_envs(), false, opts_.icm_normalize(), opts_.gamma());
  }
  nn::OptimizerOptions o;
  o.learning_rate = opts_.learning_rate();
  o.name = opts_.optimizer();
  o.eps = opts_.optimizer_eps();  // 1e-5: SB3's and CleanRL's epsilon for PPO and A2C
  o.alpha = opts_.rmsprop_alpha();
  optimizer_ = nn::make_optimizer(params, o);
}

torch::Tensor PPO::network_input(const torch::Tensor& obs) const {
  // MLPs take flat float32 vectors; the CNN trunks convert and permute [B, H, W, C] themselves.
  return opts_.network() == "mlp" ? obs.to(device_, torch::kFloat32).flatten(1) : obs.to(device_);
}

std::pair<torch::Tensor, torch::Tensor> PPO::log_prob_entropy(const torch::Tensor& obs,
                                                              const torch::Tensor& actions) {
  const auto out = actor_->forward(network_input(obs));
  const auto a = actions.to(device_);
  if (discrete_) return {categorical_log_prob(out, a), categorical_entropy(out)};
  return {gaussian_log_prob(out, log_std_, a), gaussian_entropy(log_std_, out.size(0))};
}

torch::Tensor PPO::value(const torch::Tensor& obs) {
  return critic_->forward(network_input(obs)).squeeze(-1);
}

torch::Tensor PPO::sample_actions(const torch::Tensor& obs) {
  torch::NoGradGuard no_grad;
  // Drawn on the CPU from the agent's generator: the same seed gives the same actions on any device.
  const auto out = actor_->forward(network_input(obs)).to(torch::kCPU, torch::kDouble).contiguous();
  const auto n = out.size(0);
  if (discrete_) return sample_categorical(torch::softmax(out, 1), rng_);
  const auto std_dev = log_std_.detach().exp().to(torch::kCPU, torch::kDouble).contiguous();
  auto a = torch::empty({n, n_actions_}, torch::kDouble);
  std::normal_distribution<double> normal;
  for (std::int64_t i = 0; i < n * n_actions_; ++i) {
    a.data_ptr<double>()[i] =
        out.data_ptr<double>()[i] + std_dev.data_ptr<double>()[i % n_actions_] * normal(rng_);
  }
  return a.to(torch::kFloat32);
}

torch::Tensor PPO::to_env(const torch::Tensor& actions) const {
  if (discrete_) return actions;
  const auto lo = torch::tensor(low_, torch::kFloat32), hi = torch::tensor(high_, torch::kFloat32);
  return torch::max(torch::min(actions, hi), lo);
}

torch::Tensor PPO::act_batch(const torch::Tensor& obs, bool deterministic) {
  torch::InferenceMode guard;
  const auto x = norm_->observations(obs, /*update=*/false);
  if (!deterministic) return to_env(sample_actions(x));
  const auto out = actor_->forward(network_input(x)).cpu();
  if (discrete_) return out.argmax(1);
  return to_env(out);
}

Agent::Progress PPO::progress(std::int64_t total_timesteps) const {
  const auto rollout = opts_.n_steps() * opts_.n_envs() * core::dist_world_size();
  const auto rollouts = (std::max(total_timesteps, num_timesteps_) + rollout - 1) / rollout;
  return {num_timesteps_, rollouts * rollout};
}

void PPO::learn(std::int64_t total_timesteps, Callback& callback) {
  // Data parallel (DD-PPO, Wijmans et al. 2020): every rank of the process group steps its own
  // n_envs envs, seeded apart, with its own draws, from rank 0's weights; update() averages the
  // gradients and the normalisers merge their statistics, so the ranks stay one agent.
  const int rank = core::dist_rank(), world = core::dist_world_size();
  if (world > 1) {
    core::broadcast_module(*actor_);
    core::broadcast_module(*critic_);
    if (log_std_.defined()) core::broadcast_tensors({log_std_});
    if (icm_) core::broadcast_module(*icm_);
    if (rank > 0) rng_.seed(core::derive_seed(rng_(), "rank", static_cast<std::uint64_t>(rank)));
  }
  norm_->share_across_ranks(world > 1);
  if (icm_scale_) icm_scale_->share_across_ranks(world > 1);
  OnPolicyHooks h;
  h.observe = [&](const torch::Tensor& obs) { return norm_->observations(obs, /*update=*/true); };
  h.reward = [&](const torch::Tensor& reward, const torch::Tensor& done) {
    return norm_->rewards(reward, done);
  };
  h.act = [&](const torch::Tensor& obs) {
    OnPolicyHooks::Action a;
    a.action = sample_actions(obs);
    torch::NoGradGuard no_grad;
    a.log_prob = log_prob_entropy(obs, a.action).first.cpu();  // rollouts are stored on the CPU
    a.value = value(obs).cpu();
    a.env_action = to_env(a.action);
    return a;
  };
  h.update = [&](const RolloutBatch& batch, double progress) { return update(batch, progress); };
  auto env_seed = core::derive_seed(seed_, "env", static_cast<std::uint64_t>(num_timesteps_));
  if (rank > 0) env_seed = core::derive_seed(env_seed, "rank", static_cast<std::uint64_t>(rank));
  on_policy_loop({*this, num_timesteps_, logger_}, *envs_, vec_, env_seed, opts_.n_steps(), h,
                 total_timesteps, horizon(total_timesteps), callback);
}

std::map<std::string, double> PPO::update(const RolloutBatch& b, double progress) {
  // A, R = GAE(γ, λ) over the rollout, bootstrapped from V of the observations after it.
  torch::Tensor last_values;
  {
    torch::NoGradGuard no_grad;
    last_values = value(b.last_obs);
  }
  // Curiosity: each step's reward gains η/2 · the forward model's error on (s, a, s'). s' is the next
  // row's observation (after an episode's last step that row holds its final observation; the
  // autoreset row after it is not valid), and last_obs after the last row.
  auto rollout = b.rollout;
  torch::Tensor next_obs;
  double intrinsic = 0.0;
  if (icm_) {
    next_obs = torch::cat({b.obs.slice(0, 1), b.last_obs.unsqueeze(0)}, 0);
    const auto steps = b.obs.size(0) * b.obs.size(1);
    const auto all = icm_->batch(b.obs.flatten(0, 1).to(device_), next_obs.flatten(0, 1).to(device_),
                                 b.actions.flatten(0, 1).to(device_), torch::zeros({steps}));
    const auto valid_steps = b.rollout.valid.to(torch::kFloat32);
    auto r_i = (opts_.icm_eta() / 2.0) * icm_->forward_error(all).cpu().reshape(b.rollout.rewards.sizes()) *
               valid_steps;
    intrinsic = r_i.sum().item<double>() / std::max(1.0, valid_steps.sum().item<double>());  // as computed
    const auto done = b.rollout.terminated | b.rollout.truncated;
    for (std::int64_t t = 0; t < r_i.size(0); ++t) r_i[t] = icm_scale_->rewards(r_i[t], done[t]);
    rollout.rewards = b.rollout.rewards + r_i;
  }
  const auto adv = compute_gae(rollout, last_values, opts_.gamma(), opts_.gae_lambda());

  // Annealed schedules (RL Zoo's lin_<x>: x at the start, 0 at the end).
  const double frac = 1.0 - progress;
  const double lr = opts_.lr_schedule() == "linear" ? opts_.learning_rate() * frac : opts_.learning_rate();
  const double clip =
      opts_.clip_range_schedule() == "linear" ? opts_.clip_range() * frac : opts_.clip_range();
  for (auto& g : optimizer_->param_groups()) g.options().set_lr(lr);

  // Flatten [T, N] to the valid transitions, moved once to where the networks are.
  const auto keep = b.rollout.valid.reshape({-1}).nonzero().squeeze(1);
  const auto valid = [&](const torch::Tensor& t) {
    return t.flatten(0, 1).index_select(0, keep).to(device_);
  };
  const auto b_obs = valid(b.obs), b_act = valid(b.actions);
  const auto b_logp = valid(b.log_prob), b_val = valid(b.rollout.values);
  const auto b_adv = valid(adv.advantages), b_ret = valid(adv.returns);
  const auto size = keep.numel();
  const auto b_next = icm_ ? valid(next_obs) : torch::Tensor();

  // Minibatches of batch_size (the last one shorter). Data parallel, each rank takes its own from its
  // own rollout, and as many as the rank with the most valid steps (a rank that has run out joins
  // with none): each gradient step is the mean over every rank's minibatch.
  const auto batch_size = opts_.batch_size();
  auto* group = core::process_group();
  std::vector<double> sizes(static_cast<std::size_t>(core::dist_world_size()), 0.0);
  sizes[static_cast<std::size_t>(core::dist_rank())] = static_cast<double>(size);
  if (sizes.size() > 1) sizes = group->allreduce_sum(sizes);
  const auto share = [&](double n, std::int64_t start) {  // a rank's samples in the minibatch at `start`
    return std::clamp<std::int64_t>(static_cast<std::int64_t>(n) - start, 0, batch_size);
  };
  const auto largest = static_cast<std::int64_t>(*std::max_element(sizes.begin(), sizes.end()));
  // SB3 stops before the step that would go past 1.5 × target_kl; data parallel, on the mean KL over
  // every rank's minibatch, so that all stop at the same step.
  const auto kl_too_far = [&](double approx_kl, double n) {
    if (group) {
      const auto sums = group->allreduce_sum({approx_kl * n, n});
      approx_kl = sums[1] > 0 ? sums[0] / sums[1] : 0.0;
    }
    return approx_kl > 1.5 * opts_.target_kl();
  };

  std::map<std::string, double> m{{"lr", lr}, {"clip_range", clip}};
  double pg_sum = 0, vf_sum = 0, ent_sum = 0, kl = 0, clip_frac = 0, icm_sum = 0;
  std::int64_t updates = 0;
  bool stop = false;
  for (std::int64_t epoch = 0; epoch < opts_.n_epochs() && !stop; ++epoch) {
    // A permutation from the agent's own generator keeps runs reproducible.
    std::vector<std::int64_t> order(static_cast<std::size_t>(size));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng_);
    const auto perm = torch::tensor(order, torch::kLong).to(device_);
    for (std::int64_t start = 0; start < largest && !stop; start += batch_size) {
      std::int64_t samples = 0;
      for (const auto n : sizes) samples += share(n, start);
      if (start >= size) {  // this rank has no samples left: it joins the others' step with none
        if (opts_.target_kl() > 0) stop = kl_too_far(0.0, 0.0);
        if (!stop) gradient_step(*optimizer_, torch::Tensor(), opts_.max_grad_norm(), 0, samples);
        continue;
      }
      const auto mb = perm.slice(0, start, std::min(start + batch_size, size));
      auto a = b_adv.index_select(0, mb);
      if (opts_.normalize_advantage() && a.numel() > 1) a = (a - a.mean()) / (a.std() + 1e-8);
      const auto [logp, entropy] = log_prob_entropy(b_obs.index_select(0, mb), b_act.index_select(0, mb));
      const auto objective = ppo_clip_loss(logp, b_logp.index_select(0, mb), a, clip);
      auto v = value(b_obs.index_select(0, mb));
      const auto ret = b_ret.index_select(0, mb);
      if (opts_.clip_range_vf() > 0) {
        const auto old_v = b_val.index_select(0, mb);
        v = old_v + torch::clamp(v - old_v, -opts_.clip_range_vf(), opts_.clip_range_vf());
      }
      const auto value_loss = torch::mse_loss(v, ret);
      const auto entropy_loss = -entropy.mean();
      if (opts_.target_kl() > 0 && kl_too_far(objective.approx_kl, static_cast<double>(mb.numel()))) {
        stop = true;
        break;
      }
      auto loss = objective.loss + opts_.ent_coef() * entropy_loss + opts_.vf_coef() * value_loss;
      if (icm_) {
        const auto icm_loss = icm_->objective().eval(
            icm_->batch(b_obs.index_select(0, mb), b_next.index_select(0, mb), b_act.index_select(0, mb),
                        torch::zeros({mb.numel()}, b_obs.options())));
        loss = opts_.icm_lambda() * loss + icm_loss;
        icm_sum += icm_loss.item<double>();
      }
      gradient_step(*optimizer_, loss, opts_.max_grad_norm(), mb.numel(), samples);
      pg_sum += objective.loss.item<double>();
      vf_sum += value_loss.item<double>();
      ent_sum += -entropy_loss.item<double>();
      kl = objective.approx_kl;
      clip_frac += objective.clip_fraction;
      ++updates;
    }
  }
  const double u = std::max<std::int64_t>(updates, 1);
  m["loss"] = pg_sum / u + opts_.vf_coef() * vf_sum / u;
  m["policy_loss"] = pg_sum / u;
  m["value_loss"] = vf_sum / u;
  m["entropy"] = ent_sum / u;
  m["approx_kl"] = kl;
  m["clip_fraction"] = clip_frac / u;
  m["updates"] = static_cast<double>(updates);
  if (icm_) {
    m["intrinsic_reward"] = intrinsic;
    m["icm_loss"] = icm_sum / u;
  }
  return m;
}

void PPO::save_state(core::CheckpointWriter& w) const {
  w.put("options", core::options_yaml(opts_));
  w.put("actor", *actor_);
  w.put("critic", *critic_);
  if (log_std_.defined()) w.put("log_std", log_std_.detach());
  w.put("optimizer", *optimizer_);
  if (icm_) {
    w.put("icm", *icm_);
    icm_scale_->save(w, "icm_");
  }
  norm_->save(w);
}

void PPO::load_state(core::CheckpointReader& r) {
  r.get("actor", *actor_);
  r.get("critic", *critic_);
  if (icm_) {
    r.get("icm", *icm_);
    icm_scale_->load(r, "icm_");
  }
  if (log_std_.defined()) {
    const auto saved = r.get_tensor("log_std");
    if (saved.sizes() != log_std_.sizes())
      throw Error("checkpoint: log_std has shape " + c10::str(saved.sizes()) + ", expected " +
                  c10::str(log_std_.sizes()) + " (an env with another action space)");
    torch::NoGradGuard no_grad;
    log_std_.copy_(saved);
  }
  r.get("optimizer", *optimizer_);
  norm_->load(r);
}

}  // namespace dojo::rl
