#include "envs/box2d/car_racing.h"

#include <box2d/box2d.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "core/canvas.h"
#include "core/error.h"

namespace dojo::envs {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kGrassDim = CarRacing::kPlayfield / 20.0;

// The car (car_dynamics.py): sizes in its drawing units, times kSize in metres.
constexpr double kSize = 0.02;
constexpr double kEnginePower = 100000000 * kSize * kSize;
constexpr double kWheelMomentOfInertia = 4000 * kSize * kSize;
constexpr double kFrictionLimit = 1000000 * kSize * kSize;  // friction ~ mass ~ size²
constexpr double kWheelR = 27, kWheelW = 14;
constexpr std::array<std::array<double, 2>, 4> kWheelPos{{{-55, +80}, {+55, +80}, {-55, -82}, {+55, -82}}};
const std::vector<std::vector<std::array<double, 2>>> kHullPolys{
    {{-60, +130}, {+60, +130}, {+60, +110}, {-60, +110}},
    {{-15, +120}, {+15, +120}, {+20, +20}, {-20, 20}},
    {{+25, +20}, {+50, -10}, {+50, -40}, {+20, -90}, {-20, -90}, {-50, -40}, {-50, -10}, {-25, +20}},
    {{-50, -120}, {+50, -120}, {+50, -90}, {-50, -90}}};

// Gymnasium's window, the frame every picture is drawn in before scaling to the requested size.
constexpr double kWindowW = 1000, kWindowH = 800;

using Rgb3 = std::array<double, 3>;
const Rgb3 kRoadColor{102, 102, 102}, kBackground{102, 204, 102}, kGrass{102, 230, 102};

int sign(double v) { return (v > 0) - (v < 0); }

}  // namespace

