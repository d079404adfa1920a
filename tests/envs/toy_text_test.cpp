// The toy-text envs against Gymnasium v0.29's rules (gymnasium/envs/toy_text): transition tables,
// rewards, terminations, start states, keyword arguments and seeding.
#include "envs/toy_text/toy_text.h"

#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <set>

#include "core/error.h"
#include "envs/registry.h"
#include "envs/wrappers.h"

namespace dojo::envs {
namespace {

std::int64_t obs(const torch::Tensor& t) { return t.item<std::int64_t>(); }

core::Config kwargs(const std::string& yaml) { return core::Config::parse(yaml, "test"); }

TEST(FrozenLake, SlipperyTableGoesEachWayAThird) {
  FrozenLake lake;  // 4x4, slippery
  ASSERT_EQ(lake.n_states(), 16);
  ASSERT_EQ(lake.n_actions(), 4);
  // From the corner, LEFT slips UP (stay), LEFT (stay) or DOWN (state 4), 1/3 each.
  const auto& out = lake.P()[0][0];
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].next, 0);
  EXPECT_EQ(out[1].next, 0);
  EXPECT_EQ(out[2].next, 4);
  for (const auto& t : out) {
    EXPECT_DOUBLE_EQ(t.prob, 1.0 / 3.0);
    EXPECT_FALSE(t.terminated);
  }
  // Into the hole at (1,1) from (0,1) going DOWN: terminated, no reward; the goal pays 1.
  bool hole = false;
  for (const auto& t : lake.P()[1][1]) hole |= t.next == 5 && t.terminated && t.reward == 0.0;
  EXPECT_TRUE(hole);
  bool goal = false;
  for (const auto& t : lake.P()[14][2]) goal |= t.next == 15 && t.terminated && t.reward == 1.0;
  EXPECT_TRUE(goal);
  // Holes and the goal are absorbing in the table; every row sums to 1.
  EXPECT_EQ(lake.P()[5][3][0].next, 5);
  for (const auto& s : lake.P())
    for (const auto& a : s) {
      double total = 0;
      for (const auto& t : a) total += t.prob;
      EXPECT_NEAR(total, 1.0, 1e-12);
    }
  // Sampling follows the table: DOWN from the start slips LEFT (stay at 0), DOWN (4) or RIGHT (1).
  std::map<std::int64_t, int> seen;
  auto env = make("FrozenLake-v1");
  env->reset(0);
  for (int i = 0; i < 3000; ++i) {
    env->reset();
    ++seen[obs(env->step(1).obs)];
  }
  ASSERT_EQ(seen.size(), 3u);
  for (const auto s : {0, 1, 4}) EXPECT_NEAR(seen[s] / 3000.0, 1.0 / 3.0, 0.03) << s;
}

TEST(FrozenLake, DeterministicPathReachesTheGoal) {
  auto env = make("FrozenLake-v1", {.kwargs = kwargs("is_slippery: false")});
  auto r0 = env->reset(0);
  EXPECT_EQ(obs(r0.obs), 0);
  EXPECT_EQ(r0.info.at("prob").number(), 1.0);
  double total = 0;
  StepResult s;
  for (const int a : {2, 2, 1, 1, 1, 2}) {
    s = env->step(a);
    total += s.reward;
  }
  EXPECT_EQ(obs(s.obs), 15);
  EXPECT_TRUE(s.terminated);
  EXPECT_EQ(total, 1.0);
  // Into the hole: terminated with nothing.
  env->reset(0);
  s = env->step(1);
  s = env->step(2);  // (1,0) -> (1,1), a hole
  EXPECT_EQ(obs(s.obs), 5);
  EXPECT_TRUE(s.terminated);
  EXPECT_EQ(s.reward, 0.0);
}

