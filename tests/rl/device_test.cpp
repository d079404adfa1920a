// The device option: names checked once with a clear error, agents placing their networks and
// batches where it says (the CPU here: Debian's LibTorch has no CUDA), and the command's --device.
#include "core/device.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cli_util.h"
#include "core/checkpoint.h"
#include "core/error.h"
#include "core/files.h"
#include "envs/factory.h"
#include "rl/dqn.h"
#include "rl/ppo.h"
#include "rl/reinforce.h"
#include "test_util.h"

namespace dojo::rl {
namespace {

namespace fs = std::filesystem;
using test::dojo;
using test::error_of;
using test::expect_bad_input;
using test::fresh_path;

bool has_gpu() { return core::cuda_device_count() > 0; }

TEST(Device, NamesAreCheckedWithOneClearError) {
  EXPECT_EQ(core::device("cpu"), c10::Device(c10::kCPU));
  EXPECT_EQ(core::device("auto"), has_gpu() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU));
  for (const std::string bad : {"gpu", "CPU", "cuda:", "cuda:x", "cpu:0", "auto:1", "cuda0", ""}) {
    const auto e = error_of([&] { core::device(bad); });
    EXPECT_EQ(e, "device '" + bad + "': expected cpu, cuda, cuda:N or auto") << bad;
  }
  if (!has_gpu()) {
    EXPECT_NE(error_of([] { core::device("cuda"); }).find("has no CUDA device"), std::string::npos);
    EXPECT_NE(error_of([] { core::device("cuda:1"); }).find("'cuda:1'"), std::string::npos);
  } else {
    EXPECT_NE(error_of([] { core::device("cuda:999"); }).find("LibTorch sees"), std::string::npos);
  }
  // As an option key: the user's key and value in the message.
  EXPECT_EQ(error_of([] { DQNOptions().device("gpu").validate(); }),
            "device = 'gpu': expected cpu, cuda, cuda:N or auto");
  EXPECT_NE(error_of([] { PPOOptions().device("tpu").validate(); }).find("device = 'tpu'"),
            std::string::npos);
  EXPECT_NE(error_of([] { A2COptions().device("x").validate(); }).find("device = 'x'"), std::string::npos);
  EXPECT_NE(error_of([] { REINFORCEOptions().device("x").validate(); }).find("device = 'x'"),
            std::string::npos);
}

// Every parameter and optimizer state tensor of a module on `device`.
void expect_on(const torch::nn::Module& m, c10::Device device) {
  for (const auto& p : m.parameters()) EXPECT_EQ(p.device(), device);
}

TEST(Device, AgentsPutTheirNetworksOnTheOptionsDevice) {
  const auto cartpole = envs::EnvFactory("CartPole-v1");
  DQN dqn(cartpole, DQNOptions().device("cpu").learning_starts(50).buffer_size(500), 0);
  EXPECT_EQ(dqn.device(), c10::Device(c10::kCPU));
  expect_on(*dqn.q_net(), dqn.device());
  CallbackList none;
  dqn.learn(200, none);  // acts, stores on the CPU, updates on the device
  EXPECT_EQ(dqn.act(torch::zeros({4})).device(), c10::Device(c10::kCPU));  // actions come back to the env

  PPO ppo(cartpole, PPOOptions().device("auto").n_steps(64).batch_size(32).n_epochs(1), 0);
  EXPECT_EQ(ppo.device(), core::device("auto"));
  ppo.learn(128, none);
  EXPECT_EQ(ppo.act_batch(torch::zeros({3, 4})).device(), c10::Device(c10::kCPU));

  REINFORCE reinforce(cartpole, REINFORCEOptions().device("cpu").n_episodes_per_update(2), 0);
  reinforce.learn(100, none);
  EXPECT_EQ(reinforce.device(), c10::Device(c10::kCPU));

  EXPECT_THROW(DQN(cartpole, DQNOptions().device("gpu"), 0), Error);
  if (!has_gpu()) {
    EXPECT_THROW(PPO(cartpole, PPOOptions().device("cuda"), 0), Error);
  }
}

TEST(Device, TheSameSeedGivesTheSameRunWhicheverNameSaysCpu) {
  // Networks are initialised and actions drawn on the CPU before anything moves: "auto" resolving to
  // the CPU and "cpu" give one run.
  const auto cartpole = envs::EnvFactory("CartPole-v1");
  const auto run = [&](const std::string& device) {
    PPO ppo(cartpole, PPOOptions().device(device).n_steps(64).batch_size(32).n_epochs(2), 3);
    CallbackList none;
    ppo.learn(256, none);
    return ppo.logger().values();  // losses, KL, clip fraction of the last update: exact doubles
  };
  if (!has_gpu()) {
    EXPECT_EQ(run("cpu"), run("auto"));
  }
}

TEST(Device, CheckpointsLoadOntoTheReadersDevice) {
  const auto dir = fresh_path("device_ckpt");
  fs::create_directories(dir);
  core::CheckpointWriter w;
  w.put("t", torch::arange(4));
  w.save(dir / "c.ckpt");
  EXPECT_EQ(core::CheckpointReader(dir / "c.ckpt", c10::kCPU).get_tensor("t").device(),
            c10::Device(c10::kCPU));
  fs::remove_all(dir);
}

TEST(Cli, DeviceIsAFlagAKeyAndAnOverrideForEvalAndResume) {
  const auto dir = fresh_path("cli_device");
  const auto run = (dir / "run").string();
  // A device this build cannot use fails before anything is written.
  expect_bad_input("train --device gpu --out " + run, "device = 'gpu'");
  if (!has_gpu()) {
    expect_bad_input("train ppo --device cuda --out " + run, "device = 'cuda'");
  }
  EXPECT_FALSE(fs::exists(run));
  auto r = dojo(
      "train --device cpu --steps 600 --set learning_starts=100 --set eval_freq=0 "
      "--set stop_on_reward_threshold=false --set final_eval_episodes=2 --out " +
      run);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(core::read_text(dir / "run" / "config.yaml").find("device: cpu"), std::string::npos);
  r = dojo("eval " + run + " --episodes 2 --checkpoint last --device auto");
  EXPECT_EQ(r.rc, 0) << r.err;
  expect_bad_input("eval " + run + " --episodes 2 --device cuda:x", "device = 'cuda:x'");
  // Resuming on another device leaves the run's recorded device alone.
  r = dojo("train --resume " + run + " --steps 200 --device auto");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("env steps: 800"), std::string::npos) << r.out;
  EXPECT_NE(core::read_text(dir / "run" / "config.yaml").find("device: cpu"), std::string::npos);
  expect_bad_input("train --resume " + run + " --steps 200 --device npu", "device = 'npu'");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dojo::rl
