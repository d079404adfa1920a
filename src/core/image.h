// Images as PNG: a grid of equally sized images (filters, activations, inputs), each scaled up by
// whole pixels, via Cairo.
#pragma once
#include <torch/types.h>

#include <filesystem>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

// images: [N, H, W] (grey) or [N, H, W, 3] (RGB), values in [0, 1] (clamped). Written atomically.
void save_image_grid(const std::filesystem::path& png, const torch::Tensor& images, std::int64_t columns = 8,
                     std::int64_t scale = 4, std::int64_t gap = 1);
// A [H, W] map in [0, 1] coloured dark blue -> red (for heat maps), as [H, W, 3].
torch::Tensor heat_colors(const torch::Tensor& map);

}  // namespace dojo::core

DOJO_PUBLIC_END
