// 3D human pose from 2D keypoint sequences (Pavllo et al. 2019, VideoPose3D): dilated temporal
// convolutions over the keypoints of a window of frames predict the 3D joints of its middle frame;
// the same weights run strided over exactly one receptive field for training (the paper's "optimised"
// model: only the positions the output needs are computed) and dilated over whole sequences for
// inference. Cameras, projection and the two metrics (MPJPE and P-MPJPE, in the units of the data)
// live here too.
#pragma once
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <random>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn::pose {

struct TemporalPoseOptions {
  TORCH_ARG(std::int64_t, joints) = 16;
  // Points it predicts (0: `joints`); 1 makes VideoPose3D's trajectory model (the root's position).
  TORCH_ARG(std::int64_t, outputs) = 0;
  // One width a layer; all 3s give receptive fields 3^n (27 for three, 243 for five). All 1s make a
  // single-frame model of the same size.
  TORCH_ARG(std::vector<std::int64_t>, filter_widths) = std::vector<std::int64_t>{3, 3, 3};
  TORCH_ARG(std::int64_t, channels) = 256;
  TORCH_ARG(double, dropout) = 0.25;
  TORCH_ARG(double, bn_momentum) = 0.1;
};

class TemporalPoseModelImpl : public torch::nn::Module {
 public:
  explicit TemporalPoseModelImpl(TemporalPoseOptions options);
  // keypoints [B, T, J, 2] → joints [B, T − receptive_field + 1, outputs, 3], convolutions dilated.
  torch::Tensor forward(const torch::Tensor& keypoints);
  // keypoints [B, receptive_field, J, 2] → [B, 1, J, 3] with strided convolutions: the same result as
  // forward() on that window, at a fraction of the cost.
  torch::Tensor forward_window(const torch::Tensor& keypoints);
  std::int64_t receptive_field() const;
  const TemporalPoseOptions& options() const { return options_; }

 private:
  torch::Tensor run(const torch::Tensor& keypoints, bool strided);
  TemporalPoseOptions options_;
  struct Block {
    torch::Tensor w_wide, w_point;  // [C, C, width], [C, C, 1]
    torch::nn::BatchNorm1d bn_wide{nullptr}, bn_point{nullptr};
  };
  torch::Tensor w_expand_;
  torch::nn::BatchNorm1d bn_expand_{nullptr};
  std::vector<Block> blocks_;
  torch::Tensor w_shrink_, b_shrink_;
};
TORCH_MODULE(TemporalPoseModel);

// Whole sequences [T, J, 2] → [T, J, 3]: the first and last frames repeated (receptive_field − 1)/2
// times at each end, as VideoPose3D pads, so every frame gets a prediction. Evaluation mode.
torch::Tensor predict_sequence(TemporalPoseModel& model, const torch::Tensor& keypoints);

// A pinhole camera looking at `target` from `position` (z up), focal length in units of half the
// image width, so projected keypoints of what the camera frames lie in [−1, 1].
struct Camera {
  torch::Tensor rotation;  // [3, 3]: rows are the camera's right, down and forward axes in the world
  torch::Tensor position;  // [3]
  double focal = 2.0;
};
// Azimuth uniform, elevation in [−10°, 30°], distance in [distance_low, distance_high].
Camera random_camera(std::mt19937_64& rng, const torch::Tensor& target, double distance_low = 3.5,
                     double distance_high = 6.0);
torch::Tensor to_camera(const torch::Tensor& world, const Camera& camera);        // [..., 3] → [..., 3]
torch::Tensor project(const torch::Tensor& camera_points, const Camera& camera);  // [..., 3] → [..., 2]

// Mean per-joint position error: the mean Euclidean distance, [..., J, 3].
double mpjpe(const torch::Tensor& predicted, const torch::Tensor& target);
// The same after aligning each predicted pose to its target by the best similarity transform
// (rotation, uniform scale, translation: Procrustes), [N, J, 3].
double p_mpjpe(const torch::Tensor& predicted, const torch::Tensor& target);

}  // namespace dojo::nn::pose

DOJO_PUBLIC_END