TEST(FrozenLake, TimeLimitsAndThresholdsAreGymnasiums) {
  EXPECT_EQ(*spec("FrozenLake-v1").max_episode_steps, 100);
  EXPECT_EQ(*spec("FrozenLake8x8-v1").max_episode_steps, 200);
  EXPECT_EQ(*spec("FrozenLake-v1").reward_threshold, 0.70);
  EXPECT_EQ(*spec("FrozenLake8x8-v1").reward_threshold, 0.85);
  EXPECT_EQ(std::get<Discrete>(make("FrozenLake8x8-v1")->observation_space()).n, 64);
  auto env = make("FrozenLake-v1", {.kwargs = kwargs("is_slippery: false")});
  env->reset(0);
  StepResult s;
  for (int i = 0; i < 100; ++i) s = env->step(0);  // LEFT against the wall, forever
  EXPECT_TRUE(s.truncated);
  EXPECT_FALSE(s.terminated);
}

TEST(FrozenLake, CustomMapsAndTheirErrors) {
  auto env = make("FrozenLake-v1", {.kwargs = kwargs("desc: [SFG]\nis_slippery: false")});
  env->reset(0);
  env->step(2);
  EXPECT_EQ(env->step(2).reward, 1.0);
  const auto bad = [](const std::string& yaml, const std::string& named) {
    try {
      make("FrozenLake-v1", {.kwargs = kwargs(yaml)});
      ADD_FAILURE() << yaml;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
    }
  };
  bad("desc: [SFFF, FHFH]", "no goal tile G");
  bad("desc: [SFX, FFG]", "'X' at row 0, column 2");
  bad("desc: [FFF, FFG]", "no start tile S");
  bad("desc: [SF, FFG]", "row 1 has 3 tiles");
  bad("map_name: 5x5", "5x5");
  bad("slippery: true", "unknown keyword argument 'slippery'");
  EXPECT_THROW(make("CartPole-v1", {.kwargs = kwargs("gravity: 3")}), Error);
}

TEST(FrozenLake, RandomMapsAreSeededAndSolvable) {
  const auto a = generate_random_map(8, 0.8, 3), b = generate_random_map(8, 0.8, 3);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, generate_random_map(8, 0.8, 4));
  ASSERT_EQ(a.size(), 8u);
  EXPECT_EQ(a[0][0], 'S');
  EXPECT_EQ(a[7][7], 'G');
  // Solvable: value iteration's reach from S, by a breadth-first walk over the deterministic lake.
  FrozenLake lake(generate_random_map(10, 0.6, 1), false);
  std::set<std::int64_t> reached{0}, frontier{0};
  while (!frontier.empty()) {
    std::set<std::int64_t> next;
    for (auto s : frontier)
      for (const auto& a : lake.P()[static_cast<std::size_t>(s)])
        if (!a[0].terminated || a[0].reward > 0)
          if (reached.insert(a[0].next).second) next.insert(a[0].next);
    frontier = next;
  }
  EXPECT_TRUE(reached.count(99));
  EXPECT_THROW(generate_random_map(1), Error);
}

