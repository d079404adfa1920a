#include "nn/scenes.h"

#include <torch/torch.h>

#include <array>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"

namespace dojo::nn::data {

namespace {

struct Vec {
  double x = 0, y = 0, z = 0;
  Vec operator+(const Vec& o) const { return {x + o.x, y + o.y, z + o.z}; }
  Vec operator-(const Vec& o) const { return {x - o.x, y - o.y, z - o.z}; }
  Vec operator*(double s) const { return {x * s, y * s, z * s}; }
  double dot(const Vec& o) const { return x * o.x + y * o.y + z * o.z; }
  Vec cross(const Vec& o) const { return {y * o.z - z * o.y, z * o.x - x * o.z, x * o.y - y * o.x}; }
  Vec unit() const { return *this * (1.0 / std::sqrt(dot(*this))); }
};
using Colour = std::array<double, 3>;

constexpr double kRoom = 1.2;  // half the floor's side
constexpr double kWallHeight = 1.0;
constexpr double kAmbient = 0.35;
constexpr double kEps = 1e-6;
constexpr double kFar = std::numeric_limits<double>::infinity();

// Saturated colours for the objects, muted ones for the walls and floor: an object stands out.
const std::vector<Colour> kObjectColours = {{0.9, 0.1, 0.1},   {0.1, 0.75, 0.1},  {0.15, 0.3, 0.95},
                                            {0.95, 0.85, 0.1}, {0.85, 0.2, 0.85}, {0.1, 0.85, 0.85},
                                            {0.95, 0.5, 0.05}};
const std::vector<Colour> kRoomColours = {{0.55, 0.45, 0.35}, {0.35, 0.45, 0.55}, {0.5, 0.55, 0.4},
                                          {0.6, 0.6, 0.6},    {0.45, 0.35, 0.5},  {0.3, 0.5, 0.45}};
const Colour kSky = {0.92, 0.92, 0.96};

struct Object {
  bool sphere = true;
  Vec centre;
  double size = 0.2;  // radius, or half the side of the cube
  Colour colour;
};

struct Scene {
  std::array<Colour, 4> walls;  // x = −R, x = +R, z = −R, z = +R
  Colour floor;
  std::vector<Object> objects;
};

struct Hit {
  double t = kFar;
  Vec normal;
  Colour colour = kSky;
};

// The nearest crossing of the ray o + t·d with an object, t > kEps.
void hit_object(const Object& obj, const Vec& o, const Vec& d, Hit& best) {
  if (obj.sphere) {
    const auto oc = o - obj.centre;
    const double b = oc.dot(d), c = oc.dot(oc) - obj.size * obj.size, disc = b * b - c;
    if (disc < 0) return;
    const double t = -b - std::sqrt(disc);
    if (t > kEps && t < best.t) best = {t, ((o + d * t) - obj.centre).unit(), obj.colour};
    return;
  }
  // The slab method over the cube's three axis-aligned pairs of faces.
  double t_near = -kFar, t_far = kFar;
  int axis = 0;
  const double os[3] = {o.x, o.y, o.z}, ds[3] = {d.x, d.y, d.z},
               cs[3] = {obj.centre.x, obj.centre.y, obj.centre.z};
  for (int a = 0; a < 3; ++a) {
    if (std::abs(ds[a]) < 1e-12) {
      if (std::abs(os[a] - cs[a]) > obj.size) return;
      continue;
    }
    double t0 = (cs[a] - obj.size - os[a]) / ds[a], t1 = (cs[a] + obj.size - os[a]) / ds[a];
    if (t0 > t1) std::swap(t0, t1);
    if (t0 > t_near) {
      t_near = t0;
      axis = a;
    }
    t_far = std::min(t_far, t1);
  }
  if (t_near > t_far || t_near <= kEps || t_near >= best.t) return;
  double n[3] = {0, 0, 0};
  n[axis] = ds[axis] > 0 ? -1 : 1;
  best = {t_near, {n[0], n[1], n[2]}, obj.colour};
}

Hit trace(const Scene& s, const Vec& o, const Vec& d) {
  Hit best;
  if (d.y < 0) {  // the floor
    const double t = -o.y / d.y;
    const auto p = o + d * t;
    if (std::abs(p.x) <= kRoom && std::abs(p.z) <= kRoom) best = {t, {0, 1, 0}, s.floor};
  }
  // The walls, seen from inside.
  const std::array<std::pair<int, double>, 4> walls = {{{0, -kRoom}, {0, kRoom}, {2, -kRoom}, {2, kRoom}}};
  for (std::size_t w = 0; w < walls.size(); ++w) {
    const auto [axis, at] = walls[w];
    const double dc = axis == 0 ? d.x : d.z, oc = axis == 0 ? o.x : o.z;
    if (std::abs(dc) < 1e-12) continue;
    const double t = (at - oc) / dc;
    if (t <= kEps || t >= best.t) continue;
    const auto p = o + d * t;
    const double across = axis == 0 ? p.z : p.x;
    if (p.y < 0 || p.y > kWallHeight || std::abs(across) > kRoom) continue;
    best = {t, axis == 0 ? Vec{at > 0 ? -1.0 : 1.0, 0, 0} : Vec{0, 0, at > 0 ? -1.0 : 1.0}, s.walls[w]};
  }
  for (const auto& obj : s.objects) hit_object(obj, o, d, best);
  return best;
}

Colour shade(const Scene& s, const Vec& o, const Vec& d, const Vec& light) {
  const auto h = trace(s, o, d);
  if (h.t == kFar) return kSky;
  // Lambert with a hard shadow cast by the objects.
  double diffuse = std::max(0.0, h.normal.dot(light));
  if (diffuse > 0) {
    const auto p = o + d * h.t + h.normal * 1e-4;
    Hit blocker;
    for (const auto& obj : s.objects) hit_object(obj, p, light, blocker);
    if (blocker.t < kFar) diffuse = 0;
  }
  const double k = kAmbient + (1 - kAmbient) * diffuse;
  return {h.colour[0] * k, h.colour[1] * k, h.colour[2] * k};
}

Scene random_scene(std::mt19937_64& rng) {
  std::uniform_int_distribution<std::size_t> room_colour(0, kRoomColours.size() - 1),
      object_colour(0, kObjectColours.size() - 1);
  std::uniform_int_distribution<int> count(1, 3), kind(0, 1);
  std::uniform_real_distribution<double> size(0.15, 0.3), place(-0.6, 0.6);
  Scene s;
  for (auto& w : s.walls) w = kRoomColours[room_colour(rng)];
  s.floor = kRoomColours[room_colour(rng)];
  const int n = count(rng);
  while (static_cast<int>(s.objects.size()) < n) {
    Object obj{kind(rng) == 0, {}, size(rng), kObjectColours[object_colour(rng)]};
    obj.centre = {place(rng), obj.size, place(rng)};
    bool clear = true;  // no two objects overlap (their bounding spheres)
    for (const auto& other : s.objects) {
      const double gap = std::hypot(obj.centre.x - other.centre.x, obj.centre.z - other.centre.z);
      clear = clear && gap > 1.75 * (obj.size + other.size);
    }
    if (clear) s.objects.push_back(obj);
  }
  return s;
}

}  // namespace

RoomViews render_rooms(const RoomOptions& o) {
  if (o.scenes < 1 || o.views < 1 || o.size < 1) {
    throw Error("render_rooms: scenes " + std::to_string(o.scenes) + ", views " + std::to_string(o.views) +
                ", size " + std::to_string(o.size) + ": expected each >= 1");
  }
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> angle(0, 2 * M_PI);
  auto images = torch::empty({o.scenes, o.views, o.size, o.size, 3}, torch::kUInt8);
  auto viewpoints = torch::empty({o.scenes, o.views, 7}, torch::kFloat32);
  auto* px = images.data_ptr<std::uint8_t>();
  auto* vp = viewpoints.data_ptr<float>();
  const Vec target{0, 0.2, 0}, world_up{0, 1, 0}, light = Vec{0.4, 1.0, 0.3}.unit();
  const double half = std::tan(o.fov_degrees * M_PI / 360.0);
  for (std::int64_t i = 0; i < o.scenes; ++i) {
    const auto scene = random_scene(rng);
    for (std::int64_t v = 0; v < o.views; ++v) {
      const double phi = angle(rng);
      const Vec eye{o.ring_radius * std::cos(phi), o.camera_height, o.ring_radius * std::sin(phi)};
      const auto forward = (target - eye).unit();
      const auto right = forward.cross(world_up).unit();
      const auto up = right.cross(forward);
      const double yaw = std::atan2(forward.z, forward.x), pitch = std::asin(forward.y);
      const float view[7] = {static_cast<float>(eye.x),          static_cast<float>(eye.y),
                             static_cast<float>(eye.z),          static_cast<float>(std::cos(yaw)),
                             static_cast<float>(std::sin(yaw)),  static_cast<float>(std::cos(pitch)),
                             static_cast<float>(std::sin(pitch))};
      std::copy(view, view + 7, vp + (i * o.views + v) * 7);
      for (std::int64_t r = 0; r < o.size; ++r) {
        for (std::int64_t c = 0; c < o.size; ++c) {
          const double u = (2.0 * (static_cast<double>(c) + 0.5) / static_cast<double>(o.size) - 1) * half;
          const double w = (1 - 2.0 * (static_cast<double>(r) + 0.5) / static_cast<double>(o.size)) * half;
          const auto colour = shade(scene, eye, (forward + right * u + up * w).unit(), light);
          auto* out = px + (((i * o.views + v) * o.size + r) * o.size + c) * 3;
          for (int ch = 0; ch < 3; ++ch)
            out[ch] = static_cast<std::uint8_t>(std::lround(std::clamp(colour[ch], 0.0, 1.0) * 255.0));
        }
      }
    }
  }
  return {images, viewpoints};
}

}  // namespace dojo::nn::data
