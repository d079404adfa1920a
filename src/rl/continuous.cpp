#include "rl/continuous.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "nn/mlp.h"

namespace dojo::rl {

ActionScaler::ActionScaler(const envs::Box& box)
    : dim_(box.numel()),
      low_(torch::tensor(box.low, torch::kDouble).to(torch::kFloat32)),
      high_(torch::tensor(box.high, torch::kDouble).to(torch::kFloat32)) {}

torch::Tensor ActionScaler::to_env(const torch::Tensor& unit) const {
  const auto u = unit.to(torch::kCPU, torch::kFloat32);
  return low_ + 0.5f * (u + 1.0f) * (high_ - low_);
}

torch::Tensor ActionScaler::to_unit(const torch::Tensor& action) const {
  const auto a = action.to(torch::kCPU, torch::kFloat32);
  return 2.0f * (a - low_) / (high_ - low_) - 1.0f;
}

void check_continuous_env(const std::string& algo, const envs::Env& env) {
  const auto* box = std::get_if<envs::Box>(&env.action_space());
  if (!box) {
    throw Error(algo + " needs a Box action space; " + env.id() + " has " +
                envs::to_string(env.action_space()));
  }
  for (std::size_t i = 0; i < box->low.size(); ++i) {
    if (!std::isfinite(box->low[i]) || !std::isfinite(box->high[i]) || box->low[i] == box->high[i]) {
      throw Error(algo + " needs bounded actions (it scales them to [-1, 1]); " + env.id() + " has " +
                  envs::to_string(env.action_space()));
    }
  }
  const auto* obs = std::get_if<envs::Box>(&env.observation_space());
  if (!obs || obs->shape.size() != 1) {
    throw Error(algo + " needs a flat Box observation space; " + env.id() + " has " +
                envs::to_string(env.observation_space()));
  }
}

TwinQImpl::TwinQImpl(std::int64_t obs_dim, std::int64_t action_dim, const std::vector<std::int64_t>& net_arch,
                     const std::string& activation)
    : net1(register_module("net1", nn::mlp(obs_dim + action_dim, net_arch, 1, activation))),
      net2(register_module("net2", nn::mlp(obs_dim + action_dim, net_arch, 1, activation))) {}

std::pair<torch::Tensor, torch::Tensor> TwinQImpl::forward(const torch::Tensor& obs,
                                                           const torch::Tensor& action) {
  const auto x = torch::cat({obs, action}, 1);
  return {net1->forward(x).squeeze(1), net2->forward(x).squeeze(1)};
}

torch::Tensor TwinQImpl::q1(const torch::Tensor& obs, const torch::Tensor& action) {
  return net1->forward(torch::cat({obs, action}, 1)).squeeze(1);
}

ActionNoise::ActionNoise(std::string type, double std, std::int64_t dim)
    : type_(std::move(type)), std_(std), state_(static_cast<std::size_t>(dim), 0.0) {}

torch::Tensor ActionNoise::sample(std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  auto out = torch::zeros({static_cast<std::int64_t>(state_.size())}, torch::kFloat32);
  float* p = out.data_ptr<float>();
  for (std::size_t i = 0; i < state_.size(); ++i) {
    if (type_ == "normal") {
      p[i] = static_cast<float>(std_ * normal(rng));
    } else if (type_ == "ornstein-uhlenbeck") {
      // x += θ (μ − x) dt + σ √dt ε, with SB3's θ = 0.15, dt = 1e-2, μ = 0.
      constexpr double theta = 0.15, dt = 1e-2;
      state_[i] += theta * (0.0 - state_[i]) * dt + std_ * std::sqrt(dt) * normal(rng);
      p[i] = static_cast<float>(state_[i]);
    }
  }
  return out;
}

void ActionNoise::reset() { std::fill(state_.begin(), state_.end(), 0.0); }

OffPolicyHooks ContinuousRollout::hooks() {
  OffPolicyHooks h;
  h.schedule = [this](std::int64_t step, std::int64_t) {
    if (before_step) before_step(step);
  };
  h.explore = [this](const torch::Tensor& obs) {
    if (random_warmup && num_timesteps < learning_starts) {
      last_ = torch::empty({scaler.dim()}, torch::kFloat32);
      float* p = last_.data_ptr<float>();
      std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
      for (std::int64_t i = 0; i < scaler.dim(); ++i) p[i] = uniform(rng);
    } else {
      last_ = policy(obs).to(torch::kCPU, torch::kFloat32).reshape({scaler.dim()});
    }
    if (noise.active()) last_ = torch::clamp(last_ + noise.sample(rng), -1.0f, 1.0f);
    return scaler.to_env(last_);
  };
  h.episode_start = [this](const torch::Tensor&) { noise.reset(); };
  h.store = [this](const torch::Tensor& obs, const torch::Tensor&, const envs::StepResult& step) {
    replay.add(obs, last_, step.reward, step.obs, step.terminated, step.truncated);
  };
  h.stored = [this] { return replay.size(); };
  h.update = [this] { return update(); };
  return h;
}

torch::Tensor clipped_double_q_target(const torch::Tensor& reward, const torch::Tensor& terminated,
                                      double gamma, const torch::Tensor& next_q1,
                                      const torch::Tensor& next_q2, const torch::Tensor& next_log_prob,
                                      double alpha) {
  auto next_v = torch::min(next_q1, next_q2);
  if (next_log_prob.defined()) next_v = next_v - alpha * next_log_prob;
  return reward + gamma * (1.0 - terminated) * next_v;
}

torch::Tensor smoothed_target_action(torch::nn::Sequential& actor_target, const torch::Tensor& next_obs,
                                     const torch::Tensor& eps, double noise_clip) {
  const auto smoothing = torch::clamp(eps, -noise_clip, noise_clip);
  return torch::clamp(actor_target->forward(next_obs) + smoothing, -1.0, 1.0);
}

torch::Tensor entropy_coef_loss(const torch::Tensor& log_ent_coef, const torch::Tensor& log_prob,
                                double target_entropy) {
  return -(log_ent_coef * (log_prob.detach() + target_entropy)).mean();
}

torch::Tensor standard_normal(const std::vector<std::int64_t>& sizes, std::mt19937_64& rng) {
  auto out = torch::empty(sizes, torch::kFloat32);
  std::normal_distribution<float> normal;
  float* p = out.data_ptr<float>();
  for (std::int64_t i = 0; i < out.numel(); ++i) p[i] = normal(rng);
  return out;
}

FrozenParameters::FrozenParameters(torch::nn::Module& module) {
  for (auto& p : module.parameters()) {
    if (p.requires_grad()) {
      p.requires_grad_(false);
      params_.push_back(p);
    }
  }
}

FrozenParameters::~FrozenParameters() {
  for (auto& p : params_) p.requires_grad_(true);
}

}  // namespace dojo::rl
