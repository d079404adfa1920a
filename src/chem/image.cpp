#include "chem/image.h"

#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "core/error.h"
#include "core/files.h"

namespace dojo::chem {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMinSide = 8, kMaxSide = 10'000;

cv::Mat as_mat(const torch::Tensor& image) {
  if (image.dim() != 2 || image.scalar_type() != torch::kUInt8)
    throw Error("image of shape " + c10::str(image.sizes()) + ": expected [H, W] uint8");
  auto c = image.contiguous();
  return cv::Mat(static_cast<int>(c.size(0)), static_cast<int>(c.size(1)), CV_8UC1, c.data_ptr()).clone();
}

torch::Tensor as_tensor(const cv::Mat& m) {
  return torch::from_blob(m.data, {m.rows, m.cols}, torch::kUInt8).clone();
}

}  // namespace

torch::Tensor degrade(const torch::Tensor& image, std::mt19937_64& rng, const DegradeOptions& o) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  cv::Mat m = as_mat(image);
  // Rescale first, as a scanner at a coarser resolution would.
  const double scale = o.scale_min + u(rng) * (o.scale_max - o.scale_min);
  if (scale < 0.999) cv::resize(m, m, cv::Size(), scale, scale, cv::INTER_AREA);
  const double sigma = u(rng) * o.blur_sigma_max;
  if (sigma > 0.1) cv::GaussianBlur(m, m, cv::Size(0, 0), sigma);
  const double threshold = o.threshold_min + u(rng) * (o.threshold_max - o.threshold_min);
  cv::threshold(m, m, threshold, 255, cv::THRESH_BINARY);
  // Ink dropout and specks, pixel by pixel from our generator (reproducible for a seed).
  const double dropout = u(rng) * o.dropout_max, specks = u(rng) * o.speck_density_max;
  for (int r = 0; r < m.rows; ++r) {
    auto* row = m.ptr<unsigned char>(r);
    for (int c = 0; c < m.cols; ++c) {
      if (row[c] == 0 && u(rng) < dropout) row[c] = 255;
      if (u(rng) < specks) row[c] = 0;
    }
  }
  if (u(rng) < o.rotate90)
    cv::rotate(m, m, u(rng) < 0.5 ? cv::ROTATE_90_CLOCKWISE : cv::ROTATE_90_COUNTERCLOCKWISE);
  return as_tensor(m);
}

torch::Tensor clean(const torch::Tensor& image, const CleanOptions& o) {
  cv::Mat m = as_mat(image);
  cv::Mat ink = m < 128;  // 255 where ink
  if (o.despeckle) {
    // Count the ink in each pixel's k×k neighbourhood (an all-ones kernel); a lone pixel counts 1.
    cv::Mat count;
    cv::filter2D(ink / 255, count, CV_16S,
                 cv::Mat::ones(static_cast<int>(o.speck_kernel), static_cast<int>(o.speck_kernel), CV_32F),
                 cv::Point(-1, -1), 0, cv::BORDER_CONSTANT);
    cv::Mat lone = (count <= 1) & ink;
    m.setTo(255, lone);
    ink.setTo(0, lone);
  }
  if (o.crop && cv::countNonZero(ink) > 0) {
    // The drawing is the union of the blobs that are large, or near the largest; a far small blob is noise.
    cv::Mat labels, stats, centroids;
    const int n = cv::connectedComponentsWithStats(ink, labels, stats, centroids, 8);
    int largest = 1;
    for (int i = 2; i < n; ++i) {
      if (stats.at<int>(i, cv::CC_STAT_AREA) > stats.at<int>(largest, cv::CC_STAT_AREA)) largest = i;
    }
    const auto box = [&](int i) {
      return cv::Rect(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                      stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
    };
    cv::Rect keep = box(largest);
    const int reach = std::max(m.rows, m.cols) / 10;
    for (int i = 1; i < n; ++i) {
      const auto b = box(i);
      const cv::Rect grown(keep.x - reach, keep.y - reach, keep.width + 2 * reach, keep.height + 2 * reach);
      if (stats.at<int>(i, cv::CC_STAT_AREA) >= 20 || (grown & b).area() > 0) keep |= b;
    }
    m = m(keep).clone();
  }
  if (o.fix_rotation && m.rows > m.cols) cv::rotate(m, m, cv::ROTATE_90_CLOCKWISE);
  auto out = as_tensor(m);
  return o.size > 0 ? fit_square(out, o.size) : out;
}

CleanOptions clean_steps(const std::string& names) {
  CleanOptions o;
  if (names == "all") return o;
  o.despeckle = o.crop = o.fix_rotation = false;
  if (names == "none") return o;
  std::istringstream list(names);
  for (std::string step; std::getline(list, step, ',');) {
    if (step == "despeckle")
      o.despeckle = true;
    else if (step == "crop")
      o.crop = true;
    else if (step == "rotate")
      o.fix_rotation = true;
    else
      throw Error("cleaning step '" + step +
                  "': expected all, none or a comma-separated list of despeckle, "
                  "crop, rotate");
  }
  return o;
}

torch::Tensor fit_square(const torch::Tensor& image, std::int64_t size) {
  if (size < 1) throw Error("fit_square: size " + std::to_string(size) + ": expected > 0");
  cv::Mat m = as_mat(image);
  const double scale = static_cast<double>(size) / std::max(m.rows, m.cols);
  cv::Mat resized;
  cv::resize(m, resized,
             cv::Size(std::max(1, static_cast<int>(std::lround(m.cols * scale))),
                      std::max(1, static_cast<int>(std::lround(m.rows * scale)))),
             0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  cv::Mat square(static_cast<int>(size), static_cast<int>(size), CV_8UC1, cv::Scalar(255));
  const int x = (static_cast<int>(size) - resized.cols) / 2, y = (static_cast<int>(size) - resized.rows) / 2;
  resized.copyTo(square(cv::Rect(x, y, resized.cols, resized.rows)));
  return as_tensor(square);
}

torch::Tensor read_image(const fs::path& path) {
  if (!fs::is_regular_file(path)) throw Error("image '" + path.string() + "' not found: expected a PNG file");
  cv::Mat m;
  try {
    m = cv::imread(path.string(), cv::IMREAD_GRAYSCALE);
  } catch (const cv::Exception&) {
  }
  if (m.empty())
    throw Error("image '" + path.string() + "' cannot be read: expected a PNG (or JPEG, TIFF) image");
  if (m.rows < kMinSide || m.cols < kMinSide)
    throw Error("image '" + path.string() + "' is " + std::to_string(m.cols) + "×" + std::to_string(m.rows) +
                " pixels: expected at least " + std::to_string(kMinSide) + " on each side");
  if (m.rows > kMaxSide || m.cols > kMaxSide)
    throw Error("image '" + path.string() + "' is " + std::to_string(m.cols) + "×" + std::to_string(m.rows) +
                " pixels: expected at most " + std::to_string(kMaxSide) + " on each side");
  return as_tensor(m);
}

void write_png(const fs::path& path, const torch::Tensor& image) {
  const auto m = as_mat(image);
  std::vector<unsigned char> bytes;
  if (!cv::imencode(".png", m, bytes)) throw std::runtime_error("PNG encoding failed for " + path.string());
  core::atomic_write_text(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace dojo::chem
