#include "nn/pose.h"

#include <torch/torch.h>

#include <cmath>
#include <numbers>

#include "core/error.h"

namespace dojo::nn::pose {

namespace {

// PyTorch's Conv1d initialisation: uniform in ±1/sqrt(fan_in) (Kaiming uniform with a = √5).
torch::Tensor conv_weight(std::int64_t out, std::int64_t in, std::int64_t width) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(in * width));
  return torch::empty({out, in, width}).uniform_(-bound, bound);
}

}  // namespace

TemporalPoseModelImpl::TemporalPoseModelImpl(TemporalPoseOptions options) : options_(std::move(options)) {
  const auto& widths = options_.filter_widths();
  if (widths.empty()) throw Error("temporal pose model: no filter widths, expected one or more");
  for (auto w : widths) {
    if (w < 1 || w % 2 == 0)
      throw Error("temporal pose model: filter width " + std::to_string(w) + ", expected an odd number >= 1");
  }
  if (options_.joints() <= 0 || options_.channels() <= 0)
    throw Error("temporal pose model: expected joints and channels > 0");
  const auto c = options_.channels(), j = options_.joints();
  const auto bn = [&] {
    return torch::nn::BatchNorm1d(torch::nn::BatchNorm1dOptions(c).momentum(options_.bn_momentum()));
  };
  w_expand_ = register_parameter("expand", conv_weight(c, 2 * j, widths[0]));
  bn_expand_ = register_module("expand_bn", bn());
  for (std::size_t i = 1; i < widths.size(); ++i) {
    Block b;
    const auto name = "block" + std::to_string(i);
    b.w_wide = register_parameter(name + "_wide", conv_weight(c, c, widths[i]));
    b.bn_wide = register_module(name + "_wide_bn", bn());
    b.w_point = register_parameter(name + "_point", conv_weight(c, c, 1));
    b.bn_point = register_module(name + "_point_bn", bn());
    blocks_.push_back(b);
  }
  const auto outputs = options_.outputs() > 0 ? options_.outputs() : j;
  w_shrink_ = register_parameter("shrink", conv_weight(3 * outputs, c, 1));
  b_shrink_ = register_parameter("shrink_bias", torch::zeros({3 * outputs}));
}

std::int64_t TemporalPoseModelImpl::receptive_field() const {
  std::int64_t field = 1, dilation = 1;
  for (auto w : options_.filter_widths()) {
    field += (w - 1) * dilation;
    dilation *= w;
  }
  return field;
}

torch::Tensor TemporalPoseModelImpl::run(const torch::Tensor& keypoints, bool strided) {
  const auto j = options_.joints();
  if (keypoints.dim() != 4 || keypoints.size(2) != j || keypoints.size(3) != 2)
    throw Error("temporal pose model: keypoints of shape " + c10::str(keypoints.sizes()) +
                ", expected [B, T, " + std::to_string(j) + ", 2]");
  if (keypoints.size(1) < receptive_field())
    throw Error("temporal pose model: " + std::to_string(keypoints.size(1)) +
                " frames, fewer than its receptive field " + std::to_string(receptive_field()));
  const auto& widths = options_.filter_widths();
  const auto b = keypoints.size(0);
  const auto drop = [&](const torch::Tensor& x) {
    return torch::dropout(x, options_.dropout(), is_training());
  };
  auto x = keypoints.reshape({b, keypoints.size(1), 2 * j}).transpose(1, 2);  // [B, 2J, T]
  x = drop(torch::relu(bn_expand_(torch::conv1d(x, w_expand_, torch::Tensor(), strided ? widths[0] : 1))));
  std::int64_t dilation = widths[0];
  for (std::size_t i = 1; i < widths.size(); ++i) {
    const auto w = widths[i];
    auto& blk = blocks_[i - 1];
    // The residual is the middle of the input the wide convolution reads.
    torch::Tensor residual;
    if (strided) {
      residual = x.slice(2, (w - 1) / 2, x.size(2), w);
      x = torch::conv1d(x, blk.w_wide, torch::Tensor(), w);
    } else {
      const auto pad = (w - 1) * dilation / 2;
      residual = x.slice(2, pad, x.size(2) - pad);
      x = torch::conv1d(x, blk.w_wide, torch::Tensor(), at::IntArrayRef{1}, at::IntArrayRef{0},
                        at::IntArrayRef{dilation});
    }
    x = drop(torch::relu(blk.bn_wide->forward(x)));
    x = residual + drop(torch::relu(blk.bn_point->forward(torch::conv1d(x, blk.w_point))));
    dilation *= w;
  }
  x = torch::conv1d(x, w_shrink_, b_shrink_);  // [B, 3 outputs, T']
  return x.transpose(1, 2).reshape({b, x.size(2), -1, 3});
}

