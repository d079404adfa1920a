#include "envs/classic_control/pendulum.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "core/canvas.h"

namespace dojo::envs {

Pendulum::Pendulum(double g)
    : g_(g),
      action_space_(Box(-kMaxTorque, kMaxTorque, {1})),
      observation_space_(Box({-1.0, -1.0, -kMaxSpeed}, {1.0, 1.0, kMaxSpeed}, {3})) {}

double Pendulum::angle_normalize(double x) {
  const double m = std::fmod(x + M_PI, 2 * M_PI);
  return (m < 0 ? m + 2 * M_PI : m) - M_PI;  // Python's % takes the divisor's sign
}

ResetResult Pendulum::reset(std::optional<std::uint64_t> seed) {
  seed_rng(seed);
  state_ = {std::uniform_real_distribution<double>(-M_PI, M_PI)(rng()),
            std::uniform_real_distribution<double>(-1.0, 1.0)(rng())};
  return {float_obs({std::cos(state_[0]), std::sin(state_[0]), state_[1]}), {}};
}

StepResult Pendulum::step(const torch::Tensor& action) {
  const auto [th, thdot] = state_;
  // Gymnasium clips out-of-range torques rather than rejecting them.
  const double u = std::clamp(box_action(action)[0], -kMaxTorque, kMaxTorque);
  const double costs = std::pow(angle_normalize(th), 2) + 0.1 * thdot * thdot + 0.001 * u * u;

  double newthdot =
      thdot + (3 * g_ / (2 * kLength) * std::sin(th) + 3.0 / (kMass * kLength * kLength) * u) * kDt;
  newthdot = std::clamp(newthdot, -kMaxSpeed, kMaxSpeed);
  const double newth = th + newthdot * kDt;
  state_ = {newth, newthdot};
  return {float_obs({std::cos(newth), std::sin(newth), newthdot}), -costs, false, false, {}};
}

// Gymnasium's Pendulum picture: 500x500, a rod of length 1 and width 0.2 turning about the centre
// (theta = 0 points up), its rounded end and the black axle. (Gymnasium's torque arrow image is left out.)
torch::Tensor Pendulum::render() const {
  constexpr int kSize = 500;
  constexpr double bound = 2.2, scale = kSize / (bound * 2), offset = kSize / 2.0;
  const double len = kLength * scale, w = 0.2 * scale, angle = state_[0] + M_PI / 2;
  core::Canvas c(kSize, kSize);
  const core::Point center{offset, offset};
  c.polygon(core::rotate_translate({{0, w / 2}, {len, w / 2}, {len, -w / 2}, {0, -w / 2}}, angle, center),
            {204, 77, 77});
  c.circle(center, w / 2, {204, 77, 77});
  c.circle(core::rotate_translate({{len, 0}}, angle, center)[0], w / 2, {204, 77, 77});
  c.circle(center, 0.05 * scale, {0, 0, 0});
  return c.pixels();
}

}  // namespace dojo::envs
