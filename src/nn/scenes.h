// Rooms for scene-representation models (GQN's "rooms ring camera" data, made here): a square room
// with coloured walls and floor holds one to three coloured spheres and boxes; a camera on a ring
// inside the room looks at its centre from many angles. A small ray caster draws each view
// (Lambertian light from above plus ambient, hard shadows), so the data needs no files.
#pragma once
#include <torch/types.h>

#include <cstdint>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn::data {

struct RoomOptions {
  std::int64_t scenes = 1000;
  std::int64_t views = 10;     // camera angles per scene, uniform on the ring
  std::int64_t size = 32;      // pixels per side
  double ring_radius = 0.9;    // the room spans [−1.2, 1.2]² on the floor
  double camera_height = 0.6;  // above the floor, looking at (0, 0.2, 0)
  double fov_degrees = 70;     // vertical and horizontal field of view
  std::uint64_t seed = 0;      // the scenes and angles drawn (the same seed, the same data)
};

struct RoomViews {
  torch::Tensor images;      // [scenes, views, size, size, 3] uint8
  torch::Tensor viewpoints;  // [scenes, views, 7] float: x, y, z, cos yaw, sin yaw, cos pitch, sin pitch
};

// Draws the rooms. Throws dojo::Error for a count or size below 1.
RoomViews render_rooms(const RoomOptions& options);

}  // namespace dojo::nn::data

DOJO_PUBLIC_END
