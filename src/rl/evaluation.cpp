#include "rl/evaluation.h"

#include <torch/torch.h>

#include <cmath>
#include <numeric>

namespace dojo::rl {

EvalResult evaluate(Agent& agent, envs::Env& env, std::int64_t n_episodes, bool deterministic,
                    const EvalObserver& observe, std::int64_t max_episode_steps) {
  return evaluate([&](const torch::Tensor& obs) { return agent.act(obs, deterministic); }, env, n_episodes,
                  observe, max_episode_steps);
}

EvalResult evaluate(const Policy& policy, envs::Env& env, std::int64_t n_episodes,
                    const EvalObserver& observe, std::int64_t max_episode_steps) {
  EvalResult r;
  for (std::int64_t e = 0; e < n_episodes; ++e) {
    auto obs = env.reset().obs;
    double ret = 0.0;
    std::int64_t len = 0;
    if (observe) observe(e, 0, env);
    for (;;) {
      auto s = env.step(policy(obs));
      ret += s.reward;
      ++len;
      if (observe) observe(e, len, env);
      if (s.done() || len >= max_episode_steps) break;
      obs = s.obs;
    }
    r.returns.push_back(ret);
    r.lengths.push_back(len);
  }
  if (!r.returns.empty()) std::tie(r.mean, r.std) = mean_std(r.returns);
  return r;
}

std::pair<double, double> mean_std(const std::vector<double>& v) {
  if (v.empty()) return {std::nan(""), std::nan("")};
  double m = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return {m, std::sqrt(s / static_cast<double>(v.size()))};
}

}  // namespace dojo::rl
