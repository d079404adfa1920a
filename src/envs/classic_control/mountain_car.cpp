#include "envs/classic_control/mountain_car.h"

#include <algorithm>
#include <cmath>

namespace dojo::envs {

MountainCar::MountainCar()
    : action_space_(Discrete{3}),
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
  return {float_obs({position, velocity}), -1.0, terminated, false, {}};
}

}  // namespace dojo::envs
