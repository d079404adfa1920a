// SARSA (Rummery & Niranjan 1994), on-policy TD control — Sutton & Barto (2018), §6.4:
//
//   Loop for each episode:
//     Initialize S
//     Choose A from S using policy derived from Q (e.g., ε-greedy)
//     Loop for each step of episode:
//       Take action A, observe R, S'
//       Choose A' from S' using policy derived from Q (e.g., ε-greedy)
//       Q(S,A) ← Q(S,A) + α [R + γ Q(S',A') − Q(S,A)]
//       S ← S'; A ← A'
//     until S is terminal
#include "rl/tabular_control.h"

namespace dojo::rl {

void sarsa(TabularLearner& l) {
  while (l.running()) {
    auto s = l.start_episode();
    auto a = l.epsilon_greedy(s);
    for (bool done = false; !done && l.running();) {
      const auto o = l.step(a);
      const auto next_a = o.terminated ? 0 : l.epsilon_greedy(o.next);  // no action after the end
      l.update(s, a, o.reward + (o.terminated ? 0.0 : l.gamma() * l.q(o.next, next_a)));
      s = o.next;
      a = next_a;
      done = o.done();
    }
  }
}

}  // namespace dojo::rl
