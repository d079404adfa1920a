// Double Q-learning (van Hasselt 2010) — Sutton & Barto (2018), §6.7: two tables, each evaluating the
// other's greedy action, so that one noisy maximum does not bias the target upward.
//
//   Loop for each episode:
//     Initialize S
//     Loop for each step of episode:
//       Choose A from S using the policy ε-greedy in Q1 + Q2
//       Take action A, observe R, S'
//       With 0.5 probability:
//         Q1(S,A) ← Q1(S,A) + α [R + γ Q2(S', argmax_a Q1(S',a)) − Q1(S,A)]
//       else:
//         Q2(S,A) ← Q2(S,A) + α [R + γ Q1(S', argmax_a Q2(S',a)) − Q2(S,A)]
//       S ← S'
//     until S is terminal
#include "rl/tabular_control.h"

namespace dojo::rl {

void double_qlearning(TabularLearner& l) {
  while (l.running()) {
    auto s = l.start_episode();
    for (bool done = false; !done && l.running();) {
      const auto a = l.epsilon_greedy(s);  // in Q1 + Q2 (TabularLearner::q sums the tables)
      const auto o = l.step(a);
      const int learner = l.uniform() < 0.5 ? 0 : 1, evaluator = 1 - learner;
      const double next = o.terminated ? 0.0 : l.entry(evaluator, o.next, l.argmax(o.next, learner));
      l.update(s, a, o.reward + l.gamma() * next, learner);
      s = o.next;
      done = o.done();
    }
  }
}

}  // namespace dojo::rl
