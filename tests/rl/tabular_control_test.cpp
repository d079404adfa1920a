// The tabular control agents: each rule learns the deterministic lake's shortest path, Q-learning
// and SARSA part ways on the cliff as in Sutton & Barto's Example 6.6, Monte Carlo learns Blackjack's
// obvious moves, n-step SARSA with n = 1 is SARSA to the bit, and tables survive checkpoints.
#include "rl/tabular_control.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <memory>

#include "cli_util.h"
#include "core/error.h"
#include "envs/registry.h"
#include "envs/wrappers.h"
#include "rl/algos.h"
#include "rl/tabular.h"
#include "rl/trainer.h"
#include "test_util.h"

namespace dojo::rl {
namespace {

namespace fs = std::filesystem;

envs::EnvFactory lake(bool slippery) {
  core::Config kwargs;
  kwargs.set("is_slippery", YAML::Node(slippery));
  return envs::EnvFactory("FrozenLake-v1", {.kwargs = kwargs});
}

TabularOptions constant_epsilon(double epsilon, double alpha) {
  return TabularOptions()
      .exploration_initial_eps(epsilon)
      .exploration_final_eps(epsilon)
      .learning_rate(alpha)
      .gamma(1.0);
}

std::unique_ptr<TabularAgent> make(const std::string& algo, const envs::EnvFactory& env,
                                   const TabularOptions& o, std::uint64_t seed = 0) {
  core::Config config;
  core::write_options(o, config);
  auto agent = make_agent(algo, config, env, seed);
  return std::unique_ptr<TabularAgent>(dynamic_cast<TabularAgent*>(agent.release()));
}

void learn(Agent& agent, std::int64_t steps) {
  CallbackList none;
  agent.learn(steps, none);
}

// The return of the greedy policy's one episode (the env is deterministic), capped at 100 steps.
double greedy_return(Agent& agent, const envs::EnvFactory& env) {
  auto e = env.wrapped([](std::unique_ptr<envs::Env> inner) {
    return std::make_unique<envs::TimeLimit>(std::move(inner), 100);
  })();
  auto obs = e->reset(0).obs;
  double total = 0.0;
  for (bool done = false; !done;) {
    const auto r = e->step(agent.act(obs));
    total += r.reward;
    obs = r.obs;
    done = r.done();
  }
  return total;
}

const std::vector<std::string> kRules = {"qlearning",        "sarsa",       "expected_sarsa",
                                         "double_qlearning", "monte_carlo", "nstep_sarsa"};

TEST(TabularControl, EveryRuleLearnsTheDeterministicLakesShortestPath) {
  for (const auto& algo : kRules) {
    // The on-policy rules' values carry their exploration's noise: a decaying step size settles them.
    auto o = TabularOptions().learning_rate(0.5).lr_schedule("linear").gamma(0.99).exploration_fraction(0.5);
    if (algo == "nstep_sarsa") o.n_steps(3);
    if (algo == "monte_carlo") o.lr_schedule("average");
    auto agent = make(algo, lake(false), o, 1);
    learn(*agent, 20'000);
    EXPECT_EQ(agent->num_timesteps(), 20'000) << algo;
    EXPECT_EQ(greedy_return(*agent, lake(false)), 1.0) << algo;
  }
}

TEST(TabularControl, QLearningConvergesToTheOptimalValues) {
  // Deterministic lake: along the greedy path, max_a Q(s, a) = V*(s) (value iteration's), γ^5 at the
  // start (six moves, the reward on the sixth).
  auto agent = make("qlearning", lake(false), TabularOptions().learning_rate(0.5).gamma(0.99), 2);
  learn(*agent, 20'000);
  const envs::FrozenLake deterministic(envs::FrozenLake::map("4x4"), false);
  const auto plan = value_iteration(deterministic.P(), 0.99);
  EXPECT_NEAR(plan.V[0], std::pow(0.99, 5), 1e-12);
  std::int64_t s = 0;
  for (int step = 0; step < 6; ++step) {
    const auto a = agent->act(torch::tensor(s)).item<std::int64_t>();
    EXPECT_NEAR(agent->q(s, a), plan.V[static_cast<std::size_t>(s)], 1e-6) << s;
    s = deterministic.P()[static_cast<std::size_t>(s)][static_cast<std::size_t>(a)][0].next;
  }
  EXPECT_EQ(s, 15);  // the goal
}

TEST(TabularControl, OnTheCliffQLearningTakesTheEdgeAndSarsaTheSafePath) {
  // Sutton & Barto's Example 6.6: ε = 0.1 throughout, α = 0.5 (decaying, so that the values settle),
  // undiscounted. Q-learning learns the optimal path along the cliff (13 steps); SARSA, valuing the
  // exploration it will keep doing, keeps to the top row (17); Expected SARSA, one row above the edge (15).
  const envs::EnvFactory cliff("CliffWalking-v0");
  const auto o = constant_epsilon(0.1, 0.5).lr_schedule("linear");
  const std::map<std::string, double> expected{
      {"qlearning", -13.0}, {"sarsa", -17.0}, {"expected_sarsa", -15.0}};
  for (const auto& [algo, ret] : expected) {
    auto agent = make(algo, cliff, o, 0);
    learn(*agent, 30'000);
    EXPECT_EQ(greedy_return(*agent, cliff), ret) << algo;
  }
}

TEST(TabularControl, MonteCarloLearnsBlackjacksObviousMoves) {
  const envs::EnvFactory blackjack("Blackjack-v1");
  // Sample averages keep the early, random policy's returns in Q for good (hitting at 11 then busting
  // at random): a constant step size decaying to 0 forgets them.
  auto agent = make(
      "monte_carlo", blackjack,
      TabularOptions().learning_rate(0.05).lr_schedule("linear").gamma(1.0).exploration_final_eps(0.1), 0);
  learn(*agent, 300'000);
  EXPECT_GT(agent->episodes(), 100'000);
  for (std::int64_t dealer = 1; dealer <= 10; ++dealer) {
    // Stick on 20 and 21; hit at 10 and 11, where no card can bust and most cards make a strong hand.
    for (std::int64_t sum : {20, 21})
      EXPECT_EQ(agent->act(torch::tensor({sum, dealer, std::int64_t{0}})).item<std::int64_t>(), 0)
          << sum << dealer;
    for (std::int64_t sum : {10, 11})
      EXPECT_EQ(agent->act(torch::tensor({sum, dealer, std::int64_t{0}})).item<std::int64_t>(), 1)
          << sum << dealer;
  }
  // The table's rows are numpy's ravel_multi_index of (sum, dealer, usable ace) over [32, 11, 2].
  EXPECT_EQ(agent->n_states(), 32 * 11 * 2);
  EXPECT_EQ(agent->state_index(torch::tensor({std::int64_t{21}, std::int64_t{10}, std::int64_t{1}})),
            (21 * 11 + 10) * 2 + 1);
}

TEST(TabularControl, NStepSarsaWithOneStepIsSarsa) {
  const auto o = TabularOptions().learning_rate(0.2).lr_schedule("linear");
  auto sarsa = make("sarsa", lake(true), o, 3);
  auto one_step = make("nstep_sarsa", lake(true), o, 3);
  learn(*sarsa, 5'000);
  learn(*one_step, 5'000);
  EXPECT_TRUE(torch::equal(sarsa->tables(), one_step->tables()));
  EXPECT_EQ(sarsa->episodes(), one_step->episodes());
  // Longer backups do differ.
  auto four_step = make("nstep_sarsa", lake(true), TabularOptions(o).n_steps(4), 3);
  learn(*four_step, 5'000);
  EXPECT_FALSE(torch::equal(sarsa->tables(), four_step->tables()));
}

TEST(TabularControl, DoubleQLearningKeepsTwoTablesAndActsOnTheirSum) {
  auto agent = make("double_qlearning", lake(true), TabularOptions(), 4);
  learn(*agent, 3'000);
  const auto t = agent->tables();
  ASSERT_EQ(t.sizes(), (std::vector<std::int64_t>{2, 16, 4}));
  EXPECT_FALSE(torch::equal(t[0], t[1]));
  for (std::int64_t s = 0; s < 16; ++s) {
    const auto sum = t[0][s] + t[1][s];
    EXPECT_EQ(agent->act(torch::tensor(s)).item<std::int64_t>(), sum.argmax().item<std::int64_t>()) << s;
  }
}

TEST(TabularControl, TheSameSeedGivesTheSameTable) {
  for (const auto& algo : kRules) {
    auto a = make(algo, lake(true), TabularOptions().lr_schedule("average"), 7);
    auto b = make(algo, lake(true), TabularOptions().lr_schedule("average"), 7);
    learn(*a, 2'000);
    learn(*b, 2'000);
    EXPECT_TRUE(torch::equal(a->tables(), b->tables())) << algo;
  }
}

TEST(TabularControl, CheckpointsRestoreTheTablesAndRefuseAnotherShape) {
  const auto dir = test::fresh_path("tabular");
  auto agent = make("qlearning", lake(true), TabularOptions().lr_schedule("average"), 5);
  learn(*agent, 2'000);
  agent->save(dir / "lake.ckpt");
  auto restored = make("qlearning", lake(true), TabularOptions().lr_schedule("average"), 9);
  restored->load(dir / "lake.ckpt");
  EXPECT_TRUE(torch::equal(restored->tables(), agent->tables()));
  EXPECT_EQ(restored->episodes(), agent->episodes());
  // Training on from the checkpoint continues the run's step count.
  learn(*restored, 3'000);
  EXPECT_EQ(restored->num_timesteps(), 3'000);
  EXPECT_GT(restored->episodes(), agent->episodes());

  auto taxi = make("qlearning", envs::EnvFactory("Taxi-v3"), TabularOptions().lr_schedule("average"), 5);
  learn(*taxi, 500);
  taxi->save(dir / "taxi.ckpt");
  const auto before = restored->tables().clone();
  try {
    restored->load(dir / "taxi.ckpt");
    FAIL() << "loaded a Taxi table into a FrozenLake agent";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[1, 500, 6]: expected [1, 16, 4]"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(torch::equal(restored->tables(), before));
  fs::remove_all(dir);
}

TEST(TabularControl, RefusesEnvsAndOptionsItCannotUse) {
  try {
    make("qlearning", envs::EnvFactory("CartPole-v1"), TabularOptions());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("qlearning keeps a table of states: expected a Discrete or MultiDiscrete "
                                   "observation space; CartPole-v1 has Box"),
        std::string::npos)
        << e.what();
  }
  EXPECT_THROW(make("sarsa", lake(true), TabularOptions().n_steps(3)), Error);
  EXPECT_THROW(make("qlearning", lake(true), TabularOptions().learning_rate(0)), Error);
  EXPECT_THROW(make("qlearning", lake(true), TabularOptions().lr_schedule("cosine")), Error);
}

TEST(TabularControl, TrainsThroughTheRunnerWithEnvKwargs) {
  const auto dir = test::fresh_path("tabular-run");
  TrainRequest r;
  r.algo = "qlearning";
  r.env_id = "FrozenLake-v1";
  r.out = dir / "run";
  r.overrides = {"env_kwargs={is_slippery: false, map_name: 8x8}", "n_timesteps=60000", "eval_freq=0",
                 "final_eval_episodes=5", "learning_rate=0.5"};
  const auto summary = train(r);
  EXPECT_EQ(summary.final_eval_mean, 1.0);
  const auto saved = core::Config::load(dir / "run" / "config.yaml");
  EXPECT_EQ(saved.section("env_kwargs").get<std::string>("map_name", ""), "8x8");
  // The run's env is the 8x8 lake: eval and load_run rebuild it from config.yaml.
  const auto loaded = load_run(dir / "run", "last", 0);
  EXPECT_EQ(dynamic_cast<TabularAgent&>(*loaded.agent).n_states(), 64);

  r.out = dir / "bad";
  r.overrides = {"env_kwargs={is_slipery: false}"};
  EXPECT_THROW(resolve_config(r), Error);
  r.overrides = {"env_kwargs=3"};
  EXPECT_THROW(resolve_config(r), Error);
  r.overrides = {"env_kwargs={desc: [SFF, FHF, FFF]}"};  // no goal
  EXPECT_THROW(resolve_config(r), Error);
  EXPECT_FALSE(fs::exists(dir / "bad"));
  fs::remove_all(dir);
}

TEST(TabularControl, BadMapsAndKwargsAtTheCommandLineExitTwoWithOneLine) {
  const auto dir = test::fresh_path("tabular-cli");
  const auto out = " --out " + (dir / "run").string();
  test::expect_bad_input(
      "train qlearning --env FrozenLake-v1" + out + " --set 'env_kwargs={desc: [SFF, FHF, FFF]}'",
      "FrozenLake map: no goal tile G");
  test::expect_bad_input(
      "train qlearning --env FrozenLake-v1" + out + " --set 'env_kwargs={desc: [SFX, FHF, FFG]}'",
      "'X' at row 0, column 2: expected S, F, H or G");
  test::expect_bad_input("train qlearning --env CartPole-v1" + out, "qlearning keeps a table of states");
  test::expect_bad_input("train qlearning --env Taxi-v3" + out + " --set 'env_kwargs={is_slippery: false}'",
                         "is_slippery");
  test::expect_bad_input("env rollout FrozenLake-v1 --kwarg 'desc=[SFF, FHF, FFF]'", "no goal tile G");
  test::expect_bad_input("play FrozenLake-v1 --kwarg map_name=5x5 < /dev/null", "map_name '5x5'");
  test::expect_bad_input("env random FrozenLake-v1 --kwarg is_slippery",
                         "--kwarg 'is_slippery': expected KEY=VALUE");
  EXPECT_FALSE(fs::exists(dir));
  // A good one goes through: the lake without ice, every step as asked.
  const auto r = test::dojo("env rollout FrozenLake-v1 --kwarg is_slippery=false --steps 3 --seed 1");
  EXPECT_EQ(r.rc, 0) << r.err;
}

}  // namespace
}  // namespace dojo::rl