TEST(Taxi, FiveHundredStatesAndItsRules) {
  Taxi taxi;
  ASSERT_EQ(taxi.n_states(), 500);
  ASSERT_EQ(taxi.n_actions(), 6);
  for (std::int64_t s = 0; s < 500; ++s) {
    const auto d = Taxi::decode(s);
    EXPECT_EQ(Taxi::encode(d.row, d.col, d.passenger, d.destination), s);
  }
  // Starts: the passenger waits at a stand other than the destination (300 states, uniformly).
  const auto& isd = taxi.initial_distribution();
  EXPECT_EQ(std::count_if(isd.begin(), isd.end(), [](double p) { return p > 0; }), 300);
  for (int seed = 0; seed < 200; ++seed) {
    const auto d = Taxi::decode(obs(taxi.reset(static_cast<std::uint64_t>(seed)).obs));
    EXPECT_LT(d.passenger, 4);
    EXPECT_NE(d.passenger, d.destination);
  }
  // Taxi at R (0,0) with the passenger at R going to G: illegal drop-off −10, pickup −1, east is
  // walled off at (0,1), drop at Y (another stand) −1, and at G +20, the end.
  const auto s0 = Taxi::encode(0, 0, 0, 1);
  EXPECT_EQ(taxi.P()[s0][5][0].reward, -10.0);
  EXPECT_EQ(taxi.P()[s0][4][0].reward, -1.0);
  EXPECT_EQ(taxi.P()[s0][4][0].next, Taxi::encode(0, 0, 4, 1));
  EXPECT_EQ(taxi.P()[Taxi::encode(0, 1, 4, 1)][2][0].next, Taxi::encode(0, 1, 4, 1));
  EXPECT_EQ(taxi.P()[Taxi::encode(1, 1, 4, 1)][2][0].next, Taxi::encode(1, 1, 4, 1));  // wall too
  EXPECT_EQ(taxi.P()[Taxi::encode(2, 1, 4, 1)][2][0].next, Taxi::encode(2, 2, 4, 1));  // open
  const auto at_y = taxi.P()[Taxi::encode(4, 0, 4, 1)][5][0];
  EXPECT_EQ(at_y.reward, -1.0);
  EXPECT_EQ(at_y.next, Taxi::encode(4, 0, 2, 1));
  EXPECT_FALSE(at_y.terminated);
  const auto at_g = taxi.P()[Taxi::encode(0, 4, 4, 1)][5][0];
  EXPECT_EQ(at_g.reward, 20.0);
  EXPECT_TRUE(at_g.terminated);
  EXPECT_EQ(taxi.P()[Taxi::encode(2, 2, 1, 3)][4][0].reward, -10.0);  // nobody to pick up here
  // The action mask flags the moves that change the state.
  EXPECT_EQ(Taxi::action_mask(Taxi::encode(0, 0, 0, 1)), (std::vector<std::uint8_t>{1, 0, 1, 0, 1, 0}));
  EXPECT_EQ(*spec("Taxi-v3").max_episode_steps, 200);
  auto env = make("Taxi-v3");
  const auto r = env->reset(5);
  EXPECT_EQ(action_mask(r.info).numel(), 6);
}

TEST(CliffWalking, TheCliffSendsYouBackAndTheGoalEnds) {
  auto env = make("CliffWalking-v0");
  EXPECT_FALSE(spec("CliffWalking-v0").max_episode_steps.has_value());
  EXPECT_EQ(obs(env->reset(0).obs), 36);
  auto s = env->step(1);  // RIGHT off the start: the cliff
  EXPECT_EQ(obs(s.obs), 36);
  EXPECT_EQ(s.reward, -100.0);
  EXPECT_FALSE(s.terminated);
  double total = 0;
  s = env->step(0);  // UP
  total += s.reward;
  for (int i = 0; i < 11; ++i) total += env->step(1).reward;
  s = env->step(2);  // DOWN onto the goal
  total += s.reward;
  EXPECT_EQ(obs(s.obs), 47);
  EXPECT_TRUE(s.terminated);
  EXPECT_EQ(total, -13.0);
  EXPECT_NE(render_text(*env).find(" x "), std::string::npos);
}