std::vector<CarRacing::TrackPoint> generate_car_racing_track(std::mt19937_64& rng,
                                                             std::vector<bool>* border) {
  using T = CarRacing;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto uniform = [&](double lo, double hi) { return lo + (hi - lo) * unit(rng); };
  // Checkpoints: one per twelfth of the circle at a random angle and radius; the first and last sit
  // at 1.5 radii around angle 0, where the lap starts.
  struct Checkpoint {
    double alpha, x, y;
  };
  std::vector<Checkpoint> checkpoints;
  double start_alpha = 0;
  for (int c = 0; c < T::kCheckpoints; ++c) {
    const double noise = uniform(0, 2 * kPi / T::kCheckpoints);
    double alpha = 2 * kPi * c / T::kCheckpoints + noise;
    double rad = uniform(T::kTrackRadius / 3, T::kTrackRadius);
    if (c == 0) alpha = 0, rad = 1.5 * T::kTrackRadius;
    if (c == T::kCheckpoints - 1) {
      alpha = 2 * kPi * c / T::kCheckpoints;
      start_alpha = 2 * kPi * (-0.5) / T::kCheckpoints;
      rad = 1.5 * T::kTrackRadius;
    }
    checkpoints.push_back({alpha, rad * std::cos(alpha), rad * std::sin(alpha)});
  }

  // Drive from checkpoint to checkpoint: the heading beta turns towards the next one, by at most the
  // turn rate per step, for up to five laps.
  double x = 1.5 * T::kTrackRadius, y = 0, beta = 0;
  std::size_t dest_i = 0;
  int laps = 0, no_freeze = 2500;
  bool visited_other_side = false;
  std::vector<T::TrackPoint> track;
  for (;;) {
    double alpha = std::atan2(y, x);
    if (visited_other_side && alpha > 0) ++laps, visited_other_side = false;
    if (alpha < 0) visited_other_side = true, alpha += 2 * kPi;
    double dest_x = 0, dest_y = 0;
    for (;;) {  // the next checkpoint ahead of alpha
      bool failed = true;
      for (;;) {
        const auto& d = checkpoints[dest_i % checkpoints.size()];
        dest_x = d.x, dest_y = d.y;
        if (alpha <= d.alpha) {
          failed = false;
          break;
        }
        ++dest_i;
        if (dest_i % checkpoints.size() == 0) break;
      }
      if (!failed) break;
      alpha -= 2 * kPi;
    }
    const double r1x = std::cos(beta), r1y = std::sin(beta);
    const double p1x = -r1y, p1y = r1x;
    // The destination projected on the heading's normal: which way to turn.
    double proj = r1x * (dest_x - x) + r1y * (dest_y - y);
    while (beta - alpha > 1.5 * kPi) beta -= 2 * kPi;
    while (beta - alpha < -1.5 * kPi) beta += 2 * kPi;
    const double prev_beta = beta;
    proj *= T::kScale;
    if (proj > 0.3) beta -= std::min(T::kTrackTurnRate, std::abs(0.001 * proj));
    if (proj < -0.3) beta += std::min(T::kTrackTurnRate, std::abs(0.001 * proj));
    x += p1x * T::kTrackDetailStep;
    y += p1y * T::kTrackDetailStep;
    track.push_back({alpha, prev_beta * 0.5 + beta * 0.5, x, y});
    if (laps > 4) break;
    if (--no_freeze == 0) break;
  }

  // One lap: between the last two passes through the start angle (the first laps settle the path).
  long i1 = -1, i2 = -1;
  for (long i = static_cast<long>(track.size()) - 1;; --i) {
    if (i <= 0) return {};
    const bool through_start = track[static_cast<std::size_t>(i)].alpha > start_alpha &&
                               track[static_cast<std::size_t>(i - 1)].alpha <= start_alpha;
    if (through_start && i2 == -1) {
      i2 = i;
    } else if (through_start && i1 == -1) {
      i1 = i;
      break;
    }
  }
  std::vector<T::TrackPoint> lap(track.begin() + i1, track.begin() + (i2 - 1));
  if (lap.size() < 3) return {};
  // The lap's ends must meet: the jump across the start, measured along the first heading's normal.
  const double fx = std::cos(lap.front().beta), fy = std::sin(lap.front().beta);
  const double glue = std::sqrt(std::pow(fx * (lap.front().x - lap.back().x), 2) +
                                std::pow(fy * (lap.front().y - lap.back().y), 2));
  if (glue > T::kTrackDetailStep) return {};

  // Kerbs where the road has turned the same way, sharply, for kBorderMinCount steps.
  if (border) {
    const long n = static_cast<long>(lap.size());
    const auto at = [&](long i) -> const T::TrackPoint& {
      return lap[static_cast<std::size_t>((i % n + n) % n)];
    };
    std::vector<bool> b(lap.size(), false);
    for (long i = 0; i < n; ++i) {
      bool good = true;
      int oneside = 0;
      for (int neg = 0; neg < T::kBorderMinCount; ++neg) {
        const double beta1 = at(i - neg).beta, beta2 = at(i - neg - 1).beta;
        good = good && std::abs(beta1 - beta2) > T::kTrackTurnRate * 0.2;
        oneside += sign(beta1 - beta2);
      }
      b[static_cast<std::size_t>(i)] = good && std::abs(oneside) == T::kBorderMinCount;
    }
    std::vector<bool> widened = b;
    for (long i = 0; i < n; ++i)
      for (int neg = 0; neg < T::kBorderMinCount; ++neg)
        if (b[static_cast<std::size_t>(i)]) widened[static_cast<std::size_t>(((i - neg) % n + n) % n)] = true;
    *border = widened;
  }
  return lap;
}

// Box2D's world: the road's sensor tiles, the car, and the contact listener that scores tiles.
struct CarRacing::World : b2ContactListener {
  struct Tag {
    int kind = 0;  // 1 a tile, 2 a wheel
    int index = 0;
  };
  struct Tile {
    std::array<b2Vec2, 4> poly;
    Rgb3 color;
    bool visited = false;
  };
  struct Kerb {
    std::array<b2Vec2, 4> poly;
    Rgb3 color;
  };
  struct Wheel {
    b2Body* body = nullptr;
    b2RevoluteJoint* joint = nullptr;
    double gas = 0, brake = 0, steer = 0, phase = 0, omega = 0, radius = kWheelR * kSize;
    std::set<int> tiles;  // road tiles under the wheel
  };

