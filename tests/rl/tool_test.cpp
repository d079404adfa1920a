// dojo as a tool: RL Zoo files as they are, presets by name, TensorBoard files, progress counts,
// plugins from the command line, recording, and the command line's own papercuts.
#include <gtest/gtest.h>

#include <fstream>

#include "cli_util.h"
#include "core/checkpoint.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/files.h"
#include "core/tensorboard.h"
#include "nn/model.h"
#include "rl/ppo.h"
#include "rl/reinforce.h"
#include "rl/rlzoo.h"
#include "rl/trainer.h"
#include "test_util.h"

namespace dojo::rl {
namespace {

namespace fs = std::filesystem;
using test::dojo;
using test::error_of;
using test::expect_bad_input;
using test::fresh_path;
using test::snapshot;

const fs::path kZoo = fs::path(DOJO_TEST_DATA_DIR) / "rlzoo";

core::Config zoo(const std::string& file, const std::string& env, const std::string& algo = "") {
  TrainRequest r;
  r.config_file = kZoo / file;
  r.env_id = env;
  r.algo = algo;
  return resolve_config(r);
}

TEST(RlZoo, CartPoleEntriesOfDqnAndPpoLoadUnchanged) {
  const auto dqn = zoo("dqn.yml", "CartPole-v1");  // the algorithm from the file's name
  EXPECT_EQ(dqn.get<std::string>("algo", ""), "dqn");
  EXPECT_EQ(dqn.get<std::int64_t>("n_timesteps", 0), 200000);  // !!float 2e5
  EXPECT_DOUBLE_EQ(dqn.get<double>("learning_rate", 0), 2.5e-4);
  EXPECT_EQ(dqn.get<std::int64_t>("batch_size", 0), 512);
  EXPECT_EQ(dqn.get<std::int64_t>("learning_starts", -1), 0);
  EXPECT_EQ(dqn.get<std::int64_t>("target_update_interval", 0), 5000);
  EXPECT_DOUBLE_EQ(dqn.get<double>("exploration_final_eps", 0), 0.11);

  const auto ppo = zoo("ppo.yml", "CartPole-v1");
  EXPECT_EQ(ppo.get<std::string>("algo", ""), "ppo");
  EXPECT_EQ(ppo.get<std::int64_t>("n_envs", 0), 8);
  EXPECT_EQ(ppo.get<std::int64_t>("n_timesteps", 0), 100000);
  EXPECT_DOUBLE_EQ(ppo.get<double>("learning_rate", 0), 1e-3);  // lin_0.001
  EXPECT_EQ(ppo.get<std::string>("lr_schedule", ""), "linear");
  EXPECT_DOUBLE_EQ(ppo.get<double>("clip_range", 0), 0.2);  // lin_0.2
  EXPECT_EQ(ppo.get<std::string>("clip_range_schedule", ""), "linear");
  EXPECT_DOUBLE_EQ(ppo.get<double>("gae_lambda", 0), 0.8);
  EXPECT_EQ(ppo.get<std::int64_t>("n_epochs", 0), 20);
  // The same as the preset written by hand from that entry.
  TrainRequest preset;
  preset.algo = "ppo";
  const auto hand = resolve_config(preset);
  for (const char* k : {"n_envs", "n_steps", "batch_size", "n_epochs", "lr_schedule", "clip_range_schedule"})
    EXPECT_EQ(ppo.text(k), hand.text(k)) << k;
}

TEST(RlZoo, TranslatesPolicyKwargsNormalizeAndAtari) {
  EXPECT_EQ(zoo("dqn.yml", "MountainCar-v0").get<std::vector<std::int64_t>>("net_arch", {}),
            (std::vector<std::int64_t>{256, 256}));
  const auto acrobot = zoo("ppo.yml", "Acrobot-v1");
  EXPECT_TRUE(acrobot.get<bool>("normalize_observations", false));
  EXPECT_TRUE(acrobot.get<bool>("normalize_reward", false));
  const auto atari = zoo("ppo.yml", "Pixel/Breakout-v1");  // RL Zoo's `atari` entry
  EXPECT_TRUE(atari.get<bool>("atari_wrappers", false));
  EXPECT_EQ(atari.get<std::string>("network", ""), "nature");

  core::Config file = core::Config::parse(
      "CartPole-v1:\n  policy_kwargs: \"dict(net_arch=[dict(pi=[32, 32], vf=[32, 32])], "
      "activation_fn=nn.ReLU, "
      "ortho_init=False)\"\n  normalize: \"{'norm_obs': False, 'norm_reward': True}\"\n",
      "inline");
  const auto c = from_rl_zoo(file, "CartPole-v1", "ppo", "inline");
  EXPECT_EQ(c.get<std::vector<std::int64_t>>("net_arch", {}), (std::vector<std::int64_t>{32, 32}));
  EXPECT_EQ(c.get<std::string>("activation", ""), "relu");
  EXPECT_FALSE(c.get<bool>("ortho_init", true));
  EXPECT_FALSE(c.get<bool>("normalize_observations", true));
  EXPECT_TRUE(c.get<bool>("normalize_reward", false));
}

TEST(RlZoo, WhatCannotBeHonouredIsAnErrorNamingIt) {
  EXPECT_NE(error_of([] { zoo("ppo.yml", "Pendulum-v1"); }).find("'use_sde'"), std::string::npos);
  const auto missing = error_of([] { zoo("ppo.yml", "MinAtar/Breakout-v1"); });
  EXPECT_NE(missing.find("no entry for 'MinAtar/Breakout-v1'"), std::string::npos) << missing;
  EXPECT_NE(missing.find("CartPole-v1"), std::string::npos) << missing;
  const auto no_env = error_of([] {
    TrainRequest r;
    r.config_file = kZoo / "ppo.yml";
    resolve_config(r);
  });
  EXPECT_NE(no_env.find("--env"), std::string::npos) << no_env;
  // DQN has no normalisation and trains on one env.
  EXPECT_NE(error_of([] { zoo("ppo.yml", "Acrobot-v1", "dqn"); }).find("'normalize'"), std::string::npos);
  EXPECT_NE(error_of([] { zoo("ppo.yml", "CartPole-v1", "dqn"); }).find("'n_envs'"), std::string::npos);
}

TEST(ResolveConfig, PresetNamesWorkFromAnyDirectory) {
  TrainRequest r;
  r.config_file = "dqn/acrobot";
  EXPECT_EQ(resolve_config(r).get<std::string>("env_id", ""), "Acrobot-v1");
  r.config_file = "dqn/acrobot.yaml";
  EXPECT_EQ(resolve_config(r).get<std::int64_t>("target_update_interval", 0), 250);
  r.config_file = "dqn/acrobat";
  EXPECT_NE(error_of([&] { resolve_config(r); }).find("dqn/acrobat"), std::string::npos);
}

TrainRequest tiny_request(const fs::path& out) {
  TrainRequest r;
  r.algo = "dqn";
  r.out = out;
  r.overrides = {"n_timesteps=1000",    "eval_freq=500", "n_eval_episodes=2", "final_eval_episodes=2",
                 "learning_starts=200", "net_arch=[16]", "gamma=0.99"};
  return r;
}

TEST(Train, WritesTensorBoardScalarsAndAShortConfig) {
  const auto dir = fresh_path("tb_run");
  train(tiny_request(dir));
  EXPECT_NE(core::read_text(dir / "config.yaml").find("gamma: 0.99\n"), std::string::npos);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u);
  const auto records = core::read_event_records(files[0]);  // CRCs verified
  std::string all;
  for (const auto& r : records) all += r;
  for (const char* tag : {"rollout/episode_return", "rollout/episode_length", "train/loss",
                          "train/exploration", "eval/mean_return", "time/steps_per_s"})
    EXPECT_NE(all.find(tag), std::string::npos) << tag;
  // One eval/mean_return per evaluation (500 and 1000).
  std::size_t evals = 0;
  for (const auto& r : records) evals += r.find("eval/mean_return") != std::string::npos;
  EXPECT_EQ(evals, 2u);
  // An agent's checkpoint is not a Keras-style model: say what it is and which command reads it.
  const auto what = error_of([&] { nn::load_model(dir / "checkpoints" / "last.ckpt"); });
  EXPECT_NE(what.find("dqn agent's checkpoint"), std::string::npos) << what;
  EXPECT_NE(what.find("dojo eval"), std::string::npos) << what;
  fs::remove_all(dir);
}

TEST(Progress, CountsWhatTheAlgorithmCounts) {
  PPO ppo(envs::EnvFactory("CartPole-v1"), PPOOptions().n_envs(8).n_steps(32), 0);
  EXPECT_EQ(ppo.progress(30000).total, 30208);  // whole rollouts of 256 steps: 118 of them
  EXPECT_EQ(ppo.progress(30000).unit, "steps");
  EXPECT_EQ(ppo.progress(512).total, 512);
  REINFORCE reinforce(envs::EnvFactory("CartPole-v1"), REINFORCEOptions().n_iterations(150), 0);
  EXPECT_EQ(reinforce.progress(1'000'000).total, 150);
  EXPECT_EQ(reinforce.progress(1'000'000).unit, "iterations");
}

TEST(Cli, UnknownCommandsHelpAndVersion) {
  auto r = dojo("trian");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("error: unknown command 'trian' (did you mean 'train'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("train, eval"), std::string::npos) << r.err;
  r = dojo("help");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("train"), std::string::npos);
  EXPECT_NE(r.out.find("eval"), std::string::npos);
  r = dojo("--version");
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out.rfind("dojo 0.", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("(LibTorch 1."), std::string::npos) << r.out;
}

TEST(Cli, PapercutsAreOneLineErrors) {
  expect_bad_input("train --steps 100 --out /proc/nope/run", "/proc/nope/run");
  expect_bad_input("example seed-mlp --epochs 0", "--epochs 0");
  expect_bad_input("train --steps 1.5e2x", "--steps '1.5e2x'");
  expect_bad_input("trian", "trian");
  const auto dir = fresh_path("cli_count");
  auto r = dojo(
      "train --steps 3e2 --set learning_starts=100 --set eval_freq=0 --set stop_on_reward_threshold=false "
      "--set final_eval_episodes=1 --out " +
      dir.string());
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(core::Config::load(dir / "config.yaml").get<std::int64_t>("n_timesteps", 0), 300);
  // Each bar counts what the algorithm counts and ends at 100%.
  EXPECT_NE(r.out.find("300/300 ["), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("100%"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(Cli, PpoAndReinforceBarsEndAtTheirOwnTotals) {
  const auto dir = fresh_path("cli_bars");
  auto r = dojo(
      "train ppo --steps 300 --set n_envs=2 --set n_steps=64 --set eval_freq=0 --set final_eval_episodes=1 "
      "--out " +
      (dir / "ppo").string());
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("384/384 ["), std::string::npos) << r.out;  // three rollouts of 128
  r = dojo(
      "train reinforce --set n_iterations=3 --set n_episodes_per_update=2 --set eval_freq=0 "
      "--set final_eval_episodes=1 --out " +
      (dir / "reinforce").string());
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("3/3 ["), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("iterations/s"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(Cli, RecordsClassicControlAndRefusesToOverwrite) {
  const auto dir = fresh_path("cli_record");
  for (const std::string env : {"CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Pendulum-v1"}) {
    const auto run = dir / env;
    const std::string algo = env == "Pendulum-v1" ? "ppo --set n_steps=64" : "dqn --set learning_starts=50";
    auto r = dojo("train " + algo + " --env " + env +
                  " --steps 100 --set eval_freq=0 --set stop_on_reward_threshold=false --set "
                  "final_eval_episodes=1 --out " +
                  run.string());
    ASSERT_EQ(r.rc, 0) << env << r.err;
    r = dojo("eval " + run.string() + " --record " + (run / "gifs").string());
    ASSERT_EQ(r.rc, 0) << env << r.err;
    const auto gif = core::read_text(run / "gifs" / "episode_000.gif");
    EXPECT_EQ(gif.substr(0, 6), "GIF89a") << env;
  }
  // A folder with GIFs in it is refused unless --force.
  const auto gifs = dir / "CartPole-v1" / "gifs";
  const auto before = snapshot(gifs);
  expect_bad_input("eval " + (dir / "CartPole-v1").string() + " --record " + gifs.string(), "--force");
  EXPECT_EQ(snapshot(gifs), before);
  EXPECT_EQ(dojo("eval " + (dir / "CartPole-v1").string() + " --record " + gifs.string() + " --force").rc, 0);
  // `dojo envs` says which envs render.
  const auto envs = dojo("envs").out;
  const auto line = envs.substr(envs.find("CartPole-v1"),
                                envs.find('\n', envs.find("CartPole-v1")) - envs.find("CartPole-v1"));
  EXPECT_NE(line.find("render yes"), std::string::npos) << line;
  fs::remove_all(dir);
}

TEST(Cli, APluginEnvTrainsEvaluatesAndResumesFromTheCommandLine) {
  const auto dir = fresh_path("cli_plugin");
  const std::string plugin = DOJO_TEST_PLUGIN;
  const auto run = (dir / "run").string();
  expect_bad_input("train --env Corridor-v0 --steps 100", "Corridor-v0");  // unknown without the plugin
  auto r =
      dojo("train dqn --plugin " + plugin + " --env Corridor-v0 --steps 2000 --set learning_starts=200 " +
           "--set gamma=0.9 --set learning_rate=1e-3 --set target_update_interval=100 --set "
           "exploration_fraction=0.3 " +
           "--set eval_freq=1000 --set final_eval_episodes=3 --out " + run);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("final eval: 1.00"), std::string::npos) << r.out;  // the corridor walked
  EXPECT_NE(core::read_text(dir / "run" / "config.yaml").find(plugin), std::string::npos);
  // The run names its plugin: eval, record and resume need no --plugin.
  r = dojo("eval " + run + " --episodes 2");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("1.00 ± 0.00 over 2 episodes"), std::string::npos) << r.out;
  EXPECT_EQ(dojo("eval " + run + " --record " + (dir / "gifs").string()).rc, 0);
  EXPECT_TRUE(fs::exists(dir / "gifs" / "episode_000.gif"));
  r = dojo("train --resume " + run + " --steps 500");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("env steps: 2500"), std::string::npos) << r.out;
  // Or from DOJO_PLUGINS.
  r = dojo("env rollout Corridor-v0 --steps 2");
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(std::system(("DOJO_PLUGINS=" + plugin + " " + std::getenv("DOJO_BIN") +
                         " env rollout Corridor-v0 --steps 2 > /dev/null")
                            .c_str()),
            0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dojo::rl

namespace dojo::rl {
namespace {

TEST(Play, DrivesCarRacingWithItsPedalsAndRecordsTheEpisode) {
  // Keys piped in: gas (up) ten times, then left, then the brake; q ends the episode.
  const auto dir = std::filesystem::temp_directory_path() / ("dojo_play_car_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto keys = dir.string() + ".keys";
  core::atomic_write_text(keys, "wwwwwwwwwwaaaassq");
  const auto r = test::dojo("play CarRacing-v2 --record " + dir.string() + " < " + keys);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("episode 0: return"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("in 16 steps (quit)"), std::string::npos) << r.out;
  EXPECT_GT(std::filesystem::file_size(dir / "episode_000.gif"), 1000u);
  std::filesystem::remove_all(dir);
  std::filesystem::remove(keys);
}

}  // namespace
}  // namespace dojo::rl
