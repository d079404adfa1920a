// On-policy first-visit Monte Carlo control for ε-soft policies — Sutton & Barto (2018), §5.4:
//
//   Loop forever (for each episode):
//     Generate an episode following π: S0, A0, R1, ..., S_{T−1}, A_{T−1}, R_T
//     G ← 0
//     Loop for each step of episode, t = T−1, T−2, ..., 0:
//       G ← γG + R_{t+1}
//       Unless the pair S_t, A_t appears in S0, A0, S1, A1, ..., S_{t−1}, A_{t−1}:
//         Q(S_t, A_t) ← average(Returns(S_t, A_t))      [lr_schedule: average; else a step of α]
//     π ← ε-greedy in Q                                  (implicit: acting reads Q)
//
// A time limit's cut ends the episode like a terminal state: Monte Carlo returns cannot see past it.
#include <algorithm>
#include <vector>

#include "rl/tabular_control.h"

namespace dojo::rl {

void monte_carlo(TabularLearner& l) {
  struct Visit {
    std::int64_t s, a;
    double reward;
  };
  std::vector<Visit> episode;
  std::vector<std::int64_t> first_visit;  // per (s, a): the first t it occurs, −1 if never
  while (l.running()) {
    episode.clear();
    auto s = l.start_episode();
    bool done = false;
    while (!done && l.running()) {
      const auto a = l.epsilon_greedy(s);
      const auto o = l.step(a);
      episode.push_back({s, a, o.reward});
      s = o.next;
      done = o.done();
    }
    if (!done) break;  // the run's steps ran out mid-episode: its returns are unknown
    // A pair is updated at its first visit only: mark the first t of each pair, then walk back.
    first_visit.assign(static_cast<std::size_t>(l.n_states() * l.n_actions()), -1);
    for (std::size_t t = 0; t < episode.size(); ++t) {
      auto& f = first_visit[static_cast<std::size_t>(episode[t].s * l.n_actions() + episode[t].a)];
      if (f < 0) f = static_cast<std::int64_t>(t);
    }
    double g = 0.0;
    for (auto t = static_cast<std::int64_t>(episode.size()) - 1; t >= 0; --t) {
      const auto& v = episode[static_cast<std::size_t>(t)];
      g = l.gamma() * g + v.reward;
      if (first_visit[static_cast<std::size_t>(v.s * l.n_actions() + v.a)] == t) l.update(v.s, v.a, g);
    }
  }
}

}  // namespace dojo::rl
