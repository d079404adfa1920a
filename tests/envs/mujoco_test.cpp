// The MuJoCo locomotion envs: our MJCF models compile to the originals' constants (FACTS.md, read
// off Gymnasium's models in MuJoCo 2.2.2), and reward, termination, observation and reset follow
// Gymnasium v4's definitions, recomputed here from the raw simulator state.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "core/error.h"
#include "envs/mujoco/locomotion.h"
#include "envs/mujoco/motion.h"
#include "envs/registry.h"
#include "test_util.h"

namespace dojo::envs::mujoco {
namespace {

struct Constants {
  std::string env_id;
  int nq, nv, nu;
  double timestep;
  std::string integrator;
  std::vector<std::pair<std::string, double>> masses;
  double total_mass;
  std::vector<double> gears;
};

const std::vector<Constants>& originals() {
  static const std::vector<Constants> c{
      {"Hopper-v4",
       6,
       6,
       3,
       0.002,
       "RK4",
       {{"torso", 3.6652}, {"thigh", 4.0579}, {"leg", 2.7814}, {"foot", 5.3156}},
       15.8200,
       {200, 200, 200}},
      {"HalfCheetah-v4",
       9,
       9,
       6,
       0.01,
       "Euler",
       {{"torso", 6.2502},
        {"bthigh", 1.5435},
        {"bshin", 1.5874},
        {"bfoot", 1.0954},
        {"fthigh", 1.4381},
        {"fshin", 1.2008},
        {"ffoot", 0.8845}},
       14.0000,
       {120, 90, 60, 120, 60, 30}},
      {"Walker2d-v4",
       9,
       9,
       6,
       0.002,
       "RK4",
       {{"torso", 3.6652},
        {"thigh", 4.0579},
        {"leg", 2.7814},
        {"foot", 3.1667},
        {"thigh_left", 4.0579},
        {"leg_left", 2.7814},
        {"foot_left", 3.1667}},
       23.6771,
       {100, 100, 100, 100, 100, 100}},
  };
  return c;
}

TEST(Mujoco, OurModelsCompileToTheOriginalsConstants) {
  for (const auto& c : originals()) {
    SCOPED_TRACE(c.env_id);
    auto env = make(c.env_id);
    const auto task = c.env_id == "Hopper-v4"     ? hopper_task()
                      : c.env_id == "Walker2d-v4" ? walker2d_task()
                                                  : half_cheetah_task();
    const Locomotion raw(task);
    const auto& sim = raw.sim();
    EXPECT_EQ(sim.nq(), c.nq);
    EXPECT_EQ(sim.nv(), c.nv);
    EXPECT_EQ(sim.nu(), c.nu);
    EXPECT_DOUBLE_EQ(sim.timestep(), c.timestep);
    EXPECT_EQ(sim.integrator(), c.integrator);
    double total = 0.0;
    for (const auto& [body, mass] : c.masses) {
      EXPECT_NEAR(sim.body_mass(body), mass, 5e-5) << body;
      total += sim.body_mass(body);
    }
    EXPECT_NEAR(total, c.total_mass, 5e-4);
    EXPECT_EQ(sim.actuator_gears(), c.gears);
    EXPECT_EQ(sim.ctrl_low(), std::vector<double>(static_cast<std::size_t>(c.nu), -1.0));
    EXPECT_EQ(sim.ctrl_high(), std::vector<double>(static_cast<std::size_t>(c.nu), 1.0));
    EXPECT_EQ(std::get<Box>(env->observation_space()).shape, (std::vector<std::int64_t>{c.nq - 1 + c.nv}));
    EXPECT_EQ(std::get<Box>(env->action_space()).shape, (std::vector<std::int64_t>{c.nu}));
    EXPECT_EQ(env->reset(0).obs.sizes(), (std::vector<std::int64_t>{c.nq - 1 + c.nv}));
  }
  EXPECT_EQ(std::get<Box>(make("Hopper-v4")->observation_space()).shape[0], 11);
  EXPECT_EQ(std::get<Box>(make("HalfCheetah-v4")->observation_space()).shape[0], 17);
  EXPECT_EQ(std::get<Box>(make("Walker2d-v4")->observation_space()).shape[0], 17);
  EXPECT_EQ(version(), "2.2.2");
}

// One step's reward and termination, recomputed from the state before and after.
void expect_reward_from_state(Locomotion& env, const std::vector<float>& action) {
  const auto& t = env.task();
  const double x_before = env.sim().qpos()[0];
  const auto s = env.step(torch::tensor(action));
  const auto qpos = env.sim().qpos();
  const auto qvel = env.sim().qvel();
  const double x_velocity = (qpos[0] - x_before) / (env.sim().timestep() * t.frame_skip);
  double ctrl = 0.0;
  for (float a : action) ctrl += static_cast<double>(a) * static_cast<double>(a);
  ctrl *= t.ctrl_cost_weight;
  bool healthy = true;
  if (t.healthy_z) healthy = healthy && qpos[1] > t.healthy_z->first && qpos[1] < t.healthy_z->second;
  if (t.healthy_angle) healthy = healthy && std::abs(qpos[2]) < t.healthy_angle->second;
  if (t.healthy_state_bound) {
    for (std::size_t i = 2; i < qpos.size(); ++i) healthy = healthy && std::abs(qpos[i]) < 100;
    for (double v : qvel) healthy = healthy && std::abs(v) < 100;
  }
  EXPECT_DOUBLE_EQ(s.reward, x_velocity + t.healthy_reward - ctrl);
  EXPECT_EQ(s.terminated, t.terminate_when_unhealthy && !healthy);
  EXPECT_FALSE(s.truncated);
  EXPECT_DOUBLE_EQ(s.info.at("x_position").number(), qpos[0]);
  EXPECT_DOUBLE_EQ(s.info.at("x_velocity").number(), x_velocity);
  EXPECT_DOUBLE_EQ(s.info.at("reward_ctrl").number(), -ctrl);
  // The observation: qpos without x, then qvel, clipped where the task clips.
  for (std::size_t i = 1; i < qpos.size(); ++i) {
    EXPECT_FLOAT_EQ(s.obs[static_cast<std::int64_t>(i - 1)].item<float>(), static_cast<float>(qpos[i]));
  }
  for (std::size_t i = 0; i < qvel.size(); ++i) {
    const double v = t.qvel_clip ? std::clamp(qvel[i], -*t.qvel_clip, *t.qvel_clip) : qvel[i];
    EXPECT_FLOAT_EQ(s.obs[static_cast<std::int64_t>(qpos.size() - 1 + i)].item<float>(),
                    static_cast<float>(v));
  }
}

TEST(Mujoco, RewardTerminationAndObservationFollowFromTheState) {
  for (const auto& task : {hopper_task(), walker2d_task(), half_cheetah_task()}) {
    SCOPED_TRACE(task.name);
    Locomotion env(task);
    env.reset(1);
    std::vector<float> action(static_cast<std::size_t>(env.sim().nu()));
    for (int t = 0; t < 30; ++t) {
      for (std::size_t i = 0; i < action.size(); ++i) action[i] = std::sin(0.3f * t + static_cast<float>(i));
      expect_reward_from_state(env, action);
    }
  }
}

TEST(Mujoco, FallingIsTerminalAndStillPaysTheHealthyReward) {
  for (const auto& task : {hopper_task(), walker2d_task()}) {
    SCOPED_TRACE(task.name);
    Locomotion env(task);
    env.reset(0);
    auto qpos = env.sim().init_qpos();
    const auto qvel = env.sim().init_qvel();
    qpos[1] = 0.5;  // the torso far below the healthy height
    env.sim().set_state(qpos, qvel);
    EXPECT_FALSE(env.is_healthy());
    const auto s = env.step(torch::zeros({env.sim().nu()}));
    EXPECT_TRUE(s.terminated);
    EXPECT_EQ(s.info.at("reward_survive").number(), 1.0);
    qpos = env.sim().init_qpos();
    qpos[2] = task.name == "Hopper" ? 0.25 : 1.1;  // tilted past the healthy angle
    env.sim().set_state(qpos, qvel);
    EXPECT_FALSE(env.is_healthy());
  }
  Locomotion cheetah(half_cheetah_task());
  cheetah.reset(0);
  auto qpos = cheetah.sim().init_qpos();
  qpos[2] = 3.0;  // upside down: HalfCheetah never terminates
  cheetah.sim().set_state(qpos, cheetah.sim().init_qvel());
  EXPECT_FALSE(cheetah.step(torch::zeros({6})).terminated);
}

TEST(Mujoco, ResetNoiseHasTheTasksScaleAndTheSameSeedGivesTheSameEpisode) {
  Locomotion hopper(hopper_task());
  hopper.reset(3);
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_LE(std::abs(hopper.sim().qpos()[i] - hopper.sim().init_qpos()[i]), 5e-3);
    EXPECT_LE(std::abs(hopper.sim().qvel()[i]), 5e-3);
  }
  EXPECT_DOUBLE_EQ(hopper.sim().init_qpos()[1], 1.25);  // rootz reads the standing height
  Locomotion cheetah(half_cheetah_task());
  cheetah.reset(3);
  double max_qpos = 0.0, max_qvel = 0.0;
  for (int i = 0; i < 9; ++i) {
    max_qpos = std::max(max_qpos, std::abs(cheetah.sim().qpos()[i] - cheetah.sim().init_qpos()[i]));
    max_qvel = std::max(max_qvel, std::abs(cheetah.sim().qvel()[i]));
  }
  EXPECT_LE(max_qpos, 0.1);
  EXPECT_GT(max_qvel, 0.1 * 0.3);  // normal(0, 0.1) on 9 velocities: one above 0.03 all but surely