torch::Tensor TemporalPoseModelImpl::forward(const torch::Tensor& keypoints) { return run(keypoints, false); }

torch::Tensor TemporalPoseModelImpl::forward_window(const torch::Tensor& keypoints) {
  if (keypoints.dim() == 4 && keypoints.size(1) != receptive_field())
    throw Error("temporal pose model: a window of " + std::to_string(keypoints.size(1)) +
                " frames, expected its receptive field " + std::to_string(receptive_field()));
  return run(keypoints, true);
}

torch::Tensor predict_sequence(TemporalPoseModel& model, const torch::Tensor& keypoints) {
  torch::NoGradGuard no_grad;
  model->eval();
  const auto pad = (model->receptive_field() - 1) / 2;
  const auto t = keypoints.size(0);
  auto padded = torch::cat({keypoints.slice(0, 0, 1).expand({pad, -1, -1}), keypoints,
                            keypoints.slice(0, t - 1, t).expand({pad, -1, -1})});
  return model->forward(padded.unsqueeze(0)).squeeze(0);
}

Camera random_camera(std::mt19937_64& rng, const torch::Tensor& target, double distance_low,
                     double distance_high) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double azimuth = 2 * std::numbers::pi * unit(rng);
  const double elevation = (-10.0 + 40.0 * unit(rng)) * std::numbers::pi / 180.0;
  const double distance = distance_low + (distance_high - distance_low) * unit(rng);
  const auto t = target.to(torch::kFloat64);
  const auto position =
      t + distance * torch::tensor({std::cos(elevation) * std::cos(azimuth),
                                    std::cos(elevation) * std::sin(azimuth), std::sin(elevation)},
                                   torch::kFloat64);
  const auto forward =
      torch::nn::functional::normalize(t - position, torch::nn::functional::NormalizeFuncOptions().dim(0));
  const auto up = torch::tensor({0.0, 0.0, 1.0}, torch::kFloat64);
  const auto right = torch::nn::functional::normalize(torch::linalg_cross(forward, up),
                                                      torch::nn::functional::NormalizeFuncOptions().dim(0));
  const auto down = torch::linalg_cross(forward, right);
  return {torch::stack({right, down, forward}).to(torch::kFloat32), position.to(torch::kFloat32), 2.0};
}

torch::Tensor to_camera(const torch::Tensor& world, const Camera& camera) {
  return torch::matmul(world - camera.position, camera.rotation.t());
}

torch::Tensor project(const torch::Tensor& camera_points, const Camera& camera) {
  return camera.focal * camera_points.slice(-1, 0, 2) / camera_points.slice(-1, 2, 3).clamp_min(1e-6);
}

double mpjpe(const torch::Tensor& predicted, const torch::Tensor& target) {
  if (predicted.sizes() != target.sizes())
    throw Error("mpjpe: shapes " + c10::str(predicted.sizes()) + " and " + c10::str(target.sizes()) +
                " differ");
  return (predicted - target).norm(2, -1).mean().item<double>();
}

double p_mpjpe(const torch::Tensor& predicted, const torch::Tensor& target) {
  if (predicted.sizes() != target.sizes() || predicted.dim() != 3)
    throw Error("p_mpjpe: shapes " + c10::str(predicted.sizes()) + " and " + c10::str(target.sizes()) +
                ", expected both [N, J, 3]");
  const auto x = target.to(torch::kFloat64), y = predicted.to(torch::kFloat64);
  const auto mu_x = x.mean(1, true), mu_y = y.mean(1, true);
  auto x0 = x - mu_x, y0 = y - mu_y;
  const auto norm_x = x0.pow(2).sum({1, 2}, true).sqrt(), norm_y = y0.pow(2).sum({1, 2}, true).sqrt();
  x0 = x0 / norm_x;
  y0 = y0 / norm_y;
  // The rotation R maximising tr(Rᵀ X0ᵀ Y0), a reflection turned back into a rotation.
  const auto [u, s, vt] = torch::linalg_svd(torch::matmul(x0.transpose(1, 2), y0), false);
  auto v = vt.transpose(1, 2);
  auto r = torch::matmul(v, u.transpose(1, 2));
  const auto flip = torch::linalg_det(r).lt(0);
  auto sign = torch::ones_like(s);
  sign.select(1, 2).masked_fill_(flip, -1.0);
  v = v * sign.unsqueeze(1);
  r = torch::matmul(v, u.transpose(1, 2));
  const auto trace = (s * sign).sum(1, true).unsqueeze(2);
  const auto scale = trace * norm_x / norm_y;
  const auto aligned = scale * torch::matmul(y, r) + (mu_x - scale * torch::matmul(mu_y, r));
  return (aligned - x).norm(2, -1).mean().item<double>();
}

}  // namespace dojo::nn::pose
