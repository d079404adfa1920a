// Pixel observations: frames resized for a network, and the wrapper that makes any rendering env
// observe its own picture (the S-RL Toolbox's setting: learn the state from what a camera sees).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/export.h"
#include "envs/env.h"
#include "envs/factory.h"
#include "envs/wrappers.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs {

// An [H, W, 3] uint8 RGB frame resized to [size, size, 3] (or [size, size, 1] gray, ITU-R 601 luma)
// with area interpolation, OpenCV's INTER_AREA as Gymnasium's ResizeObservation and WarpFrame use.
torch::Tensor resize_frame(const torch::Tensor& rgb, std::int64_t size, bool grayscale);

// The camera's framing: the part of the rendered frame kept, as fractions of its height and width
// (top, left, bottom, right), before it is resized. CartPole's 600 × 400 picture squeezed whole into
// 64 × 64 draws its pole a pixel wide; a band around the cart's track, half the width, doubles that.
struct Crop {
  double top = 0.0, left = 0.0, bottom = 1.0, right = 1.0;
  bool whole() const { return top == 0.0 && left == 0.0 && bottom == 1.0 && right == 1.0; }
};
// [top, left, bottom, right] from a config list; [] is the whole frame. Throws dojo::Error naming
// `key` unless 0 <= top < bottom <= 1 and 0 <= left < right <= 1.
Crop crop_from(const std::vector<double>& box, const std::string& key = "pixel_crop");

// The observation becomes render() (cropped) resized to size x size (RGB, or gray); the observation it
// replaces goes to info["state"] (a float tensor), so a learned representation can be scored against the true
// state. Gymnasium's AddRenderObservation(render_only=True) with ResizeObservation, in one step.
class PixelObservation final : public Wrapper {
 public:
  PixelObservation(std::unique_ptr<Env> env, std::int64_t size = 64, bool grayscale = false, Crop crop = {});
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  const Space& observation_space() const override { return space_; }
  std::string name() const override { return wrap_name("PixelObservation"); }

 private:
  torch::Tensor frame() const;
  std::int64_t size_;
  bool grayscale_;
  Crop crop_;
  Space space_;
};

struct PixelOptions {
  std::int64_t size = 64;
  std::int64_t frames = 2;  // stacked, so that velocities can be seen (a single frame has none)
  bool grayscale = false;
  Crop crop = {};
};
// PixelObservation -> FrameStack(frames): [size, size, frames·C] uint8, oldest frame first.
std::unique_ptr<Env> pixel_observations(std::unique_ptr<Env> env, const PixelOptions& options = {});
// The same, as a step of an EnvFactory's wrapper chain.
WrapperFn pixel_wrapper(const PixelOptions& options = {});

}  // namespace dojo::envs

DOJO_PUBLIC_END
