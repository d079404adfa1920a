// CarRacing-v2 as Gymnasium v0.29 defines it (gymnasium/envs/box2d/car_racing.py and
// car_dynamics.py, by Oleg Klimov), on Debian's Box2D 2.4: a top-down race on a random closed track.
//
// - Track: 12 checkpoints at noisy angles and radii around a circle of TRACK_RAD; the road follows
//   them by a heading that turns at most TRACK_TURN_RATE per step of TRACK_DETAIL_STEP, for several
//   laps, of which one closed lap is kept (a track whose ends do not meet is generated again). Tiles
//   are sensor quads; red-white kerbs mark hard turns.
// - Car: a hull of four polygons and four wheels on revolute joints (steering motor on the front
//   pair, ±0.4 rad); rear-wheel drive whose gas rises by at most 0.1 a step; brakes (≥ 0.9 locks the
//   wheels); each wheel's grip is a friction limit, lower on grass than on road.
// - Reward: −0.1 a frame, +1000/N for each of the N tiles the first time a wheel touches it. The
//   episode terminates when every tile is visited, or when the car touches the start tile after
//   visiting more than lap_complete_percent of them; or with −100 when the hull leaves the
//   playfield (|x| or |y| > PLAYFIELD). TimeLimit cuts it at 1000 steps.
// - Observation: the 96 × 96 × 3 uint8 view that follows the car (heading up, zooming in over the
//   first second), with the indicator bar at the bottom (speed, four wheel speeds, steering, angular
//   velocity). Gymnasium draws 1000 × 800 with pygame and scales it down; we draw the same scene with
//   Cairo straight at 96 × 96, so pixels differ while the picture's content and layout match.
// - Actions: continuous (steer −1 … 1, gas 0 … 1, brake 0 … 1), or five discrete ones (nothing,
//   left, right, gas, brake) as Gymnasium's continuous=False (registered as CarRacingDiscrete-v2).
//   Left and right turn as documented; Gymnasium's code swaps them (its issue #1369).
#pragma once
#include <array>
#include <memory>
#include <random>
#include <vector>

#include "core/export.h"
#include "envs/env.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs {

class CarRacing final : public Env {
 public:
  static constexpr double kScale = 6.0;
  static constexpr double kTrackRadius = 900 / kScale;
  static constexpr double kPlayfield = 2000 / kScale;
  static constexpr double kFps = 50;
  static constexpr double kZoom = 2.7;
  static constexpr double kTrackDetailStep = 21 / kScale;
  static constexpr double kTrackTurnRate = 0.31;
  static constexpr double kTrackWidth = 40 / kScale;
  static constexpr double kBorder = 8 / kScale;
  static constexpr int kBorderMinCount = 4;
  static constexpr int kCheckpoints = 12;
  static constexpr int kStateSize = 96;

  struct TrackPoint {
    double alpha, beta, x, y;  // angle around the centre, road heading, centre of the road
  };

  explicit CarRacing(bool continuous = true, double lap_complete_percent = 0.95);
  ~CarRacing() override;
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  const Space& action_space() const override { return action_space_; }
  const Space& observation_space() const override { return observation_space_; }
  std::string name() const override { return continuous_ ? "CarRacing" : "CarRacingDiscrete"; }
  std::vector<std::string> action_meanings() const override;
  // Gymnasium's rgb_array: the same view at 600 × 400.
  torch::Tensor render() const override;
  // The view at any size (96 × 96 is the observation).
  torch::Tensor draw(int width, int height) const;

  // For tests, scripted drivers and the dream's ground truth.
  const std::vector<TrackPoint>& track() const { return track_; }
  int tiles_visited() const;  // tiles a wheel has touched this episode
  std::array<double, 2> car_position() const;
  double car_angle() const;
  std::array<double, 2> car_velocity() const;
  // Moves the car's hull and wheels (at rest) to a pose: tests drive it off the playfield.
  void place_car(double x, double y, double angle);

  struct World;  // Box2D's world, the road and the car (car_racing.cpp)

 private:
  StepResult advance(const std::vector<double>* controls);

  bool continuous_;
  double lap_complete_percent_;
  Space action_space_, observation_space_;
  std::unique_ptr<World> world_;
  std::vector<TrackPoint> track_;
  double prev_reward_ = 0, t_ = 0;
};

// A scripted driver for the continuous car: steer towards the road's centre a few tiles ahead
// (pure pursuit), gas up to a speed that falls with the bend ahead (never while turning), brake
// above it. A baseline that
// knows the track, which a policy from pixels must not; returns the action (steer, gas, brake).
std::array<double, 3> follow_centre(const CarRacing& env);

// One track as CarRacing generates it from the generator's state, or an empty vector when the
// attempt fails to close (reset() then tries again). `border` gets the kerb flags.
std::vector<CarRacing::TrackPoint> generate_car_racing_track(std::mt19937_64& rng, std::vector<bool>* border);

}  // namespace dojo::envs

DOJO_PUBLIC_END
