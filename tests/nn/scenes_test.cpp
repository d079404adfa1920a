// The rooms GQN learns from: shapes, the cameras on their ring, determinism by seed, bad sizes.
#include "nn/scenes.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"

namespace dojo::nn::data {
namespace {

TEST(Rooms, ViewsComeWithTheirCamerasOnTheRing) {
  const RoomOptions o{.scenes = 3, .views = 4, .size = 16, .seed = 5};
  auto rooms = render_rooms(o);
  EXPECT_EQ(rooms.images.sizes(), (std::vector<std::int64_t>{3, 4, 16, 16, 3}));
  EXPECT_EQ(rooms.images.scalar_type(), torch::kUInt8);
  EXPECT_EQ(rooms.viewpoints.sizes(), (std::vector<std::int64_t>{3, 4, 7}));
  auto v = rooms.viewpoints.to(torch::kFloat64);
  auto radius = (v.select(2, 0).pow(2) + v.select(2, 2).pow(2)).sqrt();
  EXPECT_TRUE(torch::allclose(radius, torch::full_like(radius, o.ring_radius), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(v.select(2, 1), torch::full_like(radius, o.camera_height), 1e-5, 1e-5));
  auto yaw_norm = v.select(2, 3).pow(2) + v.select(2, 4).pow(2);
  EXPECT_TRUE(torch::allclose(yaw_norm, torch::ones_like(yaw_norm), 1e-5, 1e-5));
  // The camera looks at the centre: its heading points back across the ring.
  auto heading = v.select(2, 0) * v.select(2, 3) + v.select(2, 2) * v.select(2, 4);
  EXPECT_TRUE(heading.lt(0).all().item<bool>());
  // Every view shows several colours (walls, floor, objects), not one flat fill.
  for (std::int64_t s = 0; s < 3; ++s) {
    for (std::int64_t k = 0; k < 4; ++k) {
      auto img = rooms.images[s][k].to(torch::kFloat32);
      EXPECT_GT(img.std().item<double>(), 10.0) << s << " " << k;
    }
  }
}

TEST(Rooms, TheSameSeedDrawsTheSameRooms) {
  auto a = render_rooms({.scenes = 2, .views = 3, .size = 8, .seed = 1});
  auto b = render_rooms({.scenes = 2, .views = 3, .size = 8, .seed = 1});
  auto c = render_rooms({.scenes = 2, .views = 3, .size = 8, .seed = 2});
  EXPECT_TRUE(torch::equal(a.images, b.images));
  EXPECT_TRUE(torch::equal(a.viewpoints, b.viewpoints));
  EXPECT_FALSE(torch::equal(a.images, c.images));
}

TEST(Rooms, RejectsEmptySizes) {
  EXPECT_THROW(render_rooms({.scenes = 0}), Error);
  EXPECT_THROW(render_rooms({.views = 0}), Error);
  EXPECT_THROW(render_rooms({.size = 0}), Error);
}

}  // namespace
}  // namespace dojo::nn::data