TEST(Blackjack, DealerDrawsToSeventeenAndNaturalsPay) {
  Blackjack game;
  game.reset(0);
  game.set_hands({1, 10}, {10, 7});
  auto s = game.step(0);  // stick on a natural 21 against 17: +1 (no bonus by default)
  EXPECT_TRUE(s.terminated);
  EXPECT_EQ(s.reward, 1.0);
  Blackjack natural(true, false);
  natural.reset(0);
  natural.set_hands({10, 1}, {10, 7});
  EXPECT_EQ(natural.step(0).reward, 1.5);
  Blackjack sab(false, true);
  sab.reset(0);
  sab.set_hands({1, 10}, {1, 10});
  EXPECT_EQ(sab.step(0).reward, 0.0);  // both naturals: a draw
  sab.set_hands({1, 10}, {5, 6});
  EXPECT_EQ(sab.step(0).reward, 1.0);
  // Busting on a hit loses at once.
  game.set_hands({10, 9}, {10, 7});
  int busts = 0;
  for (int i = 0; i < 50; ++i) {
    game.set_hands({10, 9}, {10, 7});
    const auto r = game.step(1);
    if (Blackjack::sum_hand(game.player()) > 21) {
      ++busts;
      EXPECT_TRUE(r.terminated);
      EXPECT_EQ(r.reward, -1.0);
    } else {
      EXPECT_FALSE(r.terminated);
      EXPECT_EQ(r.reward, 0.0);
    }
  }
  EXPECT_GT(busts, 30);  // only an ace or a two keeps 19 alive: 11 of 13 cards bust
  // The dealer stands at 17 or more, draws below.
  game.set_hands({10, 8}, {10, 6});
  game.step(0);
  EXPECT_GE(Blackjack::sum_hand(game.dealer()), 17);
  // Usable ace: 1 + 6 counts 17; observation (sum, dealer card, usable ace).
  game.set_hands({1, 6}, {4, 10});
  EXPECT_EQ(Blackjack::sum_hand(game.player()), 17);
  EXPECT_TRUE(Blackjack::usable_ace(game.player()));
  // The registered id plays by Sutton & Barto's rules (Gymnasium's kwargs sab=True).
  auto sab_env = make("Blackjack-v1");
  sab_env->reset(0);
  auto& sab_game = dynamic_cast<Blackjack&>(dynamic_cast<Wrapper&>(*sab_env).unwrapped());
  sab_game.set_hands({1, 10}, {10, 7});
  EXPECT_EQ(sab_env->step(0).reward, 1.0);
  sab_game.set_hands({1, 10}, {1, 10});
  EXPECT_EQ(sab_env->step(0).reward, 0.0);
  auto env = make("Blackjack-v1", {.kwargs = kwargs("natural: true\nsab: false")});
  const auto r = env->reset(3);
  EXPECT_EQ(r.obs.sizes(), (std::vector<std::int64_t>{3}));
  EXPECT_TRUE(contains(env->observation_space(), r.obs));
  EXPECT_THROW(make("Blackjack-v1", {.kwargs = kwargs("naturals: true")}), Error);
}

TEST(ToyText, SameSeedAndActionsGiveTheSameEpisodes) {
  for (const auto* id : {"FrozenLake-v1", "FrozenLake8x8-v1", "Taxi-v3", "CliffWalking-v0", "Blackjack-v1"}) {
    const auto run = [&](std::uint64_t seed) {
      auto env = make(id);
      std::mt19937_64 actions(9);
      std::vector<double> trace;
      auto r = env->reset(seed);
      for (int i = 0; i < 300; ++i) {
        const auto s = env->step(sample(env->action_space(), actions));
        trace.push_back(s.obs.sum().item<double>());
        trace.push_back(s.reward);
        if (s.done()) trace.push_back(env->reset().obs.sum().item<double>());
      }
      return trace;
    };
    EXPECT_EQ(run(4), run(4)) << id;
    // CliffWalking is deterministic: every seed gives the same episodes.
    if (std::string(id) != "CliffWalking-v0") {
      EXPECT_NE(run(4), run(5)) << id;
    }
  }
  EXPECT_NE(tabular(*make("Taxi-v3")), nullptr);
  EXPECT_EQ(tabular(*make("CartPole-v1")), nullptr);
  EXPECT_FALSE(render_text(*make("FrozenLake-v1")).empty());
}

// LPG's grids: the families are reproducible, every row of P is a distribution, and the object rules
// (reward, termination, respawn, slip) are what toy_text.h says.
TEST(GridWorld, FamiliesAreSeededValidAndDiffer) {
  const auto a = grid_family("tabular", 3), b = grid_family("tabular", 3), c = grid_family("tabular", 4);
  EXPECT_EQ(a.map, b.map);
  EXPECT_TRUE(a.map != c.map || a.objects.size() != c.objects.size() ||
              a.objects[0].row != c.objects[0].row || a.objects[0].col != c.objects[0].col);
  for (const std::string family : {"tabular", "random"}) {
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
      const auto g = grid_family(family, seed);
      EXPECT_GE(g.map.size(), 4u);
      EXPECT_LE(g.map.size(), 6u);
      EXPECT_GE(g.objects.size(), 1u);
      EXPECT_LE(g.objects.size(), 3u);
      EXPECT_GT(g.objects[0].reward, 0.0);
      EXPECT_EQ(g.slip > 0, family == "random");
      const GridWorld env(g);
      for (const auto& row : env.P()) {
        for (const auto& outcomes : row) {
          double total = 0;
          for (const auto& t : outcomes) total += t.prob;
          EXPECT_NEAR(total, 1.0, 1e-12);
        }
      }
    }
  }
  EXPECT_THROW(grid_family("maze", 0), Error);
}

