#include "rl/trainer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/files.h"
#include "envs/registry.h"
#include "rl/callbacks.h"
#include "rl/dqn.h"
#include "test_util.h"

namespace dojo::rl {
namespace {

namespace fs = std::filesystem;

using test::dojo;
using test::expect_bad_input;
using test::fresh_path;
using test::snapshot;

TrainRequest tiny(const fs::path& out) {
  TrainRequest r;
  r.algo = "dqn";
  r.out = out;
  r.overrides = {"n_timesteps=1500",      "eval_freq=500",       "n_eval_episodes=2",
                 "final_eval_episodes=3", "learning_starts=200", "train_freq=4",
                 "gradient_steps=1",      "net_arch=[32]",       "n_threads=1"};
  return r;
}

TEST(ResolveConfig, DefaultsToDqnOnCartPoleWithItsPresetAndEveryKey) {
  const auto cfg = resolve_config({});
  EXPECT_EQ(cfg.get<std::string>("algo", ""), "dqn");
  EXPECT_EQ(cfg.get<std::string>("env_id", ""), "CartPole-v1");
  for (const char* key :
       {"learning_rate", "buffer_size", "learning_starts", "batch_size", "gamma", "train_freq",
        "target_update_interval", "exploration_fraction", "exploration_final_eps", "seed"}) {
    EXPECT_TRUE(cfg.has(key)) << key;
  }
}

TEST(ResolveConfig, PicksTheEnvsPresetAndAppliesOverridesInOrder) {
  TrainRequest r;
  r.algo = "dqn";
  r.env_id = "Acrobot-v1";
  r.overrides = {"learning_rate=0.5"};
  r.seed = 9;
  const auto cfg = resolve_config(r);
  EXPECT_EQ(cfg.get<std::int64_t>("target_update_interval", 0), 250);  // from configs/dqn/acrobot.yaml
  EXPECT_DOUBLE_EQ(cfg.get<double>("learning_rate", 0), 0.5);
  EXPECT_EQ(cfg.get<std::int64_t>("seed", 0), 9);
  EXPECT_EQ(find_preset("dqn", "MountainCar-v0")->filename(), "mountaincar.yaml");
}

TEST(ResolveConfig, BadInputIsAnError) {
  TrainRequest r;
  r.algo = "dqm";
  EXPECT_THROW(resolve_config(r), Error);
  r.algo = "dqn";
  r.env_id = "CartPole-v9";
  EXPECT_THROW(resolve_config(r), Error);
  r.env_id.reset();
  r.overrides = {"batch_size=-3"};
  EXPECT_THROW(resolve_config(r), Error);
  r.overrides = {"gamma=high"};
  EXPECT_THROW(resolve_config(r), Error);
  r.overrides = {};
  r.config_file = "/nonexistent.yaml";
  EXPECT_THROW(resolve_config(r), Error);
}

TEST(Train, PPOOnPixelsWithTheAtariWrappersTrains) {
  const auto dir = fresh_path("ppo_pixels");
  TrainRequest r;
  r.algo = "ppo";
  r.env_id = "Pixel/Breakout-v1";
  r.out = dir;
  r.overrides = {"atari_wrappers=true", "n_envs=2",       "n_steps=16",  "batch_size=32",
                 "n_epochs=1",          "n_timesteps=64", "eval_freq=0", "final_eval_episodes=1",
                 "n_threads=1",         "network=nature", "noop_max=0"};
  const auto s = train(r);
  EXPECT_EQ(s.env_steps, 64);
  EXPECT_TRUE(fs::exists(dir / "checkpoints" / "last.ckpt"));
  fs::remove_all(dir);
}

// The S-RL setting: PPO's image network on Pendulum's picture, the state only in info.
TEST(Train, PPOOnAStateEnvsPictureTrains) {
  const auto dir = fresh_path("ppo_pendulum_pixels");
  TrainRequest r;
  r.algo = "ppo";
  r.env_id = "Pendulum-v1";
  r.out = dir;
  r.overrides = {"pixels=40",
                 "pixel_frames=2",
                 "pixel_gray=true",
                 "n_envs=2",
                 "n_steps=16",
                 "batch_size=32",
                 "n_epochs=1",
                 "n_timesteps=64",
                 "eval_freq=0",
                 "n_threads=1",
                 "final_eval_episodes=1",
                 "network=nature"};
  auto env = run_env_factory(RunOptions().env_id("Pendulum-v1").pixels(40).pixel_gray(true), true)();
  EXPECT_EQ(envs::to_string(env->observation_space()), "Box(0, 255, (40, 40, 2), uint8)");
  EXPECT_EQ(env->reset(0).info.at("state").tensor().sizes(), (std::vector<std::int64_t>{3}));
  const auto s = train(r);
  EXPECT_EQ(s.env_steps, 64);
  fs::remove_all(dir);

  r.overrides = {"pixels=64", "atari_wrappers=true"};
  EXPECT_THROW(resolve_config(r), Error);
  r.overrides = {"pixels=-1"};
  EXPECT_THROW(resolve_config(r), Error);
}

TEST(EvalCallback, StopsTrainingOnceAnEvaluationReachesTheThreshold) {
  const auto dir = fresh_path("stop");
  std::filesystem::create_directories(dir / "checkpoints");
  DQN agent(envs::EnvFactory("CartPole-v1", {.record_episode_statistics = true}),
            DQNOptions().net_arch({16}).learning_starts(100), 0);
  auto eval_env = envs::make("CartPole-v1");
  eval_env->reset(5);
  EvalCallback eval(std::move(eval_env), 300, 1, dir, false, std::nan(""), nullptr, /*stop_threshold=*/1.0);
  agent.learn(5000, eval);
  EXPECT_EQ(agent.num_timesteps(), 300);  // every CartPole episode returns >= 1
  EXPECT_EQ(eval.evaluations(), 1);
  EXPECT_TRUE(fs::exists(dir / "checkpoints" / "best.ckpt"));
  fs::remove_all(dir);

  TrainRequest r;
  r.env_id = "Pendulum-v1";  // no reward threshold registered
  r.overrides = {"stop_on_reward_threshold=true"};
  EXPECT_THROW(resolve_config(r), Error);
}

TEST(Train, WritesTheWholeRunDirectoryAndResumes) {
  const auto dir = fresh_path("run");
  const auto s = train(tiny(dir));
  for (const char* f : {"config.yaml", "metrics.csv", "eval.csv", "checkpoints/best.ckpt",
                        "checkpoints/last.ckpt", "learning_curve.png", "summary.json"}) {
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  }
  EXPECT_EQ(s.env_steps, 1500);
  const auto summary = nlohmann::json::parse(core::read_text(dir / "summary.json"));
  for (const char* k : {"algo", "env_id", "seed", "env_steps", "wall_time_s", "final_eval_mean",
                        "final_eval_std", "best_eval_mean"}) {
    EXPECT_TRUE(summary.contains(k)) << k;
  }
  EXPECT_EQ(summary["env_steps"], 1500);
  EXPECT_EQ(core::read_csv(dir / "eval.csv").column("step"), (std::vector<double>{500, 1000, 1500}));
  EXPECT_GT(core::read_csv(dir / "metrics.csv").rows.size(), 10u);
  // Columns follow what the agent recorded.
  for (const char* column : {"exploration", "loss", "q_mean"})
    EXPECT_NO_THROW(core::read_csv(dir / "metrics.csv").column(column)) << column;

  // The saved config repeats the run: every key is there, resolved.
  const auto cfg = core::Config::load(dir / "config.yaml");
  EXPECT_EQ(cfg.get<std::int64_t>("n_timesteps", 0), 1500);
  EXPECT_TRUE(cfg.has("exploration_initial_eps"));

  // A finished run has nothing left to do: resuming it without --steps changes nothing.
  const auto finished = snapshot(dir);
  EXPECT_THROW(resume(dir), Error);
  EXPECT_THROW(resume(dir, 0), Error);
  EXPECT_EQ(snapshot(dir), finished);
  const auto resumed = resume(dir, 1000);  // 1000 steps more (SB3's reset_num_timesteps=False)
  EXPECT_EQ(resumed.env_steps, 2500);
  EXPECT_EQ(core::Config::load(dir / "config.yaml").get<std::int64_t>("n_timesteps", 0), 2500);
  const auto steps = core::read_csv(dir / "eval.csv").column("step");
  EXPECT_EQ(steps, (std::vector<double>{500, 1000, 1500, 2000, 2500}));
  const auto metric_steps = core::read_csv(dir / "metrics.csv").column("step");
  EXPECT_TRUE(std::is_sorted(metric_steps.begin(), metric_steps.end()));
  EXPECT_GE(resumed.wall_time_s, s.wall_time_s);

  const auto best = evaluate_run(dir, 2, "best", 0);
  EXPECT_EQ(best.returns.size(), 2u);
  EXPECT_THROW(evaluate_run(dir, 2, "worst", 0), Error);
  // Random actions on CartPole last about 22 steps, far below a trained agent's budget.
  const auto random = evaluate_run(dir, 20, "random", 0);
  EXPECT_GT(random.mean, 8.0);
  EXPECT_LT(random.mean, 40.0);
  EXPECT_EQ(evaluate_run(dir, 20, "random", 0).returns, random.returns);  // seeded
  EXPECT_THROW(resume(dir.parent_path()), Error);
  fs::remove_all(dir);
}

TEST(EvaluateRun, RecordsEachEpisodeAsAGifOfRenderedFrames) {
  const auto dir = fresh_path("record");
  auto req = tiny(dir / "run");
  req.env_id = "MinAtar/Breakout-v1";
  req.overrides.push_back("n_timesteps=600");
  train(req);
  const auto r = evaluate_run(dir / "run", 2, "last", 0, dir / "gifs");
  ASSERT_EQ(r.returns.size(), 2u);
  for (const char* f : {"episode_000.gif", "episode_001.gif"}) {
    const auto bytes = core::read_text(dir / "gifs" / f);
    EXPECT_EQ(bytes.substr(0, 6), "GIF89a") << f;
    EXPECT_GT(bytes.size(), 1000u) << f;
  }
  EXPECT_FALSE(fs::exists(dir / "gifs" / "episode_002.gif"));
  fs::remove_all(dir);
}

TEST(Cli, BadInputExitsTwoWithOneLineAndChangesNothing) {
  const auto dir = fresh_path("cli");
  train(tiny(dir / "run"));
  const auto run = (dir / "run").string();
  const auto before = snapshot(dir);

  expect_bad_input("train --env CartPol-v1", "CartPol-v1");
  expect_bad_input("train dqm", "dqm");
  expect_bad_input("train --set learnin_rate=1", "learnin_rate");
  expect_bad_input("train --set learning_rate=fast", "fast");
  expect_bad_input("train --config /nonexistent/x.yaml", "/nonexistent/x.yaml");
  expect_bad_input("train --out " + run, run);
  expect_bad_input("train --resume " + dir.string(), dir.string());
  expect_bad_input("eval " + dir.string(), dir.string());
  expect_bad_input("env rollout NoSuchEnv-v0", "NoSuchEnv-v0");
  expect_bad_input("play NoSuchEnv-v0 < /dev/null", "NoSuchEnv-v0");
  expect_bad_input("play Pendulum-v1 < /dev/null", "Pendulum-v1");
  // --record into a folder that holds files (here the run itself) refuses rather than overwrite.
  expect_bad_input("eval " + run + " --record " + run, run);
  // Checks that once ran after the run directory existed: each leaves nothing behind now.
  const auto out = " --out " + (dir / "new").string();
  expect_bad_input("train" + out + " --set net_arch=[64,-3]", "net_arch");
  expect_bad_input("train" + out + " --env Pendulum-v1", "Pendulum-v1");  // DQN on Box actions
  expect_bad_input("train sac" + out + " --env CartPole-v1",
                   "sac needs a Box action space; CartPole-v1 has Discrete(2)");
  expect_bad_input("train a2c" + out + " --set rms_prop_eps=0", "rms_prop_eps");  // A2C's key, not PPO's
  EXPECT_EQ(snapshot(dir), before);

  // A truncated checkpoint: eval and resume both refuse it, and the run is left as it was.
  const auto ckpt = dir / "run" / "checkpoints" / "last.ckpt";
  const auto bytes = core::read_text(ckpt);
  core::atomic_write_text(ckpt, bytes.substr(0, bytes.size() / 3));
  const auto corrupted = snapshot(dir);
  expect_bad_input("eval " + run + " --checkpoint last", "last.ckpt");
  expect_bad_input("train --resume " + run + " --steps 3000", "last.ckpt");
  EXPECT_EQ(snapshot(dir), corrupted);
  fs::remove_all(dir);
}

TEST(Cli, PlayTakesOneStepPerPipedKey) {
  const char* bin = std::getenv("DOJO_BIN");
  ASSERT_NE(bin, nullptr);
  const auto out_file = fresh_path("play");
  // CartPole: "1" pushes right every step; the pole falls within a dozen steps, one reward each.
  ASSERT_EQ(std::system(("printf 1111111111111111111111111 | " + std::string(bin) +
                         " play CartPole-v1 --seed 3 > " + out_file.string())
                            .c_str()),
            0);
  const auto out = core::read_text(out_file);
  const auto at = out.find("episode 0: return ");
  ASSERT_NE(at, std::string::npos) << out;
  const int ret = std::stoi(out.substr(at + 18));
  EXPECT_GE(ret, 5);
  EXPECT_LE(ret, 25);
  EXPECT_NE(out.find("in " + std::to_string(ret) + " steps"), std::string::npos) << out;
  // q quits before the episode ends.
  ASSERT_EQ(
      std::system(
          ("printf '..q' | " + std::string(bin) + " play MinAtar/Freeway-v1 > " + out_file.string()).c_str()),
      0);
  EXPECT_NE(core::read_text(out_file).find("episode 0: return 0 in 2 steps (quit)"), std::string::npos);
  fs::remove(out_file);
}

TEST(Cli, FindsPresetsBesideTheProgramNotInTheSourceTree) {
  // Without DOJO_CONFIG_DIR, build/dojo reads build/configs (an installed one, <prefix>/share/dojo/configs).
  const std::string bin = std::getenv("DOJO_BIN");
  const auto err = fs::temp_directory_path() / ("dojo_preset_err_" + std::to_string(::getpid()));
  const int status =
      std::system(("env -u DOJO_CONFIG_DIR " + bin +
                   " train --env Acrobot-v1 --set n_timesteps=-1 > /dev/null 2> " + err.string())
                      .c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  const auto text = core::read_text(err);
  const auto beside = (fs::path(bin).parent_path() / "configs" / "dqn" / "acrobot.yaml").string();
  EXPECT_NE(text.find("preset " + beside), std::string::npos) << text;
  EXPECT_NE(text.find("n_timesteps = -1"), std::string::npos) << text;
  fs::remove(err);
}

TEST(Cli, RolloutPrintsJsonLinesFromAnActionsFile) {
  const auto actions = fresh_path("actions");
  core::atomic_write_text(actions, "1\n0\n1\n");
  const char* bin = std::getenv("DOJO_BIN");
  ASSERT_NE(bin, nullptr);
  const auto out_file = actions.string() + ".out";
  ASSERT_EQ(std::system((std::string(bin) + " env rollout CartPole-v1 --seed 4 --steps 10 --actions " +
                         actions.string() + " > " + out_file)
                            .c_str()),
            0);
  std::ifstream in(out_file);
  std::vector<nlohmann::json> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(lines.size(), 4u);  // the reset line and one per action in the file
  EXPECT_EQ(lines[0]["step"], 0);
  EXPECT_EQ(lines[0]["obs"].size(), 4u);
  EXPECT_EQ(lines[1]["action"], 1);
  EXPECT_EQ(lines[2]["action"], 0);
  EXPECT_EQ(lines[3]["reward"], 1.0);
  EXPECT_EQ(lines[3]["terminated"], false);
  core::atomic_write_text(actions, "1\n7\n");
  expect_bad_input("env rollout CartPole-v1 --actions " + actions.string(), "line 2");
}

TEST(Cli, EnvRandomReportsTheUniformPolicysReturnSeeded) {
  const char* bin = std::getenv("DOJO_BIN");
  ASSERT_NE(bin, nullptr);
  const auto out_file = fresh_path("random");
  auto run = [&](const std::string& id) {
    EXPECT_EQ(std::system(
                  (std::string(bin) + " env random " + id + " --episodes 20 --seed 3 > " + out_file.string())
                      .c_str()),
              0);
    return nlohmann::json::parse(core::read_text(out_file));
  };
  const auto a = run("CartPole-v1");
  EXPECT_EQ(a["episodes"], 20);
  EXPECT_GT(a["mean_return"].get<double>(), 8.0);  // random CartPole lasts about 22 steps
  EXPECT_LT(a["mean_return"].get<double>(), 40.0);
  EXPECT_EQ(a["mean_return"], a["mean_length"]);  // +1 per step
  EXPECT_EQ(run("CartPole-v1")["mean_return"], a["mean_return"]);
  const auto cheetah = run("HalfCheetah-v4");  // never terminates: 1000 steps, control cost ~ -200
  EXPECT_EQ(cheetah["mean_length"], 1000.0);
  EXPECT_LT(cheetah["mean_return"].get<double>(), -150.0);
  fs::remove(out_file);
  expect_bad_input("env random CartPole-v1 --episodes 0", "--episodes");
  expect_bad_input("env random Hopper-v9", "Hopper-v9");
}

}  // namespace
}  // namespace dojo::rl
