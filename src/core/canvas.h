// A small drawing surface for env renderers (Cairo underneath): filled polygons, circles and lines in
// y-up coordinates, the way Gymnasium's classic-control renderers draw before flipping their surface,
// read back as an [H, W, 3] uint8 RGB frame. Antialiased like pygame's gfxdraw.aa* calls.
#pragma once
#include <torch/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};
using Point = std::array<double, 2>;

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = {255, 255, 255});
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  void polygon(const std::vector<Point>& points, Rgb fill);
  void circle(Point center, double radius, Rgb fill);
  void line(Point from, Point to, Rgb color, double width = 1.0);
  void polyline(const std::vector<Point>& points, Rgb color, double width = 1.0);
  // [height, width, 3] uint8, row 0 at the top.
  torch::Tensor pixels() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `points` turned by `angle` radians (counter-clockwise) about the origin, then moved by `offset`.
std::vector<Point> rotate_translate(const std::vector<Point>& points, double angle, Point offset);

}  // namespace dojo::core

DOJO_PUBLIC_END
