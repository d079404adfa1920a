#include "envs/classic_control/cartpole.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <limits>

#include "core/canvas.h"

namespace dojo::envs {

namespace {
constexpr double kF32Max = std::numeric_limits<float>::max();
}

CartPole::CartPole(bool semi_implicit_euler)
    : semi_implicit_(semi_implicit_euler),
      action_space_(Discrete{2}),
      observation_space_(Box({-kXThreshold * 2, -kF32Max, -kThetaThreshold * 2, -kF32Max},
                             {kXThreshold * 2, kF32Max, kThetaThreshold * 2, kF32Max}, {4})) {}

ResetResult CartPole::reset(std::optional<std::uint64_t> seed) {
  seed_rng(seed);
  std::uniform_real_distribution<double> u(-0.05, 0.05);
  for (auto& s : state_) s = u(rng());
  steps_beyond_terminated_ = -1;
  return {float_obs({state_[0], state_[1], state_[2], state_[3]}), {}};
}

StepResult CartPole::step(const torch::Tensor& action) {
  check_action(action);
  auto [x, x_dot, theta, theta_dot] = state_;
  const double force = action.item<std::int64_t>() == 1 ? kForceMag : -kForceMag;
  const double costheta = std::cos(theta), sintheta = std::sin(theta);

  // Florian (2007), "Correct equations for the dynamics of the cart-pole system", as Gymnasium has it.
  const double temp = (force + kPoleMassLength * theta_dot * theta_dot * sintheta) / kTotalMass;
  const double thetaacc = (kGravity * sintheta - costheta * temp) /
                          (kLength * (4.0 / 3.0 - kMassPole * costheta * costheta / kTotalMass));
  const double xacc = temp - kPoleMassLength * thetaacc * costheta / kTotalMass;

  if (!semi_implicit_) {
    x = x + kTau * x_dot;
    x_dot = x_dot + kTau * xacc;
    theta = theta + kTau * theta_dot;
    theta_dot = theta_dot + kTau * thetaacc;
  } else {
    x_dot = x_dot + kTau * xacc;
    x = x + kTau * x_dot;
    theta_dot = theta_dot + kTau * thetaacc;
    theta = theta + kTau * theta_dot;
  }
  state_ = {x, x_dot, theta, theta_dot};

  const bool terminated =
      x < -kXThreshold || x > kXThreshold || theta < -kThetaThreshold || theta > kThetaThreshold;
  double reward = 1.0;
  if (terminated) {
    if (steps_beyond_terminated_ < 0) {
      steps_beyond_terminated_ = 0;  // the terminating step still earns +1
    } else {
      if (steps_beyond_terminated_ == 0) {
        spdlog::warn("CartPole: step() called after the episode terminated; call reset() first");
      }
      ++steps_beyond_terminated_;
      reward = 0.0;
    }
  }
  return {float_obs({x, x_dot, theta, theta_dot}), reward, terminated, false, {}};
}

// Gymnasium's CartPole picture: 600x400, the world 4.8 wide, a 50x30 cart on a track 100 px up, a
// pole 10 px wide and 2 * length long, with its axle.
torch::Tensor CartPole::render() const {
  constexpr int kWidth = 600, kHeight = 400;
  constexpr double scale = kWidth / (2 * kXThreshold), pole_w = 10.0, pole_len = scale * 2 * kLength;
  constexpr double cart_w = 50.0, cart_h = 30.0, cart_y = 100.0;
  core::Canvas c(kWidth, kHeight);
  const double x = state_[0] * scale + kWidth / 2.0;
  c.polygon({{x - cart_w / 2, cart_y - cart_h / 2},
             {x - cart_w / 2, cart_y + cart_h / 2},
             {x + cart_w / 2, cart_y + cart_h / 2},
             {x + cart_w / 2, cart_y - cart_h / 2}},
            {0, 0, 0});
  const double axle = cart_h / 4.0;
  c.polygon(core::rotate_translate({{-pole_w / 2, -pole_w / 2},
                                    {-pole_w / 2, pole_len - pole_w / 2},
                                    {pole_w / 2, pole_len - pole_w / 2},
                                    {pole_w / 2, -pole_w / 2}},
                                   -state_[2], {x, cart_y + axle}),
            {202, 152, 101});
  c.circle({x, cart_y + axle}, pole_w / 2, {129, 132, 203});
  c.line({0, cart_y}, {kWidth, cart_y}, {0, 0, 0});
  return c.pixels();
}

}  // namespace dojo::envs