  b2World world{b2Vec2(0.0f, 0.0f)};
  std::vector<Tile> tiles;
  std::vector<Tag> tile_tags;
  std::vector<Kerb> kerbs;
  b2Body* hull = nullptr;
  std::array<Wheel, 4> wheels;
  std::array<Tag, 4> wheel_tags;
  double reward = 0, lap_complete_percent = 0.95;
  int visited = 0;
  bool new_lap = false;

  World(const std::vector<TrackPoint>& track, const std::vector<bool>& border, double lap_percent)
      : lap_complete_percent(lap_percent) {
    world.SetContactListener(this);
    const auto n = track.size();
    tiles.resize(n);
    tile_tags.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto& a = track[i];
      const auto& b = track[(i + n - 1) % n];
      const auto side = [](const TrackPoint& p, double w) {
        return b2Vec2(static_cast<float>(p.x + w * std::cos(p.beta)),
                      static_cast<float>(p.y + w * std::sin(p.beta)));
      };
      auto& tile = tiles[i];
      tile.poly = {side(a, -kTrackWidth), side(a, kTrackWidth), side(b, kTrackWidth), side(b, -kTrackWidth)};
      const double shade = 0.01 * static_cast<double>(i % 3) * 255;
      tile.color = {kRoadColor[0] + shade, kRoadColor[1] + shade, kRoadColor[2] + shade};
      tile_tags[i] = {1, static_cast<int>(i)};
      b2BodyDef bd;
      bd.userData.pointer = reinterpret_cast<std::uintptr_t>(&tile_tags[i]);
      b2Body* body = world.CreateBody(&bd);
      b2PolygonShape shape;
      shape.Set(tile.poly.data(), 4);
      b2FixtureDef fd;
      fd.shape = &shape;
      fd.isSensor = true;
      body->CreateFixture(&fd);
      if (border[i]) {
        const double s = sign(b.beta - a.beta);
        Kerb k;
        k.poly = {side(a, s * kTrackWidth), side(a, s * (kTrackWidth + kBorder)),
                  side(b, s * (kTrackWidth + kBorder)), side(b, s * kTrackWidth)};
        k.color = i % 2 == 0 ? Rgb3{255, 255, 255} : Rgb3{255, 0, 0};
        kerbs.push_back(k);
      }
    }
    make_car(track.front().beta, track.front().x, track.front().y);
  }

  void make_car(double angle, double x, double y) {
    b2BodyDef hd;
    hd.type = b2_dynamicBody;
    hd.position.Set(static_cast<float>(x), static_cast<float>(y));
    hd.angle = static_cast<float>(angle);
    hull = world.CreateBody(&hd);
    for (const auto& poly : kHullPolys) {
      std::vector<b2Vec2> v;
      for (const auto& p : poly)
        v.emplace_back(static_cast<float>(p[0] * kSize), static_cast<float>(p[1] * kSize));
      b2PolygonShape shape;
      shape.Set(v.data(), static_cast<int>(v.size()));
      b2FixtureDef fd;
      fd.shape = &shape;
      fd.density = 1.0f;
      hull->CreateFixture(&fd);
    }
    for (std::size_t k = 0; k < 4; ++k) {
      const auto [wx, wy] = kWheelPos[k];
      b2BodyDef wd;
      wd.type = b2_dynamicBody;
      wd.position.Set(static_cast<float>(x + wx * kSize), static_cast<float>(y + wy * kSize));
      wd.angle = static_cast<float>(angle);
      wheel_tags[k] = {2, static_cast<int>(k)};
      wd.userData.pointer = reinterpret_cast<std::uintptr_t>(&wheel_tags[k]);
      auto& w = wheels[k];
      w = Wheel{};
      w.body = world.CreateBody(&wd);
      b2PolygonShape shape;
      shape.SetAsBox(static_cast<float>(kWheelW * kSize), static_cast<float>(kWheelR * kSize));
      b2FixtureDef fd;
      fd.shape = &shape;
      fd.density = 0.1f;
      fd.filter.categoryBits = 0x0020;
      fd.filter.maskBits = 0x001;
      fd.restitution = 0.0f;
      w.body->CreateFixture(&fd);
      b2RevoluteJointDef rjd;
      rjd.bodyA = hull;
      rjd.bodyB = w.body;
      rjd.localAnchorA.Set(static_cast<float>(wx * kSize), static_cast<float>(wy * kSize));
      rjd.localAnchorB.Set(0.0f, 0.0f);
      rjd.enableMotor = true;
      rjd.enableLimit = true;
      rjd.maxMotorTorque = static_cast<float>(180 * 900 * kSize * kSize);
      rjd.motorSpeed = 0.0f;
      rjd.lowerAngle = -0.4f;
      rjd.upperAngle = +0.4f;
      w.joint = static_cast<b2RevoluteJoint*>(world.CreateJoint(&rjd));
    }
  }

  void remove_car() {
    for (auto& w : wheels) world.DestroyBody(w.body);  // its joint goes with it
    world.DestroyBody(hull);
  }

  // A wheel's contact with a tile: the first touch scores the tile; touching the start tile after
  // most of the lap counts as finishing it.
  void contact(b2Contact* c, bool begin) {
    const auto* a = reinterpret_cast<const Tag*>(c->GetFixtureA()->GetBody()->GetUserData().pointer);
    const auto* b = reinterpret_cast<const Tag*>(c->GetFixtureB()->GetBody()->GetUserData().pointer);
    const Tag* tile = a && a->kind == 1 ? a : b && b->kind == 1 ? b : nullptr;
    const Tag* other = tile == a ? b : a;
    if (!tile) return;
    auto& t = tiles[static_cast<std::size_t>(tile->index)];
    t.color = kRoadColor;  // a touched tile loses its shade, as in Gymnasium
    if (!other || other->kind != 2) return;
    if (tile->index == 0 &&
        static_cast<double>(visited) / static_cast<double>(tiles.size()) > lap_complete_percent)
      new_lap = true;
    auto& w = wheels[static_cast<std::size_t>(other->index)];
    if (begin) {
      w.tiles.insert(tile->index);
      if (!t.visited) {
        t.visited = true;
        reward += 1000.0 / static_cast<double>(tiles.size());
        ++visited;
      }
    } else {
      w.tiles.erase(tile->index);
    }
  }
  void BeginContact(b2Contact* c) override { contact(c, true); }
  void EndContact(b2Contact* c) override { contact(c, false); }

  // The controls: steering targets for the front wheels, gas for the rear ones (rising by at most
  // 0.1 a step, falling at once), brakes for all.
  void controls(double steer, double gas, double brake) {
    wheels[0].steer = wheels[1].steer = steer;
    gas = std::clamp(gas, 0.0, 1.0);
    for (std::size_t k = 2; k < 4; ++k) wheels[k].gas += std::min(gas - wheels[k].gas, 0.1);
    for (auto& w : wheels) w.brake = brake;
  }

  // car_dynamics.Car.step: each wheel's steering motor, engine and brakes on its spin, then the
  // friction force between its rolling speed and the ground, capped by the grip (less on grass).
  void car_step(double dt) {
    for (auto& w : wheels) {
      const double angle = w.joint->GetJointAngle();
      w.joint->SetMotorSpeed(
          static_cast<float>(sign(w.steer - angle) * std::min(50.0 * std::abs(w.steer - angle), 3.0)));
      double friction_limit = kFrictionLimit * 0.6;           // grass
      if (!w.tiles.empty()) friction_limit = kFrictionLimit;  // every tile's road friction is 1
      const b2Vec2 forw = w.body->GetWorldVector(b2Vec2(0.0f, 1.0f));
      const b2Vec2 side = w.body->GetWorldVector(b2Vec2(1.0f, 0.0f));
      const b2Vec2 v = w.body->GetLinearVelocity();
      const double vf = forw.x * v.x + forw.y * v.y, vs = side.x * v.x + side.y * v.y;
      // Power into the spin: I·ω·dω/dt = P (a small constant keeps ω = 0 finite).
      w.omega += dt * kEnginePower * w.gas / kWheelMomentOfInertia / (std::abs(w.omega) + 5.0);
      if (w.brake >= 0.9) {
        w.omega = 0;
      } else if (w.brake > 0) {
        const double brake_force = 15;  // radians per second
        double val = brake_force * w.brake;
        if (std::abs(val) > std::abs(w.omega)) val = std::abs(w.omega);
        w.omega += -sign(w.omega) * val;
      }
      w.phase += w.omega * dt;
      const double vr = w.omega * w.radius;
      // Forces along and across the wheel, from the speed differences (the factor damps oscillation).
      double f_force = (-vf + vr) * 205000 * kSize * kSize;
      double p_force = -vs * 205000 * kSize * kSize;
      const double force = std::sqrt(f_force * f_force + p_force * p_force);
      if (force > friction_limit) {
        f_force = f_force / force * friction_limit;
        p_force = p_force / force * friction_limit;
      }
      w.omega -= dt * f_force * w.radius / kWheelMomentOfInertia;
      w.body->ApplyForceToCenter(b2Vec2(static_cast<float>(p_force * side.x + f_force * forw.x),
                                        static_cast<float>(p_force * side.y + f_force * forw.y)),
                                 true);
    }
  }
};

