#include "rl/advantage.h"

#include <torch/torch.h>

#include "core/error.h"

namespace dojo::rl {

std::vector<double> discounted_returns(const std::vector<double>& rewards, double gamma, double bootstrap) {
  std::vector<double> g(rewards.size());
  double running = bootstrap;
  for (std::size_t t = rewards.size(); t-- > 0;) g[t] = running = rewards[t] + gamma * running;
  return g;
}

Advantages compute_gae(const Rollout& r, const torch::Tensor& last_values, double gamma, double lambda) {
  const auto t_max = r.rewards.size(0), n = r.rewards.size(1);
  for (const auto* t : {&r.values, &r.terminated, &r.truncated, &r.valid}) {
    if (t->sizes() != r.rewards.sizes()) {
      throw Error("compute_gae: rollout fields of shape " + c10::str(t->sizes()) + ", expected " +
                  c10::str(r.rewards.sizes()));
    }
  }
  const auto rewards = r.rewards.to(torch::kCPU, torch::kDouble).contiguous(),
             values = r.values.to(torch::kCPU, torch::kDouble).contiguous(),
             last = last_values.to(torch::kCPU, torch::kDouble).contiguous();
  const auto terminated = r.terminated.to(torch::kCPU, torch::kBool).contiguous(),
             truncated = r.truncated.to(torch::kCPU, torch::kBool).contiguous(),
             valid = r.valid.to(torch::kCPU, torch::kBool).contiguous();
  auto adv = torch::zeros({t_max, n}, torch::kDouble);
  const auto* rw = rewards.data_ptr<double>();
  const auto* v = values.data_ptr<double>();
  const auto* lv = last.data_ptr<double>();
  const auto* term = terminated.data_ptr<bool>();
  const auto* trunc = truncated.data_ptr<bool>();
  const auto* ok = valid.data_ptr<bool>();
  auto* a = adv.data_ptr<double>();
  for (std::int64_t i = 0; i < n; ++i) {
    double next_adv = 0.0;
    for (auto t = t_max; t-- > 0;) {
      const auto k = t * n + i;
      if (!ok[k]) {
        next_adv = 0.0;
        continue;
      }
      const double next_value = t + 1 < t_max ? v[k + n] : lv[i];
      const bool end = term[k] || trunc[k];
      const double delta = rw[k] + (term[k] ? 0.0 : gamma * next_value) - v[k];
      a[k] = delta + (end ? 0.0 : gamma * lambda * next_adv);
      next_adv = a[k];
    }
  }
  const auto dtype = r.values.scalar_type();
  auto advantages = adv.to(dtype);
  return {advantages, torch::where(valid, advantages + r.values, torch::zeros_like(r.values))};
}

}  // namespace dojo::rl
