#include "rl/policy.h"

#include <torch/torch.h>

#include <cmath>

namespace dojo::rl {

torch::Tensor categorical_log_prob(const torch::Tensor& logits, const torch::Tensor& actions) {
  return torch::log_softmax(logits, -1).gather(-1, actions.to(torch::kLong).unsqueeze(-1)).squeeze(-1);
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
