#include "envs/classic_control/mountain_car.h"

#include <algorithm>
#include <cmath>

#include "core/canvas.h"

namespace dojo::envs {

MountainCar::MountainCar(bool sparse)
    : sparse_(sparse),
      action_space_(Discrete{3}),
      observation_space_(Box({kMinPosition, -kMaxSpeed}, {kMaxPosition, kMaxSpeed}, {2})) {}

ResetResult MountainCar::reset(std::optional<std::uint64_t> seed) {
  seed_rng(seed);
  state_ = {std::uniform_real_distribution<double>(-0.6, -0.4)(rng()), 0.0};
  return {float_obs({state_[0], state_[1]}), {}};
}

StepResult MountainCar::step(const torch::Tensor& action) {
  check_action(action);
  auto [position, velocity] = state_;
  const auto a = static_cast<double>(action.item<std::int64_t>());
  velocity += (a - 1) * kForce + std::cos(3 * position) * (-kGravity);
  velocity = std::clamp(velocity, -kMaxSpeed, kMaxSpeed);
  position += velocity;
  position = std::clamp(position, kMinPosition, kMaxPosition);
  if (position == kMinPosition && velocity < 0) velocity = 0;  // inelastic wall on the left
  state_ = {position, velocity};
  const bool terminated = position >= kGoalPosition && velocity >= kGoalVelocity;
  const double reward = sparse_ ? (terminated ? 1.0 : 0.0) : -1.0;
  return {float_obs({position, velocity}), reward, terminated, false, {}};
}

namespace {

// Gymnasium's MountainCar picture: 600x400, the hill y = 0.45 sin(3x) + 0.55, a 40x20 car tilted with
// the slope on two wheels, and the flag at the goal.
torch::Tensor draw_mountain_car(double pos, double goal) {
  using C = MountainCar;
  constexpr int kWidth = 600, kHeight = 400;
  constexpr double scale = kWidth / (C::kMaxPosition - C::kMinPosition), car_w = 40.0, car_h = 20.0,
                   clearance = 10.0;
  auto height = [](double x) { return std::sin(3 * x) * 0.45 + 0.55; };
  core::Canvas c(kWidth, kHeight);
  std::vector<core::Point> hill;
  for (int i = 0; i < 100; ++i) {
    const double x = C::kMinPosition + (C::kMaxPosition - C::kMinPosition) * i / 99.0;
    hill.push_back({(x - C::kMinPosition) * scale, height(x) * scale});
  }
  c.polyline(hill, {0, 0, 0});
  const double angle = std::cos(3 * pos);
  const core::Point at{(pos - C::kMinPosition) * scale, clearance + height(pos) * scale};
  c.polygon(core::rotate_translate({{-car_w / 2, 0}, {-car_w / 2, car_h}, {car_w / 2, car_h}, {car_w / 2, 0}},
                                   angle, at),
            {0, 0, 0});
  for (double wx : {car_w / 4, -car_w / 4}) {
    c.circle(core::rotate_translate({{wx, 0}}, angle, at)[0], car_h / 2.5, {128, 128, 128});
  }
  const double flag_x = (goal - C::kMinPosition) * scale, flag_y1 = height(goal) * scale;
  const double flag_y2 = flag_y1 + 50;
  c.line({flag_x, flag_y1}, {flag_x, flag_y2}, {0, 0, 0});
  c.polygon({{flag_x, flag_y2}, {flag_x, flag_y2 - 10}, {flag_x + 25, flag_y2 - 5}}, {204, 204, 0});
  return c.pixels();
}

}  // namespace

torch::Tensor MountainCar::render() const { return draw_mountain_car(state_[0], kGoalPosition); }

MountainCarContinuous::MountainCarContinuous()
    : action_space_(Box(-1.0, 1.0, {1})),
      observation_space_(Box({MountainCar::kMinPosition, -MountainCar::kMaxSpeed},
                             {MountainCar::kMaxPosition, MountainCar::kMaxSpeed}, {2})) {}

ResetResult MountainCarContinuous::reset(std::optional<std::uint64_t> seed) {
  seed_rng(seed);
  state_ = {std::uniform_real_distribution<double>(-0.6, -0.4)(rng()), 0.0};
  return {float_obs({state_[0], state_[1]}), {}};
}

StepResult MountainCarContinuous::step(const torch::Tensor& action) {
  using C = MountainCar;
  const double a = box_action(action)[0];
  auto [position, velocity] = state_;
  const double force = std::clamp(a, -1.0, 1.0);
  velocity += force * kPower - C::kGravity * std::cos(3 * position);
  velocity = std::clamp(velocity, -C::kMaxSpeed, C::kMaxSpeed);
  position += velocity;
  position = std::clamp(position, C::kMinPosition, C::kMaxPosition);
  if (position == C::kMinPosition && velocity < 0) velocity = 0;  // inelastic wall on the left
  const bool terminated = position >= kGoalPosition && velocity >= C::kGoalVelocity;
  const double reward = (terminated ? 100.0 : 0.0) - 0.1 * a * a;
  state_ = {static_cast<float>(position), static_cast<float>(velocity)};
  return {float_obs({state_[0], state_[1]}), reward, terminated, false, {}};
}

torch::Tensor MountainCarContinuous::render() const { return draw_mountain_car(state_[0], kGoalPosition); }

}  // namespace dojo::envs
