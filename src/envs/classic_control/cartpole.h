// CartPole-v1 as Gymnasium v0.29 defines it (gymnasium/envs/classic_control/cartpole.py; Barto, Sutton
// & Anderson 1983). A pole hinged on a cart; push the cart left (0) or right (1) to keep it upright.
// Observation: x, x_dot, theta, theta_dot (float32). Reward +1 on every step, the terminating one
// included. Terminates when |x| > 2.4 or |theta| > 12 degrees. Start state uniform in (-0.05, 0.05)^4.
#pragma once
#include <array>

#include "core/export.h"
#include "envs/env.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs {

class CartPole final : public Env {
 public:
  static constexpr double kGravity = 9.8;
  static constexpr double kMassCart = 1.0;
  static constexpr double kMassPole = 0.1;
  static constexpr double kTotalMass = kMassPole + kMassCart;
  static constexpr double kLength = 0.5;  // half the pole's length
  static constexpr double kPoleMassLength = kMassPole * kLength;
  static constexpr double kForceMag = 10.0;
  static constexpr double kTau = 0.02;  // seconds between state updates
  static constexpr double kThetaThreshold = 12 * 2 * M_PI / 360;
  static constexpr double kXThreshold = 2.4;

  // Gymnasium's "euler" integrator is the default; "semi-implicit euler" updates velocities first.
  explicit CartPole(bool semi_implicit_euler = false);
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  const Space& action_space() const override { return action_space_; }
  const Space& observation_space() const override { return observation_space_; }
  std::string name() const override { return "CartPole"; }
  // Gymnasium\'s rgb_array picture of the state, drawn the same way (core::Canvas).
  torch::Tensor render() const override;

  std::array<double, 4> state() const { return state_; }
  void set_state(const std::array<double, 4>& s) { state_ = s; }

 private:
  bool semi_implicit_;
  Space action_space_, observation_space_;
  std::array<double, 4> state_{};
  int steps_beyond_terminated_ = -1;  // -1: not terminated yet
};

}  // namespace dojo::envs

DOJO_PUBLIC_END
