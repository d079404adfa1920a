// Learning thresholds with fixed seeds and small budgets (CTest label `slow`).
#include <gtest/gtest.h>

#include "rl/trainer.h"

namespace dojo::rl {
namespace {

namespace fs = std::filesystem;

TEST(DQNLearning, RlZooPresetSolvesCartPole) {
  const auto dir = fs::temp_directory_path() / ("dojo_learn_cartpole_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  TrainRequest r;
  r.config_file = config_dir() / "dqn" / "cartpole-rlzoo.yaml";
  r.seed = 0;
  r.out = dir;
  const auto s = train(r);
  // Seeds 0-4 reach 500 here; the margin allows for another BLAS kernel's rounding on another CPU.
  EXPECT_GE(s.best_eval_mean, 475.0);
  // What a user keeps is the best checkpoint (SB3's EvalCallback best_model): it plays as well when
  // evaluated again on other episodes. Not the final weights: DQN forgets on CartPole, and whether a
  // run ends at the top is chaotic in rounding (OpenBLAS's SkylakeX kernels, 50k steps: seeds 1-4 end
  // at 500, seed 0 at 36.8 after 500 at 40k; with the generic Prescott kernels seed 0 ended high).
  EXPECT_GE(evaluate_run(dir, 10, "best", 123).mean, 475.0);
  fs::remove_all(dir);
}

// RL Zoo's Pendulum-v1 presets, seed 0 (the closing note of issue 22 reports seeds 0-2): a greedy
// evaluation at or above -200 within their 20k steps, SB3's figure being about -150.
void expect_solves_pendulum(const std::string& preset) {
  const auto dir = fs::temp_directory_path() / ("dojo_learn_pendulum_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  TrainRequest r;
  r.config_file = config_dir() / (preset + ".yaml");
  r.seed = 0;
  r.out = dir;
  const auto s = train(r);
  EXPECT_EQ(s.env_steps, 20000);
  EXPECT_GE(s.final_eval_mean, -200.0) << preset;
  fs::remove_all(dir);
}

// Issue 29's bars for the Q-learning presets, seeds 0-2, 1,000 greedy evaluation episodes each: the
// slippery lake's goal reached ≥ 70% of the time (the optimum is ~74%), Taxi ≥ 7.5 (the optimum is 7.93).
TEST(QLearning, PresetsReachTheOptimumsNeighbourhoodOnFrozenLakeAndTaxi) {
  for (const auto& [preset, bar] :
       {std::pair{"qlearning/frozenlake", 0.70}, std::pair{"qlearning/taxi", 7.5}}) {
    for (std::int64_t seed = 0; seed < 3; ++seed) {
      const auto dir = fs::temp_directory_path() / ("dojo_learn_tabular_" + std::to_string(::getpid()));
      fs::remove_all(dir);
      TrainRequest r;
      r.config_file = config_dir() / (std::string(preset) + ".yaml");
      r.seed = seed;
      r.out = dir;
      const auto s = train(r);
      EXPECT_EQ(s.final_eval_episodes, 1000);
      EXPECT_GE(s.final_eval_mean, bar) << preset << " seed " << seed;
      fs::remove_all(dir);
    }
  }
}

TEST(SACLearning, RlZooPresetSolvesPendulum) { expect_solves_pendulum("sac/pendulum"); }
TEST(TD3Learning, RlZooPresetSolvesPendulum) { expect_solves_pendulum("td3/pendulum"); }

}  // namespace
}  // namespace dojo::rl
