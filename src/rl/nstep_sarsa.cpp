// n-step SARSA — Sutton & Barto (2018), §7.2:
//
//   Loop for each episode:
//     Initialize and store S0 ≠ terminal
//     Select and store an action A0 ~ π(·|S0)                        (ε-greedy in Q)
//     T ← ∞
//     Loop for t = 0, 1, 2, ...:
//       If t < T:
//         Take action A_t; observe and store R_{t+1} and S_{t+1}
//         If S_{t+1} is terminal: T ← t + 1
//         else: select and store A_{t+1} ~ π(·|S_{t+1})
//       τ ← t − n + 1                                                 (the time whose estimate is updated)
//       If τ ≥ 0:
//         G ← Σ_{i=τ+1}^{min(τ+n, T)} γ^{i−τ−1} R_i
//         If τ + n < T: G ← G + γ^n Q(S_{τ+n}, A_{τ+n})
//         Q(S_τ, A_τ) ← Q(S_τ, A_τ) + α [G − Q(S_τ, A_τ)]
//     Until τ = T − 1
//
// A time limit's cut is no terminal state: the episode's last n updates still bootstrap from
// Q(S_T, A_T), with A_T drawn from π as for any other step.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "rl/tabular_control.h"

namespace dojo::rl {

void nstep_sarsa(TabularLearner& l) {
  const std::int64_t n = l.options().n_steps();
  std::vector<std::int64_t> S, A;  // S_t and A_t for every t of the episode so far
  std::vector<double> R;           // R[t] = R_t (R[0] unused)
  while (l.running()) {
    S.assign(1, l.start_episode());
    A.assign(1, l.epsilon_greedy(S[0]));
    R.assign(1, 0.0);
    constexpr auto kNever = std::numeric_limits<std::int64_t>::max();
    std::int64_t T = kNever;
    bool terminal = false;  // the episode ended in a terminal state (not a time limit)
    for (std::int64_t t = 0;; ++t) {
      if (t < T) {
        if (!l.running()) break;  // out of steps: the unfinished episode is not learned from
        const auto o = l.step(A[static_cast<std::size_t>(t)]);
        R.push_back(o.reward);
        S.push_back(o.next);
        if (o.done()) {
          T = t + 1;
          terminal = o.terminated;
        }
        // A_{t+1}: needed to bootstrap after a time limit's cut as after any other step.
        if (!terminal) A.push_back(l.epsilon_greedy(o.next));
      }
      const std::int64_t tau = t - n + 1;
      if (tau >= 0) {
        double g = 0.0;
        for (std::int64_t i = std::min(tau + n, T); i >= tau + 1; --i)
          g = l.gamma() * g + R[static_cast<std::size_t>(i)];
        const bool bootstrap = tau + n < T || (tau + n == T && !terminal);
        if (bootstrap) {
          const auto k = static_cast<std::size_t>(tau + n);
          g += std::pow(l.gamma(), static_cast<double>(n)) * l.q(S[k], A[k]);
        }
        l.update(S[static_cast<std::size_t>(tau)], A[static_cast<std::size_t>(tau)], g);
      }
      if (tau == T - 1) break;
    }
  }
}

}  // namespace dojo::rl