CarRacing::CarRacing(bool continuous, double lap_complete_percent)
    : continuous_(continuous),
      lap_complete_percent_(lap_complete_percent),
      action_space_(continuous ? Space(Box({-1.0, 0.0, 0.0}, {1.0, 1.0, 1.0}, {3})) : Space(Discrete(5))),
      observation_space_(Box(0, 255, {kStateSize, kStateSize, 3}, torch::kUInt8)) {}

CarRacing::~CarRacing() = default;

std::vector<std::string> CarRacing::action_meanings() const {
  if (continuous_) return {};
  return {"NOOP", "LEFT", "RIGHT", "GAS", "BRAKE"};
}

ResetResult CarRacing::reset(std::optional<std::uint64_t> seed) {
  seed_rng(seed);
  std::vector<bool> border;
  do track_ = generate_car_racing_track(rng(), &border);
  while (track_.empty());
  world_ = std::make_unique<World>(track_, border, lap_complete_percent_);
  prev_reward_ = 0;
  t_ = 0;
  // As Gymnasium's reset, one physics step without controls before the first frame.
  auto r = advance(nullptr);
  return {r.obs, {}};
}

StepResult CarRacing::step(const torch::Tensor& action) {
  if (!world_) throw Error("CarRacing: step() before reset()");
  check_action(action);
  std::vector<double> c;
  if (continuous_) {
    c = box_action(action);
  } else {
    // Nothing, left, right, gas, brake, as Gymnasium documents them (its code turns the other way for
    // left and right: Gymnasium issue #1369).
    const auto a = action.item<std::int64_t>();
    c = {a == 1 ? -0.6 : a == 2 ? 0.6 : 0.0, a == 3 ? 0.2 : 0.0, a == 4 ? 0.8 : 0.0};
  }
  return advance(&c);
}