  auto episode = [](std::uint64_t seed) {
    auto env = make("Walker2d-v4");
    std::vector<torch::Tensor> obs{env->reset(seed).obs};
    std::mt19937_64 rng(7);
    for (int t = 0; t < 100; ++t) {
      auto s = env->step(sample(env->action_space(), rng));
      obs.push_back(s.obs);
      if (s.done()) break;
    }
    return torch::stack(obs);
  };
  EXPECT_TRUE(torch::equal(episode(5), episode(5)));
  EXPECT_FALSE(torch::equal(episode(5), episode(6)));
}

TEST(Mujoco, ActionsOfTheWrongSizeOrNotFiniteAreErrors) {
  auto env = make("Hopper-v4");
  env->reset(0);
  EXPECT_THROW(env->step(torch::zeros({2})), Error);
  EXPECT_THROW(env->step(torch::tensor({0.0f, std::nanf(""), 0.0f})), Error);
  EXPECT_NO_THROW(env->step(torch::tensor({3.0f, -3.0f, 0.0f})));  // MuJoCo clamps to the motor range
}

TEST(Mujoco, AModelFileThatDoesNotLoadIsAOneLineErrorNamingIt) {
  const auto dir = test::fresh_path("mjcf");
  std::filesystem::create_directories(dir);
  const auto bad = dir / "bad.xml";
  std::ofstream(bad)
      << "<mujoco><worldbody><body><geom type=\"capsule\" size=\"x\"/></body></worldbody></mujoco>";
  for (const auto& file : {bad, dir / "missing.xml"}) {
    try {
      Locomotion env(hopper_task(), file);
      ADD_FAILURE() << "loaded " << file;
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(file.string()), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
  EXPECT_THROW(builtin_model("ant"), Error);
  std::filesystem::remove_all(dir);
}

TEST(Mujoco, RendersASideViewThatFollowsTheBody) {
  auto env = make("HalfCheetah-v4");
  env->reset(0);
  const auto frame = env->render();
  EXPECT_EQ(frame.sizes(), (std::vector<std::int64_t>{480, 480, 3}));
  EXPECT_EQ(frame.scalar_type(), torch::kUInt8);
  // The body's colour is in the picture.
  const auto body = (frame.select(2, 0) == 204) & (frame.select(2, 1) == 153) & (frame.select(2, 2) == 102);
  EXPECT_GT(body.sum().item<std::int64_t>(), 500);
}

// The humanoid's motion (VideoPose3D's data): its bodies are rigid, so the distance from each body to
// its parent never changes; joints stay in range; frames are smooth; a seed decides the sequence.
TEST(HumanoidMotion, RigidBonesSmoothFramesAndSeededSequences) {
  HumanoidMotion motion;
  ASSERT_EQ(motion.joints(), 16);
  EXPECT_EQ(motion.joint_names()[0], "torso");
  const auto seq = motion.sequence(200, 7);
  ASSERT_EQ(seq.sizes(), (std::vector<std::int64_t>{200, 16, 3}));
  const auto names = motion.joint_names();
  const auto index = [&](const std::string& n) {
    return static_cast<std::int64_t>(std::find(names.begin(), names.end(), n) - names.begin());
  };
  for (const auto& [child, parent] : std::vector<std::pair<std::string, std::string>>{
           {"right_shin", "right_thigh"}, {"left_lower_arm", "left_upper_arm"}, {"head", "torso"}}) {
    const auto bone = (seq.select(1, index(child)) - seq.select(1, index(parent))).norm(2, -1);
    EXPECT_LT((bone.max() - bone.min()).item<double>(), 1e-4) << child;
    EXPECT_GT(bone.min().item<double>(), 0.05) << child;
  }
  // 50 frames a second, joints at most ~1 Hz: no body moves more than 10 cm between frames.
  EXPECT_LT((seq.slice(0, 1) - seq.slice(0, 0, -1)).norm(2, -1).max().item<double>(), 0.1);
  // The legs move: the feet wander by more than 10 cm over four seconds.
  EXPECT_GT((seq.select(1, index("left_foot")) - seq.select(1, index("left_foot"))[0])
                .norm(2, -1)
                .max()
                .item<double>(),
            0.1);
  EXPECT_EQ(motion.bones().size(), 15u);  // a tree of 16 joints
  for (const auto& [child, parent] : motion.bones()) {
    const auto bone = (seq.select(1, child) - seq.select(1, parent)).norm(2, -1);
    EXPECT_LT((bone.max() - bone.min()).item<double>(), 1e-4) << names[static_cast<std::size_t>(child)];
  }
  EXPECT_TRUE(seq.equal(motion.sequence(200, 7)));
  EXPECT_FALSE(seq.equal(motion.sequence(200, 8)));
  try {
    HumanoidMotion("/nonexistent/humanoid.xml");
    FAIL() << "a missing model loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("libmujoco-samples"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dojo::envs::mujoco
