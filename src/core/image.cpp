#include "core/image.h"

#include <cairo.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/files.h"

namespace dojo::core {

void save_image_grid(const std::filesystem::path& png, const torch::Tensor& images_in, std::int64_t columns,
                     std::int64_t scale, std::int64_t gap) {
  auto images = images_in.detach().to(torch::kFloat32).clamp(0, 1);
  if (images.dim() == 3) images = images.unsqueeze(-1).expand({-1, -1, -1, 3});
  if (images.dim() != 4 || images.size(3) != 3 || images.size(0) == 0) {
    throw Error("save_image_grid: expected [N, H, W] or [N, H, W, 3] images, got " +
                c10::str(images_in.sizes()));
  }
  images = (images * 255).round().to(torch::kUInt8).contiguous();
  const auto n = images.size(0), h = images.size(1), w = images.size(2);
  const auto cols = std::min(columns, n), rows = (n + cols - 1) / cols;
  const int width = static_cast<int>(cols * (w * scale + gap) + gap);
  const int height = static_cast<int>(rows * (h * scale + gap) + gap);
  auto* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  cairo_surface_flush(surface);
  auto* data = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  std::fill(data, data + static_cast<std::ptrdiff_t>(stride) * height, 255);
  auto a = images.accessor<std::uint8_t, 4>();
  for (std::int64_t i = 0; i < n; ++i) {
    const auto x0 = gap + (i % cols) * (w * scale + gap), y0 = gap + (i / cols) * (h * scale + gap);
    for (std::int64_t y = 0; y < h * scale; ++y) {
      auto* row = reinterpret_cast<std::uint32_t*>(data + (y0 + y) * stride);
      for (std::int64_t x = 0; x < w * scale; ++x) {
        const auto yy = y / scale, xx = x / scale;
        row[x0 + x] =
            (std::uint32_t{a[i][yy][xx][0]} << 16) | (std::uint32_t{a[i][yy][xx][1]} << 8) | a[i][yy][xx][2];
      }
    }
  }
  cairo_surface_mark_dirty(surface);
  auto tmp = png;
  tmp += ".tmp";
  const auto status = cairo_surface_write_to_png(surface, tmp.c_str());
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS) throw Error("cannot write PNG '" + png.string() + "'");
  std::filesystem::rename(tmp, png);
}

torch::Tensor heat_colors(const torch::Tensor& map) {
  auto m = map.to(torch::kFloat32).clamp(0, 1);
  return torch::stack({m, 0.8 * (1 - (2 * m - 1).abs()), 0.6 * (1 - m)}, -1);
}

}  // namespace dojo::core