StepResult CarRacing::advance(const std::vector<double>* c) {
  auto& w = *world_;
  if (c) w.controls(-(*c)[0], (*c)[1], (*c)[2]);  // the steering wheel turns the other way
  w.car_step(1.0 / kFps);
  w.world.Step(static_cast<float>(1.0 / kFps), 6 * 30, 2 * 30);
  t_ += 1.0 / kFps;
  StepResult r;
  r.obs = draw(kStateSize, kStateSize);
  if (!c) return r;
  w.reward -= 0.1;
  r.reward = w.reward - prev_reward_;
  prev_reward_ = w.reward;
  if (w.visited == static_cast<int>(track_.size()) || w.new_lap) {
    r.terminated = true;
    r.info["lap_finished"] = 1.0;
  }
  const auto p = w.hull->GetPosition();
  if (std::abs(p.x) > kPlayfield || std::abs(p.y) > kPlayfield) {
    r.terminated = true;
    r.info["lap_finished"] = 0.0;
    r.reward = -100;
  }
  return r;
}

int CarRacing::tiles_visited() const { return world_ ? world_->visited : 0; }

std::array<double, 2> CarRacing::car_position() const {
  const auto p = world_->hull->GetPosition();
  return {p.x, p.y};
}

double CarRacing::car_angle() const { return world_->hull->GetAngle(); }

std::array<double, 2> CarRacing::car_velocity() const {
  const auto v = world_->hull->GetLinearVelocity();
  return {v.x, v.y};
}

