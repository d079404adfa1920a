#include "rl/offline.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <cmath>

#include "core/device.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/seed.h"
#include "nn/mlp.h"
#include "nn/optim.h"
#include "rl/loops.h"
#include "rl/policy.h"

namespace dojo::rl {

namespace {

constexpr double kActorLogStdMin = -5.0, kActorLogStdMax = 2.0;
// Data actions are pulled this far inside ±1 before atanh: a tanh-Gaussian gives ±1 itself density 0.
constexpr double kActionClip = 1e-3;

}  // namespace

void OfflineData::check(const std::string& algo, const std::string& path, const envs::Env& env) {
  if (path.empty())
    throw Error(algo +
                " learns from a dataset: expected --dataset FILE (or the `dataset` key): a D4RL .hdf5 file "
                "or a Minari folder");
  check_continuous_env(algo, env);
  check_dataset_fits(dataset_shape(path), path, env);
}

OfflineData::OfflineData(const std::string& path, const envs::Env& env)
    : data_(read_dataset(path)),
      scaler_(std::get<envs::Box>(env.action_space())),
      sampler_(data_, std::get<envs::Box>(env.action_space())),
      obs_dim_(std::get<envs::Box>(env.observation_space()).numel()) {
  DatasetShape shape{data_.size(), data_.observations.sizes().slice(1).vec(),
                     data_.actions.sizes().slice(1).vec(), data_.env_id()};
  check_dataset_fits(shape, path, env);
}

ObservationNormalizer OfflineData::observation_normalizer(bool enabled, c10::Device device) const {
  const auto obs = data_.observations.reshape({data_.size(), -1});
  if (!enabled) return {torch::zeros({obs_dim_}).to(device), torch::ones({obs_dim_}).to(device)};
  return {obs.mean(0).to(device), (obs.std(0) + 1e-3).to(device)};
}

TanhGaussianPolicyImpl::TanhGaussianPolicyImpl(std::int64_t obs_dim, std::int64_t action_dim,
                                               const std::vector<std::int64_t>& net_arch,
                                               const std::string& activation)
    : trunk(register_module("trunk", nn::mlp_body(obs_dim, net_arch, activation))),
      mu(register_module("mu", torch::nn::Linear(net_arch.back(), action_dim))),
      log_std(register_module("log_std", torch::nn::Linear(net_arch.back(), action_dim))) {}

TanhGaussianPolicyImpl::Params TanhGaussianPolicyImpl::forward(const torch::Tensor& obs) {
  const auto h = trunk->forward(obs);
  return {mu->forward(h), torch::clamp(log_std->forward(h), kActorLogStdMin, kActorLogStdMax)};
}

TanhGaussianPolicyImpl::Draw TanhGaussianPolicyImpl::sample(const torch::Tensor& obs, std::mt19937_64& rng,
                                                            std::int64_t n) {
  const auto p = forward(obs);
  auto sizes = p.mean.sizes().vec();
  sizes.insert(sizes.begin(), n);
  const auto u =
      p.mean.unsqueeze(0) + p.log_std.exp().unsqueeze(0) * standard_normal(sizes, rng).to(obs.device());
  return {torch::tanh(u),
          tanh_gaussian_log_prob(p.mean.unsqueeze(0).expand_as(u), p.log_std.unsqueeze(0).expand_as(u), u)};
}

torch::Tensor TanhGaussianPolicyImpl::log_prob(const torch::Tensor& obs, const torch::Tensor& action) {
  const auto p = forward(obs);
  const auto u = torch::atanh(torch::clamp(action, -1.0 + kActionClip, 1.0 - kActionClip));
  // Observations [B, d] with actions [n, B, A]: the same (μ, σ) for every sample of a state.
  const bool shared = p.mean.dim() < u.dim();
  const auto mean = shared ? p.mean.unsqueeze(0) : p.mean,
             log_std = shared ? p.log_std.unsqueeze(0) : p.log_std;
  return tanh_gaussian_log_prob(mean.expand_as(u), log_std.expand_as(u), u);
}

torch::Tensor TanhGaussianPolicyImpl::mode(const torch::Tensor& obs) {
  return torch::tanh(forward(obs).mean);
}

QEnsembleImpl::QEnsembleImpl(std::int64_t obs_dim, std::int64_t action_dim,
                             const std::vector<std::int64_t>& net_arch, std::int64_t k,
                             const std::string& activation)
    : nets(register_module("nets", torch::nn::ModuleList())) {
  if (k < 1) throw Error("a Q ensemble needs at least one network");
  for (std::int64_t i = 0; i < k; ++i)
    nets->push_back(nn::mlp(obs_dim + action_dim, net_arch, 1, activation));
}

torch::Tensor QEnsembleImpl::forward(const torch::Tensor& obs, const torch::Tensor& action) {
  const auto x = torch::cat({obs, action}, -1);
  std::vector<torch::Tensor> qs;
  for (const auto& net : *nets) qs.push_back(net->as<torch::nn::Sequential>()->forward(x).squeeze(-1));
  return torch::stack(qs);
}

DualCriticImpl::DualCriticImpl(std::int64_t obs_dim, std::int64_t action_dim,
                               const std::vector<std::int64_t>& net_arch)
    : net(register_module("net", nn::mlp(obs_dim + action_dim, net_arch, 1, "relu"))) {}

torch::Tensor DualCriticImpl::forward(const torch::Tensor& obs, const torch::Tensor& action) {
  return net->forward(torch::cat({obs, action}, -1)).squeeze(-1);
}

torch::Tensor ensemble_mix(const torch::Tensor& qs, double lambda) {
  const auto lo = std::get<0>(qs.min(0));
  if (lambda >= 1.0) return lo;
  return lambda * lo + (1.0 - lambda) * std::get<0>(qs.max(0));
}

torch::Tensor repeat_obs(const torch::Tensor& obs, std::int64_t n) {
  return obs.unsqueeze(0).expand({n, obs.size(0), obs.size(1)});
}

torch::Tensor kl_estimate(const torch::Tensor& log_pi, const torch::Tensor& log_b) {
  return (log_pi - log_b).mean(0);
}

torch::Tensor mmd_estimate(const torch::Tensor& x, const torch::Tensor& y, const std::string& kernel,
                           double sigma) {
  // Pairwise kernels within and across the two sample sets, per state: [B, n, m].
  const auto k = [&](const torch::Tensor& a, const torch::Tensor& b) {
    const auto diff = a.permute({1, 0, 2}).unsqueeze(2) - b.permute({1, 0, 2}).unsqueeze(1);  // [B, n, m, A]
    if (kernel == "laplacian") return torch::exp(-diff.abs().sum(-1) / sigma);
    if (kernel == "gaussian") return torch::exp(-diff.pow(2).sum(-1) / (2.0 * sigma * sigma));
    throw Error("mmd_kernel '" + kernel + "': expected laplacian or gaussian");
  };
  const auto squared = k(x, x).mean({1, 2}) + k(y, y).mean({1, 2}) - 2.0 * k(x, y).mean({1, 2});
  return torch::sqrt(torch::clamp_min(squared, 0.0) + 1e-6);
}

torch::Tensor kl_dual_estimate(const torch::Tensor& f_pi, const torch::Tensor& f_b) {
  return f_pi.mean(0) - torch::exp(f_b - 1.0).mean(0);
}

torch::Tensor wasserstein_estimate(const torch::Tensor& f_pi, const torch::Tensor& f_b) {
  return f_pi.mean(0) - f_b.mean(0);
}

torch::Tensor gradient_penalty(DualCritic& critic, const torch::Tensor& obs_n, const torch::Tensor& a_pi,
                               const torch::Tensor& a_b, const torch::Tensor& eps) {
  const auto mixed = (eps * a_pi.detach() + (1.0 - eps) * a_b.detach()).requires_grad_(true);
  const auto f = critic->forward(obs_n, mixed);
  const auto grad =
      torch::autograd::grad({f.sum()}, {mixed}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  return (grad.norm(2, -1) - 1.0).pow(2).mean();
}

torch::Tensor uniform_unit(const std::vector<std::int64_t>& sizes, std::mt19937_64& rng) {
  auto out = torch::empty(sizes, torch::kFloat32);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  float* p = out.data_ptr<float>();
  for (std::int64_t i = 0; i < out.numel(); ++i) p[i] = u(rng);
  return out;
}

void BehaviorModel::add_to(core::CheckpointParts& parts) {
  parts.add("behavior", *policy).add("behavior_optimizer", *optimizer).add("behavior_fitted", fitted);
}

std::unique_ptr<torch::optim::Optimizer> adam(const std::vector<torch::Tensor>& params, double lr) {
  nn::OptimizerOptions o;
  o.learning_rate = lr;
  return nn::make_optimizer(params, o);
}

OfflineAgent::OfflineAgent(std::unique_ptr<envs::Env> env, const std::string& dataset,
                           const std::string& device, std::int64_t batch_size, std::uint64_t seed)
    : Agent(core::derive_seed(seed, "agent")),
      env_(std::move(env)),
      data_(dataset, *env_),
      batch_size_(batch_size) {
  device_ = core::device(device);
  normalize_ = data_.observation_normalizer(false, device_);
}

void OfflineAgent::learn(std::int64_t total_timesteps, Callback& callback) {
  prepare();
  offline_loop(
      {*this, num_timesteps_, logger_}, [&] { return update(data_.sample(batch_size_, rng_)); },
      total_timesteps, callback);
}

void OfflineAgent::fit_behavior(BehaviorModel& b, std::int64_t steps, const std::string& who) {
  if (!b.fitted) {
    spdlog::info("{}: fitting the behaviour policy b by maximum likelihood ({} steps)", who, steps);
    core::ProgressBar bar(steps, "b steps");
    double loss = 0.0;
    for (std::int64_t i = 1; i <= steps; ++i) {
      const auto batch = data_.sample(batch_size_, rng_).to(device_);
      loss = gradient_step(*b.optimizer, -b.policy->log_prob(batch.obs, batch.action).mean(), 0.0);
      if (i % 1000 == 0 || i == steps) bar.update(i, fmt::format("-log b {:.3f}", loss));
    }
    bar.finish(fmt::format("-log b {:.3f}", loss));
    logger_.record("behavior_loss", loss);
    b.fitted = true;
  }
  // b is fixed from here: no gradients reach it through the divergence.
  for (auto& p : b.policy->parameters()) p.requires_grad_(false);
}

torch::Tensor OfflineAgent::act_tanh_gaussian(TanhGaussianPolicy& policy, const torch::Tensor& obs,
                                              bool deterministic) {
  torch::NoGradGuard no_grad;
  const auto o = normalize_(obs);
  const auto unit = deterministic ? policy->mode(o) : policy->sample(o, rng_).action[0];
  return data_.scaler().to_env(unit.cpu());
}

void OfflineAgent::save_state(core::CheckpointWriter& w) const {
  w.put("options", options_yaml());
  // Listing the parts takes references; saving only reads through them.
  core::CheckpointParts parts;
  const_cast<OfflineAgent*>(this)->checkpoint_parts(parts);
  parts.save(w);
}

void OfflineAgent::load_state(core::CheckpointReader& r) {
  core::CheckpointParts parts;
  checkpoint_parts(parts);
  parts.load(r);
}

}  // namespace dojo::rl
