// Expected SARSA (van Seijen et al. 2009) — Sutton & Barto (2018), §6.6: Q-learning's loop with the
// expectation of the next action's value under the ε-greedy policy in place of the maximum:
//
//   Loop for each episode:
//     Initialize S
//     Loop for each step of episode:
//       Choose A from S using policy derived from Q (ε-greedy)
//       Take action A, observe R, S'
//       Q(S,A) ← Q(S,A) + α [R + γ Σ_a π(a|S') Q(S',a) − Q(S,A)]
//       S ← S'
//     until S is terminal
#include "rl/tabular_control.h"

namespace dojo::rl {

void expected_sarsa(TabularLearner& l) {
  while (l.running()) {
    auto s = l.start_episode();
    for (bool done = false; !done && l.running();) {
      const auto a = l.epsilon_greedy(s);
      const auto o = l.step(a);
      l.update(s, a, o.reward + (o.terminated ? 0.0 : l.gamma() * l.expected_q(o.next)));
      s = o.next;
      done = o.done();
    }
  }
}

}  // namespace dojo::rl