void CarRacing::place_car(double x, double y, double angle) {
  if (!world_) throw Error("CarRacing: place_car() before reset()");
  world_->remove_car();
  world_->make_car(angle, x, y);
}

torch::Tensor CarRacing::render() const { return world_ ? draw(600, 400) : torch::Tensor(); }

torch::Tensor CarRacing::draw(int width, int height) const {
  const auto& w = *world_;
  // Gymnasium's view in its 1000 × 800 window (y up before its flip), scaled to width × height.
  const double sx = width / kWindowW, sy = height / kWindowH;
  const double angle = -w.hull->GetAngle();
  const double zoom = 0.1 * kScale * std::max(1 - t_, 0.0) + kZoom * kScale * std::min(t_, 1.0);
  const auto hp = w.hull->GetPosition();
  const double ca = std::cos(angle), sa = std::sin(angle);
  const double tx = kWindowW / 2 + (-hp.x * zoom * ca + hp.y * zoom * sa);
  const double ty = kWindowH / 4 + (-hp.x * zoom * sa - hp.y * zoom * ca);
  const auto to_screen = [&](double x, double y) {
    return core::Point{((x * ca - y * sa) * zoom + tx) * sx, ((x * sa + y * ca) * zoom + ty) * sy};
  };
  const auto rgb = [](const Rgb3& c) {
    return core::Rgb{static_cast<std::uint8_t>(c[0]), static_cast<std::uint8_t>(c[1]),
                     static_cast<std::uint8_t>(c[2])};
  };
  // Shapes wholly off the picture are skipped (a margin of the largest shape's diagonal).
  const double margin = std::max({kGrassDim, kTrackWidth, kTrackDetailStep}) * std::sqrt(2.0) * zoom;
  core::Canvas canvas(width, height, rgb(kBackground));
  const auto fill = [&](std::vector<core::Point> points, const Rgb3& color) {
    const bool visible = std::any_of(points.begin(), points.end(), [&](const core::Point& p) {
      return p[0] >= -margin * sx && p[0] <= width + margin * sx && p[1] >= -margin * sy &&
             p[1] <= height + margin * sy;
    });
    if (visible) canvas.polygon(points, rgb(color));
  };
  for (int gx = -20; gx < 20; gx += 2)
    for (int gy = -20; gy < 20; gy += 2)
      fill({to_screen(kGrassDim * gx + kGrassDim, kGrassDim * gy), to_screen(kGrassDim * gx, kGrassDim * gy),
            to_screen(kGrassDim * gx, kGrassDim * gy + kGrassDim),
            to_screen(kGrassDim * gx + kGrassDim, kGrassDim * gy + kGrassDim)},
           kGrass);
  for (const auto& t : w.tiles) {
    std::vector<core::Point> p;
    for (const auto& v : t.poly) p.push_back(to_screen(v.x, v.y));
    fill(p, t.color);
  }
  for (const auto& k : w.kerbs) {
    std::vector<core::Point> p;
    for (const auto& v : k.poly) p.push_back(to_screen(v.x, v.y));
    fill(p, k.color);
  }
  // The car: wheels (black, with the grey band of their spin) then the hull.
  const auto body_poly = [&](const b2Body* body, const std::vector<std::array<double, 2>>& local) {
    std::vector<core::Point> p;
    for (const auto& v : local) {
      const b2Vec2 world_v =
          b2Mul(body->GetTransform(), b2Vec2(static_cast<float>(v[0]), static_cast<float>(v[1])));
      p.push_back(to_screen(world_v.x, world_v.y));
    }
    return p;
  };
  const double ww = kWheelW * kSize, wr = kWheelR * kSize;
  for (const auto& wheel : w.wheels) {
    canvas.polygon(body_poly(wheel.body, {{-ww, +wr}, {+ww, +wr}, {+ww, -wr}, {-ww, -wr}}), {0, 0, 0});
    const double a1 = wheel.phase, a2 = wheel.phase + 1.2;
    double s1 = std::sin(a1), s2 = std::sin(a2), c1 = std::cos(a1), c2 = std::cos(a2);
    if (s1 > 0 && s2 > 0) continue;
    if (s1 > 0) c1 = sign(c1);
    if (s2 > 0) c2 = sign(c2);
    canvas.polygon(body_poly(wheel.body, {{-ww, wr * c1}, {+ww, wr * c1}, {+ww, wr * c2}, {-ww, wr * c2}}),
                   {77, 77, 77});
  }
  for (const auto& poly : kHullPolys) {
    std::vector<std::array<double, 2>> local;
    for (const auto& v : poly) local.push_back({v[0] * kSize, v[1] * kSize});
    canvas.polygon(body_poly(w.hull, local), {204, 0, 0});
  }

  // The indicator bar, in the picture's top-down coordinates (Canvas is y-up: y = height − y_down).
  const double s = kWindowW / 40.0, h = kWindowH / 40.0;
  const auto rect = [&](double x0, double y0_down, double x1, double y1_down, core::Rgb color) {
    canvas.polygon({{x0 * sx, height - y0_down * sy},
                    {x1 * sx, height - y0_down * sy},
                    {x1 * sx, height - y1_down * sy},
                    {x0 * sx, height - y1_down * sy}},
                   color);
  };
  rect(0, kWindowH - 5 * h, kWindowW, kWindowH, {0, 0, 0});
  // A bar for each reading, drawn when the reading is not ~0 (as Gymnasium's render_if_min).
  const auto vertical = [&](double place, double reading, double scale, core::Rgb color) {
    const double val = scale * reading;
    if (std::abs(reading) > 1e-4)
      rect(place * s, kWindowH - (h + h * val), (place + 1) * s, kWindowH - h, color);
  };
  const auto horizontal = [&](double place, double reading, double scale, core::Rgb color) {
    const double val = scale * reading;
    if (std::abs(reading) > 1e-4)
      rect(place * s, kWindowH - 4 * h, (place + val) * s, kWindowH - 2 * h, color);
  };
  const auto v = w.hull->GetLinearVelocity();
  vertical(5, std::sqrt(v.x * v.x + v.y * v.y), 0.02, {255, 255, 255});
  vertical(7, w.wheels[0].omega, 0.01, {0, 0, 255});  // ABS sensors
  vertical(8, w.wheels[1].omega, 0.01, {0, 0, 255});
  vertical(9, w.wheels[2].omega, 0.01, {51, 0, 255});
  vertical(10, w.wheels[3].omega, 0.01, {51, 0, 255});
  horizontal(20, w.wheels[0].joint->GetJointAngle(), -10.0, {0, 255, 0});
  horizontal(30, w.hull->GetAngularVelocity(), -0.8, {255, 0, 0});
  return canvas.pixels();
}

