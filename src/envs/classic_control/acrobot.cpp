#include "envs/classic_control/acrobot.h"

#include <algorithm>
#include <cmath>

#include "core/canvas.h"

namespace dojo::envs {

namespace {
// Gymnasium's wrap(): shift by the range until x lies in [m, M].
double wrap(double x, double m, double M) {
  const double diff = M - m;
  while (x > M) x -= diff;
  while (x < m) x += diff;
  return x;
}
}  // namespace

Acrobot::Acrobot()
    : action_space_(Discrete{3}),
      observation_space_(Box({-1, -1, -1, -1, -kMaxVel1, -kMaxVel2}, {1, 1, 1, 1, kMaxVel1, kMaxVel2}, {6})) {
}

torch::Tensor Acrobot::observation() const {
  const auto& s = state_;
  return float_obs({std::cos(s[0]), std::sin(s[0]), std::cos(s[1]), std::sin(s[1]), s[2], s[3]});
}

ResetResult Acrobot::reset(std::optional<std::uint64_t> seed) {
  seed_rng(seed);
  std::uniform_real_distribution<double> u(-0.1, 0.1);
  for (auto& s : state_) s = u(rng());
  return {observation(), {}};
}

Acrobot::State Acrobot::dsdt(const State& s, double a) {
  const double m1 = kLinkMass1, m2 = kLinkMass2, l1 = kLinkLength1, lc1 = kLinkComPos1, lc2 = kLinkComPos2;
  const double I1 = kLinkMoi, I2 = kLinkMoi, g = 9.8;
  const auto [theta1, theta2, dtheta1, dtheta2] = s;
  const double d1 = m1 * lc1 * lc1 + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * std::cos(theta2)) + I1 + I2;
  const double d2 = m2 * (lc2 * lc2 + l1 * lc2 * std::cos(theta2)) + I2;
  const double phi2 = m2 * lc2 * g * std::cos(theta1 + theta2 - M_PI / 2.0);
  const double phi1 = -m2 * l1 * lc2 * dtheta2 * dtheta2 * std::sin(theta2) -
                      2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * std::sin(theta2) +
                      (m1 * lc1 + m2 * l1) * g * std::cos(theta1 - M_PI / 2) + phi2;
  // The "book" variant keeps the dtheta1^2 term that the NIPS paper dropped.
  const double ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1 * dtheta1 * std::sin(theta2) - phi2) /
                          (m2 * lc2 * lc2 + I2 - d2 * d2 / d1);
  const double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
  return {dtheta1, dtheta2, ddtheta1, ddtheta2};
}

StepResult Acrobot::step(const torch::Tensor& action) {
  check_action(action);
  const double torque = kAvailTorque[static_cast<std::size_t>(action.item<std::int64_t>())];

  // One classical Runge-Kutta step over [0, dt]; the torque is held constant (its derivative is 0).
  auto add = [](const State& y, double h, const State& k) {
    return State{y[0] + h * k[0], y[1] + h * k[1], y[2] + h * k[2], y[3] + h * k[3]};
  };
  const State& y0 = state_;
  const double dt = kDt, dt2 = kDt / 2.0;
  const State k1 = dsdt(y0, torque);
  const State k2 = dsdt(add(y0, dt2, k1), torque);
  const State k3 = dsdt(add(y0, dt2, k2), torque);
  const State k4 = dsdt(add(y0, dt, k3), torque);
  State ns;
  for (std::size_t i = 0; i < 4; ++i) ns[i] = y0[i] + dt / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);

  ns[0] = wrap(ns[0], -M_PI, M_PI);
  ns[1] = wrap(ns[1], -M_PI, M_PI);
  ns[2] = std::clamp(ns[2], -kMaxVel1, kMaxVel1);
  ns[3] = std::clamp(ns[3], -kMaxVel2, kMaxVel2);
  state_ = ns;
  const bool terminated = -std::cos(ns[0]) - std::cos(ns[1] + ns[0]) > 1.0;
  return {observation(), terminated ? 0.0 : -1.0, terminated, false, {}};
}

// Gymnasium's Acrobot picture: 500x500, both links hanging from the centre (thetas measured from
// straight down), the target line one link length above the pivot.
torch::Tensor Acrobot::render() const {
  constexpr int kSize = 500;
  constexpr double kLinkLength2 = 1.0, bound = kLinkLength1 + kLinkLength2 + 0.2;
  constexpr double scale = kSize / (bound * 2), offset = kSize / 2.0;
  core::Canvas c(kSize, kSize);
  c.line({-bound * scale + offset, 1 * scale + offset}, {bound * scale + offset, 1 * scale + offset},
         {0, 0, 0});
  const double t1 = state_[0], t12 = state_[0] + state_[1];
  const core::Point p0{offset, offset};
  const core::Point p1{offset + kLinkLength1 * std::sin(t1) * scale,
                       offset - kLinkLength1 * std::cos(t1) * scale};
  const double w = 0.1 * scale;
  for (const auto& [from, angle, length] : {std::tuple{p0, t1 - M_PI / 2, kLinkLength1 * scale},
                                            std::tuple{p1, t12 - M_PI / 2, kLinkLength2 * scale}}) {
    c.polygon(
        core::rotate_translate({{0, w / 2}, {length, w / 2}, {length, -w / 2}, {0, -w / 2}}, angle, from),
        {0, 204, 204});
    c.circle(from, w, {204, 204, 0});
  }
  return c.pixels();
}

}  // namespace dojo::envs
