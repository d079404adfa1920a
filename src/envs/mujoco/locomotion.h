// Gymnasium's MuJoCo locomotion tasks, v4 (gymnasium/envs/mujoco/{hopper,walker2d,half_cheetah}_v4.py):
// a planar body rewarded for running forward along x. One class, configured per task by a
// LocomotionTask; Hopper-v4, Walker2d-v4 and HalfCheetah-v4 are registered with a TimeLimit of 1000.
//
//   observation  qpos without the x coordinate, then qvel (clipped to ±10 for Hopper and Walker2d)
//   reward       forward_weight · Δx / dt + healthy_reward − ctrl_cost_weight · Σ a²
//   terminated   when the body leaves its healthy ranges (Hopper, Walker2d); never for HalfCheetah
//   reset        mj_resetData, then noise on qpos and qvel, then mj_forward
//
// The healthy reward is paid on the terminating step too (Gymnasium's terminate_when_unhealthy).
// Actions are float32 in [-1, 1]^nu; MuJoCo clamps them to the motors' range, the control cost uses
// them as given. info: x_position, x_velocity, reward_forward, reward_ctrl, reward_survive.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include "core/export.h"
#include "envs/env.h"
#include "envs/mujoco/sim.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs::mujoco {

struct LocomotionTask {
  std::string name;        // "Hopper"
  std::string model_name;  // the built-in model: "hopper", "walker2d", "half_cheetah"
  int frame_skip = 4;
  double forward_reward_weight = 1.0;
  double ctrl_cost_weight = 1e-3;
  double healthy_reward = 1.0;
  bool terminate_when_unhealthy = true;
  // Healthy ranges, open intervals as in Gymnasium; nullopt where the task has none.
  std::optional<std::pair<double, double>> healthy_z, healthy_angle;
  std::optional<double> healthy_state_bound;  // |qpos[2:], qvel| below it (Hopper's 100)
  double reset_noise_scale = 5e-3;
  bool normal_qvel_noise = false;  // HalfCheetah: qvel + scale · N(0, 1); else uniform ±scale
  std::optional<double> qvel_clip = 10.0;
};

LocomotionTask hopper_task();
LocomotionTask walker2d_task();
LocomotionTask half_cheetah_task();

// The MJCF text of a built-in model ("hopper", ...); a dojo::Error lists the names for another.
const std::string& builtin_model(const std::string& name);

class Locomotion final : public Env {
 public:
  // The task's built-in model, or `model_file` (an MJCF file with the same joints) in its place.
  explicit Locomotion(LocomotionTask task, const std::optional<std::filesystem::path>& model_file = {});
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  const Space& action_space() const override { return action_space_; }
  const Space& observation_space() const override { return observation_space_; }
  std::string name() const override { return task_.name; }
  // A side view of the body (480x480 RGB, the camera following the torso), drawn from its geoms.
  torch::Tensor render() const override;

  const LocomotionTask& task() const { return task_; }
  const Sim& sim() const { return sim_; }
  Sim& sim() { return sim_; }
  double dt() const { return sim_.timestep() * task_.frame_skip; }
  bool is_healthy() const;
  torch::Tensor observation() const;

 private:
  LocomotionTask task_;
  Sim sim_;
  Space action_space_, observation_space_;
};

}  // namespace dojo::envs::mujoco

DOJO_PUBLIC_END
