// Q-learning (Watkins 1989), off-policy TD control — Sutton & Barto (2018), §6.5:
//
//   Loop for each episode:
//     Initialize S
//     Loop for each step of episode:
//       Choose A from S using policy derived from Q (e.g., ε-greedy)
//       Take action A, observe R, S'
//       Q(S,A) ← Q(S,A) + α [R + γ max_a Q(S',a) − Q(S,A)]
//       S ← S'
//     until S is terminal
#include "rl/tabular_control.h"

namespace dojo::rl {

void qlearning(TabularLearner& l) {
  while (l.running()) {
    auto s = l.start_episode();
    for (bool done = false; !done && l.running();) {
      const auto a = l.epsilon_greedy(s);
      const auto o = l.step(a);
      l.update(s, a, o.reward + (o.terminated ? 0.0 : l.gamma() * l.max_q(o.next)));
      s = o.next;
      done = o.done();
    }
  }
}

}  // namespace dojo::rl
