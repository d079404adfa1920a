// Structure images as the BMS competition has them: single-channel PNGs, black ink on white. Here the
// damage scanning does to a clean drawing (to train on what the competition's test set looks like), the
// cleaning that undoes some of it (the seed's notebook), and reading image files with clear errors.
// Images are [H, W] uint8 tensors, 255 paper, 0 ink.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::chem {

// BMS-style degradation, each step at random within its range.
struct DegradeOptions {
  double blur_sigma_max = 0.8;  // Gaussian blur before binarising (thin lines break, thick ones stay)
  double threshold_min = 150, threshold_max = 230;  // binarising: grey below this becomes ink
  double dropout_max = 0.15;                        // fraction of ink pixels lost (holes in lines)
  double speck_density_max = 3e-4;                  // salt-and-pepper ink specks per pixel
  double rotate90 = 0.1;                            // probability of a 90° turn (either way)
  double scale_min = 0.6, scale_max = 1.0;          // rescaling (nearest neighbour, as a coarse scan)
};
torch::Tensor degrade(const torch::Tensor& image, std::mt19937_64& rng, const DegradeOptions& options = {});

// The cleaning steps, each switchable; `clean` runs them in this order.
struct CleanOptions {
  bool despeckle = true;  // drop an ink pixel whose k×k neighbourhood holds no other ink
  std::int64_t speck_kernel = 3;
  bool crop = true;          // crop to the drawing, ignoring small blobs far from it
  bool fix_rotation = true;  // turn portrait images a quarter (drawings are wider than tall more often)
  std::int64_t size = 0;     // > 0: resize keeping the aspect ratio into size×size, padded with paper
};
torch::Tensor clean(const torch::Tensor& image, const CleanOptions& options = {});
// Steps by name: "all", "none" or a comma-separated list of despeckle, crop, rotate ("despeckle,crop").
// Throws dojo::Error naming an unknown step.
CleanOptions clean_steps(const std::string& names);

// The image resized keeping its aspect ratio to fit size×size, centred, padded with white paper.
torch::Tensor fit_square(const torch::Tensor& image, std::int64_t size);

// A PNG (or any format OpenCV reads) as grey [H, W] uint8. Throws dojo::Error naming the file when it
// is missing, not an image, smaller than 8 pixels or larger than 10,000 pixels on a side.
torch::Tensor read_image(const std::filesystem::path& path);
// Written atomically as PNG.
void write_png(const std::filesystem::path& path, const torch::Tensor& image);

}  // namespace dojo::chem

DOJO_PUBLIC_END
