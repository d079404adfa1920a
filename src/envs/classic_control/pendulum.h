// Pendulum-v1 as Gymnasium v0.29 defines it: swing a pendulum up and hold it. Action: torque in
// [-2, 2]. Observation: cos(theta), sin(theta), theta_dot (float32). Reward:
// -(normalize(theta)^2 + 0.1 theta_dot^2 + 0.001 torque^2). Never terminates. Start: theta uniform in
// (-pi, pi), theta_dot uniform in (-1, 1).
#pragma once
#include <array>

#include "core/export.h"
#include "envs/env.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs {

class Pendulum final : public Env {
 public:
  static constexpr double kMaxSpeed = 8.0;
  static constexpr double kMaxTorque = 2.0;
  static constexpr double kDt = 0.05;
  static constexpr double kMass = 1.0;
  static constexpr double kLength = 1.0;

  explicit Pendulum(double g = 10.0);
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  const Space& action_space() const override { return action_space_; }
  const Space& observation_space() const override { return observation_space_; }
  std::string name() const override { return "Pendulum"; }
  // Gymnasium\'s rgb_array picture of the state, drawn the same way (core::Canvas).
  torch::Tensor render() const override;

  std::array<double, 2> state() const { return state_; }
  void set_state(const std::array<double, 2>& s) { state_ = s; }
  // Python's ((x + pi) % (2 pi)) - pi: the result is in [-pi, pi).
  static double angle_normalize(double x);

 private:
  double g_;
  Space action_space_, observation_space_;
  std::array<double, 2> state_{};
};

}  // namespace dojo::envs

DOJO_PUBLIC_END
