#include "core/canvas.h"

#include <cairo.h>
#include <torch/torch.h>

#include <cmath>

namespace dojo::core {

struct Canvas::Impl {
  cairo_surface_t* surface = nullptr;
  cairo_t* cr = nullptr;
  int width = 0, height = 0;
  void set(Rgb c) const { cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0); }
  void path(const std::vector<Point>& points) const {
    cairo_new_path(cr);
    for (const auto& [x, y] : points) cairo_line_to(cr, x, y);
  }
};

Canvas::Canvas(int width, int height, Rgb background) : impl_(std::make_unique<Impl>()) {
  impl_->width = width, impl_->height = height;
  impl_->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  impl_->cr = cairo_create(impl_->surface);
  // y up, origin at the bottom left: Gymnasium's drawing coordinates before its vertical flip.
  cairo_translate(impl_->cr, 0, height);
  cairo_scale(impl_->cr, 1, -1);
  impl_->set(background);
  cairo_paint(impl_->cr);
}

Canvas::~Canvas() {
  cairo_destroy(impl_->cr);
  cairo_surface_destroy(impl_->surface);
}

void Canvas::polygon(const std::vector<Point>& points, Rgb fill) {
  impl_->path(points);
  cairo_close_path(impl_->cr);
  impl_->set(fill);
  cairo_fill(impl_->cr);
}

void Canvas::circle(Point center, double radius, Rgb fill) {
  cairo_new_path(impl_->cr);
  cairo_arc(impl_->cr, center[0], center[1], radius, 0, 2 * M_PI);
  impl_->set(fill);
  cairo_fill(impl_->cr);
}

void Canvas::line(Point from, Point to, Rgb color, double width) { polyline({from, to}, color, width); }

void Canvas::polyline(const std::vector<Point>& points, Rgb color, double width) {
  impl_->path(points);
  impl_->set(color);
  cairo_set_line_width(impl_->cr, width);
  cairo_stroke(impl_->cr);
}

torch::Tensor Canvas::pixels() const {
  cairo_surface_flush(impl_->surface);
  const auto* data = cairo_image_surface_get_data(impl_->surface);
  const int stride = cairo_image_surface_get_stride(impl_->surface);
  auto out = torch::empty({impl_->height, impl_->width, 3}, torch::kUInt8);
  auto* o = out.data_ptr<std::uint8_t>();
  for (int y = 0; y < impl_->height; ++y) {
    const auto* row = reinterpret_cast<const std::uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride);
    for (int x = 0; x < impl_->width; ++x, o += 3) {
      o[0] = static_cast<std::uint8_t>(row[x] >> 16), o[1] = static_cast<std::uint8_t>(row[x] >> 8);
      o[2] = static_cast<std::uint8_t>(row[x]);
    }
  }
  return out;
}

std::vector<Point> rotate_translate(const std::vector<Point>& points, double angle, Point offset) {
  const double c = std::cos(angle), s = std::sin(angle);
  std::vector<Point> out;
  out.reserve(points.size());
  for (const auto& [x, y] : points) out.push_back({x * c - y * s + offset[0], x * s + y * c + offset[1]});
  return out;
}

}  // namespace dojo::core
