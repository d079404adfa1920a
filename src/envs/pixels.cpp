#include "envs/pixels.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "envs/atari_wrappers.h"

namespace dojo::envs {

torch::Tensor resize_frame(const torch::Tensor& rgb, std::int64_t size, bool grayscale) {
  if (rgb.dim() != 3 || rgb.size(2) != 3 || rgb.scalar_type() != torch::kUInt8) {
    throw Error("resize_frame: expected an [H, W, 3] uint8 RGB frame, got " + std::to_string(rgb.dim()) +
                " dimensions of " + std::string(c10::toString(rgb.scalar_type())));
  }
  auto in_tensor = rgb.contiguous();
  const cv::Mat in(static_cast<int>(in_tensor.size(0)), static_cast<int>(in_tensor.size(1)), CV_8UC3,
                   in_tensor.data_ptr<std::uint8_t>());
  cv::Mat source = in, gray, small;
  if (grayscale) {
    cv::cvtColor(in, gray, cv::COLOR_RGB2GRAY);
    source = gray;
  }
  const auto s = static_cast<int>(size);
  cv::resize(source, small, cv::Size(s, s), 0, 0, cv::INTER_AREA);
  const std::int64_t channels = grayscale ? 1 : 3;
  auto out = torch::empty({size, size, channels}, torch::kUInt8);
  std::memcpy(out.data_ptr<std::uint8_t>(), small.data, static_cast<std::size_t>(size * size * channels));
  return out;
}

Crop crop_from(const std::vector<double>& box, const std::string& key) {
  if (box.empty()) return {};
  const auto fraction = [](double v) { return v >= 0.0 && v <= 1.0; };
  if (box.size() != 4 || !std::all_of(box.begin(), box.end(), fraction) || box[0] >= box[2] ||
      box[1] >= box[3]) {
    std::string got;
    for (const auto v : box) got += (got.empty() ? "" : ", ") + fmt::format("{:g}", v);
    throw Error(key + " [" + got +
                "]: expected [top, left, bottom, right] fractions of the frame, 0 <= top < bottom <= 1 and "
                "0 <= left < right <= 1");
  }
  return {box[0], box[1], box[2], box[3]};
}

PixelObservation::PixelObservation(std::unique_ptr<Env> env, std::int64_t size, bool grayscale, Crop crop)
    : Wrapper(std::move(env)),
      size_(size),
      grayscale_(grayscale),
      crop_(crop),
      space_(Box(0.0, 255.0, {size, size, grayscale ? 1 : 3}, torch::kUInt8)) {
  if (size < 1) throw Error("PixelObservation: size = " + std::to_string(size) + ", expected >= 1");
  crop_from({crop.top, crop.left, crop.bottom, crop.right}, "PixelObservation crop");
}

torch::Tensor PixelObservation::frame() const {
  const auto picture = env_->render();
  if (!picture.defined()) {
    throw Error("PixelObservation: " + env_->name() +
                " has no renderer: expected an env whose render() "
                "gives an RGB frame");
  }
  if (crop_.whole()) return resize_frame(picture, size_, grayscale_);
  // Rows and columns from the fractions, at least one of each.
  auto span = [](double from, double to, std::int64_t n) {
    const auto a = std::min<std::int64_t>(n - 1, std::llround(from * static_cast<double>(n)));
    return std::pair{a, std::max<std::int64_t>(a + 1, std::llround(to * static_cast<double>(n)))};
  };
  const auto [r0, r1] = span(crop_.top, crop_.bottom, picture.size(0));
  const auto [c0, c1] = span(crop_.left, crop_.right, picture.size(1));
  return resize_frame(picture.slice(0, r0, r1).slice(1, c0, c1), size_, grayscale_);
}

ResetResult PixelObservation::reset(std::optional<std::uint64_t> seed) {
  auto r = env_->reset(seed);
  r.info["state"] = r.obs.to(torch::kFloat32);
  r.obs = frame();
  return r;
}

StepResult PixelObservation::step(const torch::Tensor& action) {
  auto r = env_->step(action);
  r.info["state"] = r.obs.to(torch::kFloat32);
  r.obs = frame();
  return r;
}

std::unique_ptr<Env> pixel_observations(std::unique_ptr<Env> env, const PixelOptions& options) {
  if (options.frames < 1) {
    throw Error("pixel frames = " + std::to_string(options.frames) + ": expected >= 1 frames to stack");
  }
  auto pixels =
      std::make_unique<PixelObservation>(std::move(env), options.size, options.grayscale, options.crop);
  return std::make_unique<FrameStack>(std::move(pixels), options.frames);
}

WrapperFn pixel_wrapper(const PixelOptions& options) {
  return [options](std::unique_ptr<Env> env) { return pixel_observations(std::move(env), options); };
}

}  // namespace dojo::envs