std::array<double, 3> follow_centre(const CarRacing& env) {
  const auto& track = env.track();
  const auto [x, y] = env.car_position();
  const auto n = track.size();
  std::size_t nearest = 0;
  double best = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < n; ++i) {
    const double d = std::hypot(track[i].x - x, track[i].y - y);
    if (d < best) best = d, nearest = i;
  }
  // The track runs in increasing index; aim a few tiles ahead.
  const auto& target = track[(nearest + 6) % n];
  const double heading = env.car_angle() + kPi / 2;  // the car's nose is its local +y
  double error = std::atan2(target.y - y, target.x - x) - heading;
  error = std::remainder(error, 2 * kPi);  // left of the nose is positive
  // The bend ahead: how far the road turns over the next 12 tiles sets the speed (m/s; the car
  // reaches ~45 in a second of full gas).
  const double bend = std::abs(std::remainder(track[(nearest + 12) % n].beta - track[nearest].beta, 2 * kPi));
  const double target_speed = std::clamp(120.0 - 60.0 * bend, 50.0, 120.0);
  const auto [vx, vy] = env.car_velocity();
  const double speed = std::hypot(vx, vy);
  const double steer = std::clamp(-1.5 * error, -1.0, 1.0);  // −1 is full left
  // No gas while turning: the rear-wheel-drive car spins out (Gymnasium's advice to players).
  const double gas = speed < target_speed && std::abs(steer) < 0.25 ? 1.0 : 0.0;
  const double brake = speed > target_speed + 4 ? 0.6 : 0.0;
  return {steer, gas, brake};
}

}  // namespace dojo::envs
