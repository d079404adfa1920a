// Datasets for the Keras-style API: Fashion-MNIST from Debian's dataset-fashion-mnist, numeric CSV
// files, folders of images labelled by subfolder (cats/dogs style), and simple image augmentation.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn::data {

// Where Debian's dataset-fashion-mnist installs the IDX files.
inline const std::filesystem::path kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct ImageSplit {
  torch::Tensor train_x, train_y, test_x, test_y;  // x: [N, 28, 28, 1] float in [0, 1]; y: [N] int64
  std::vector<std::string> class_names;
};

// Reads an IDX file (gzip-compressed or not) into a uint8 tensor of its shape; throws dojo::Error
// naming the file when it is missing or not IDX.
torch::Tensor read_idx(const std::filesystem::path& path);
// Fashion-MNIST: 60,000 training and 10,000 test images of 10 classes of clothing.
ImageSplit load_fashion_mnist(const std::filesystem::path& dir = kFashionMnistDir);

struct CsvData {
  torch::Tensor x, y;  // float32 [N, columns]; y [N] (float32, or int64 when integer_labels)
  std::vector<std::string> columns;
};
// A numeric CSV with a header; `label_column` becomes y and the other columns x.
CsvData load_csv(const std::filesystem::path& path, const std::string& label_column,
                 bool integer_labels = false);

struct ImageFolder {
  torch::Tensor x, y;                    // x: [N, height, width, channels] float in [0, 1]; y: [N] int64
  std::vector<std::string> class_names;  // sorted subfolder names; y indexes them
};
// dir/<class>/<image>: PNG, JPEG, BMP… decoded with OpenCV, resized to height × width, RGB (or grey
// with channels = 1). A file that is not an image is an error naming it.
ImageFolder load_image_folder(const std::filesystem::path& dir, std::int64_t height, std::int64_t width,
                              std::int64_t channels = 3);

struct Ratings {
  torch::Tensor user, item;  // [N] int64, dense indices 0..n_users-1 / 0..n_items-1
  torch::Tensor rating;      // [N] float32
  std::int64_t n_users = 0, n_items = 0;
};
// MovieLens ratings: `u.data` (user, item, rating, timestamp; tab-separated, no header, as in
// ml-100k) or `ratings.csv` (userId,movieId,rating,timestamp with a header, as in ml-latest). Ids are
// mapped to dense indices in order of first appearance.
Ratings load_movielens(const std::filesystem::path& path);

struct SyntheticRatingsOptions {
  std::int64_t users = 943, items = 1682, ratings = 100'000;  // ml-100k's sizes
  std::int64_t rank = 4;                                      // latent factors per user and item
  double noise = 0.35;                                        // Gaussian noise before rounding to whole stars
  std::uint64_t seed = 0;
};
// Writes ratings from a low-rank model (user bias + item bias + u·v + noise, rounded to 1..5 stars)
// in u.data's format, so tests and demos run without downloading MovieLens.
void write_synthetic_movielens(const std::filesystem::path& path, SyntheticRatingsOptions options = {});

// Augmentation on a batch [N, H, W, C]: mirror each image left-right with probability p, and shift
// each by up to max_shift pixels on each axis, filling with zeros. Draws from LibTorch's generator.
torch::Tensor random_flip(const torch::Tensor& images, double p = 0.5);
torch::Tensor random_shift(const torch::Tensor& images, std::int64_t max_shift);

}  // namespace dojo::nn::data

DOJO_PUBLIC_END
