#include "rl/policy.h"

#include <torch/torch.h>

#include <cmath>

namespace dojo::rl {

torch::Tensor categorical_log_prob(const torch::Tensor& logits, const torch::Tensor& actions) {
  return torch::log_softmax(logits, -1).gather(-1, actions.to(torch::kLong).unsqueeze(-1)).squeeze(-1);
}

torch::Tensor sample_categorical(const torch::Tensor& probs, std::mt19937_64& rng) {
  const auto p = probs.to(torch::kCPU, torch::kDouble).contiguous();
  const auto rows = p.size(0), n = p.size(1);
  auto out = torch::empty({rows}, torch::kLong);
  for (std::int64_t i = 0; i < rows; ++i) {
    const auto* q = p.data_ptr<double>() + i * n;
    double u = std::uniform_real_distribution<double>()(rng);
    std::int64_t k = 0;
    while (k + 1 < n && u >= q[k]) u -= q[k++];
    out.data_ptr<std::int64_t>()[i] = k;
  }
  return out;
}

torch::Tensor categorical_entropy(const torch::Tensor& logits) {
  const auto logp = torch::log_softmax(logits, -1);
  return -(logp.exp() * logp).sum(-1);
}

torch::Tensor gaussian_log_prob(const torch::Tensor& mean, const torch::Tensor& log_std,
                                const torch::Tensor& actions) {
  const auto z = (actions - mean) * torch::exp(-log_std);
  return (-0.5 * z * z - log_std - 0.5 * std::log(2.0 * M_PI)).sum(-1);
}

torch::Tensor gaussian_entropy(const torch::Tensor& log_std, std::int64_t batch) {
  return (0.5 * std::log(2.0 * M_PI * M_E) + log_std).sum().expand({batch});
}

torch::Tensor tanh_gaussian_log_prob(const torch::Tensor& mean, const torch::Tensor& log_std,
                                     const torch::Tensor& u) {
  const auto log_det = 2.0 * (std::log(2.0) - u - torch::softplus(-2.0 * u));  // log(1 − tanh²u)
  return gaussian_log_prob(mean, log_std.expand_as(mean), u) - log_det.sum(-1);
}

SquashedSample tanh_gaussian_sample(const torch::Tensor& mean, const torch::Tensor& log_std,
                                    at::Generator& generator) {
  const auto noise = at::normal(0.0, 1.0, mean.sizes(), generator, mean.options());
  const auto u = mean + log_std.exp() * noise;
  return {torch::tanh(u), tanh_gaussian_log_prob(mean, log_std, u)};
}

ClippedObjective ppo_clip_loss(const torch::Tensor& log_prob, const torch::Tensor& old_log_prob,
                               const torch::Tensor& advantages, double clip_range) {
  const auto log_ratio = log_prob - old_log_prob;
  const auto ratio = log_ratio.exp();
  const auto surrogate =
      torch::min(ratio * advantages, torch::clamp(ratio, 1.0 - clip_range, 1.0 + clip_range) * advantages);
  ClippedObjective out;
  out.loss = -surrogate.mean();
  torch::NoGradGuard no_grad;
  out.clip_fraction = ((ratio - 1.0).abs() > clip_range).to(torch::kDouble).mean().item<double>();
  out.approx_kl = ((ratio - 1.0) - log_ratio).mean().item<double>();
  return out;
}

}  // namespace dojo::rl