TEST(GridWorld, ObjectsPayEndRespawnAndSlip) {
  // Start at (0, 0); a goal at (0, 1) that ends the episode, a coin at (1, 0) that comes back at 0.5.
  GridSpec g;
  g.map = {"S..", "...", "..#"};
  g.objects = {{0, 1, 1.0, 1.0, 0.0}, {1, 0, 0.5, 0.0, 0.5}};
  const GridWorld env(g);
  ASSERT_EQ(env.n_states(), 9 * 4);
  const std::int64_t start = 0 * 4 + 3;  // cell 0, both objects present
  EXPECT_DOUBLE_EQ(env.initial_distribution()[static_cast<std::size_t>(start)], 1.0);
  const auto& right = env.P()[static_cast<std::size_t>(start)][1];
  ASSERT_EQ(right.size(), 1u);
  EXPECT_TRUE(right[0].terminated);
  EXPECT_DOUBLE_EQ(right[0].reward, 1.0);
  // DOWN takes the coin (mask loses bit 1); it cannot come back on the step it was taken.
  const auto& down = env.P()[static_cast<std::size_t>(start)][2];
  ASSERT_EQ(down.size(), 1u);
  EXPECT_FALSE(down[0].terminated);
  EXPECT_EQ(down[0].next, 3 * 4 + 1);
  EXPECT_DOUBLE_EQ(down[0].reward, 0.5);
  // From there, UP back to the start: the coin comes back with probability 0.5.
  const auto& up = env.P()[static_cast<std::size_t>(3 * 4 + 1)][0];
  ASSERT_EQ(up.size(), 2u);
  EXPECT_DOUBLE_EQ(up[0].prob, 0.5);
  EXPECT_EQ(up[0].next, 0 * 4 + 1);
  EXPECT_EQ(up[1].next, 0 * 4 + 3);
  // LEFT off the grid stays put; a wall stops a move too.
  EXPECT_EQ(env.P()[static_cast<std::size_t>(start)][3][0].next, start);
  EXPECT_EQ(env.P()[static_cast<std::size_t>((5 * 4) + 3)][2][0].next, 5 * 4 + 3);
  // Slip 0.4: the intended way 0.6 + 0.1, each other way 0.1.
  g.slip = 0.4;
  const GridWorld slippery(g);
  double to_goal = 0;
  for (const auto& t : slippery.P()[static_cast<std::size_t>(start)][1])
    if (t.terminated) to_goal += t.prob;
  EXPECT_NEAR(to_goal, 0.7, 1e-12);
}

TEST(GridWorld, KwargsAndBadGrids) {
  const auto env = make("GridWorld-v0", {.kwargs = kwargs("{family: random, seed: 5}")});
  const auto* grid = dynamic_cast<const GridWorld*>(tabular(*env));
  ASSERT_NE(grid, nullptr);
  EXPECT_EQ(grid->spec().map, grid_family("random", 5).map);
  const auto custom =
      make("GridWorld-v0", {.kwargs = kwargs("{map: [S., ..], objects: [{row: 1, col: 1}]}")});
  EXPECT_EQ(tabular(*custom)->n_states(), 8);
  EXPECT_THROW(make("GridWorld-v0", {.kwargs = kwargs("{map: [S., .x], objects: [{row: 1, col: 1}]}")}),
               Error);
  EXPECT_THROW(make("GridWorld-v0", {.kwargs = kwargs("{map: [.., ..], objects: [{row: 1, col: 1}]}")}),
               Error);
  EXPECT_THROW(make("GridWorld-v0", {.kwargs = kwargs("{map: [S., .#], objects: [{row: 1, col: 1}]}")}),
               Error);
  EXPECT_THROW(make("GridWorld-v0", {.kwargs = kwargs("{map: [S., ..], objects: []}")}), Error);
  EXPECT_THROW(make("GridWorld-v0", {.kwargs = kwargs("{colour: red}")}), Error);
  EXPECT_EQ(spec("GridWorld-v0").max_episode_steps, 50);
}

}  // namespace
}  // namespace dojo::envs
