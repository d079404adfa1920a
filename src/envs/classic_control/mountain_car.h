// MountainCar-v0 and MountainCarContinuous-v0 as Gymnasium v0.29 defines them (Moore 1990): an
// underpowered car in a valley must rock back and forth to reach the flag on the right hill.
// Observation: position, velocity (float32). Start: position uniform in (-0.6, -0.4), velocity 0.
#pragma once
#include <array>

#include "core/export.h"
#include "envs/env.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs {

class MountainCar final : public Env {
 public:
  static constexpr double kMinPosition = -1.2;
  static constexpr double kMaxPosition = 0.6;
  static constexpr double kMaxSpeed = 0.07;
  static constexpr double kGoalPosition = 0.5;
  static constexpr double kGoalVelocity = 0.0;
  static constexpr double kForce = 0.001;
  static constexpr double kGravity = 0.0025;

  // sparse: the reward is 1 on reaching the flag and 0 elsewhere (SparseMountainCar-v0, the
  // exploration test of curiosity papers) instead of −1 every step.
  explicit MountainCar(bool sparse = false);
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  const Space& action_space() const override { return action_space_; }
  const Space& observation_space() const override { return observation_space_; }
  std::string name() const override { return sparse_ ? "SparseMountainCar" : "MountainCar"; }
  // Gymnasium\'s rgb_array picture of the state, drawn the same way (core::Canvas).
  torch::Tensor render() const override;

  std::array<double, 2> state() const { return state_; }
  void set_state(const std::array<double, 2>& s) { state_ = s; }

 private:
  bool sparse_;
  Space action_space_, observation_space_;
  std::array<double, 2> state_{};
};

// The continuous version: the action is a force in [-1, 1] (clipped, as Gymnasium does), the goal
// is at 0.45, the reward is -0.1 a^2 per step (of the unclipped action) and +100 on reaching the goal.
// Gymnasium keeps this env's state in float32 between steps; so does this one, so that long episodes
// follow the same trajectory.
class MountainCarContinuous final : public Env {
 public:
  static constexpr double kGoalPosition = 0.45;
  static constexpr double kPower = 0.0015;

  MountainCarContinuous();
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  const Space& action_space() const override { return action_space_; }
  const Space& observation_space() const override { return observation_space_; }
  std::string name() const override { return "MountainCarContinuous"; }
  torch::Tensor render() const override;

  std::array<double, 2> state() const { return state_; }
  void set_state(const std::array<double, 2>& s) { state_ = s; }

 private:
  Space action_space_, observation_space_;
  std::array<double, 2> state_{};
};

}  // namespace dojo::envs

DOJO_PUBLIC_END
