// Acrobot-v1 as Gymnasium v0.29 defines it (Sutton 1996; Sutton & Barto's book dynamics): two links,
// only the joint between them actuated with torque -1, 0 or +1. Observation: cos/sin of both joint
// angles and both angular velocities (float32). Reward -1 per step, 0 on the terminating step.
// Terminates when the free end rises above the bar: -cos(t1) - cos(t2 + t1) > 1. Integrated with one
// RK4 step of dt = 0.2 s. Start: all four state variables uniform in (-0.1, 0.1).
#pragma once
#include <array>

#include "core/export.h"
#include "envs/env.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs {

class Acrobot final : public Env {
 public:
  static constexpr double kDt = 0.2;
  static constexpr double kLinkLength1 = 1.0;
  static constexpr double kLinkMass1 = 1.0;
  static constexpr double kLinkMass2 = 1.0;
  static constexpr double kLinkComPos1 = 0.5;
  static constexpr double kLinkComPos2 = 0.5;
  static constexpr double kLinkMoi = 1.0;
  static constexpr double kMaxVel1 = 4 * M_PI;
  static constexpr double kMaxVel2 = 9 * M_PI;
  static constexpr std::array<double, 3> kAvailTorque{-1.0, 0.0, 1.0};

  Acrobot();
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  const Space& action_space() const override { return action_space_; }
  const Space& observation_space() const override { return observation_space_; }
  std::string name() const override { return "Acrobot"; }
  // Gymnasium\'s rgb_array picture of the state, drawn the same way (core::Canvas).
  torch::Tensor render() const override;

  using State = std::array<double, 4>;  // theta1, theta2, dtheta1, dtheta2
  State state() const { return state_; }
  void set_state(const State& s) { state_ = s; }
  // d/dt of (theta1, theta2, dtheta1, dtheta2) under torque a ("book" dynamics).
  static State dsdt(const State& s, double a);

 private:
  torch::Tensor observation() const;
  Space action_space_, observation_space_;
  State state_{};
};

}  // namespace dojo::envs

DOJO_PUBLIC_END
