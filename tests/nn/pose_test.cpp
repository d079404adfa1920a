// VideoPose3D's pieces: receptive fields and output lengths, the strided training path equal to the
// dilated one on a window, edge padding, the camera and projection, MPJPE and P-MPJPE.
#include "nn/pose.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <numbers>

#include "core/error.h"

namespace dojo::nn::pose {
namespace {

TEST(Pose, ReceptiveFieldsAndOutputLengths) {
  for (const auto& [widths, field] : std::vector<std::pair<std::vector<std::int64_t>, std::int64_t>>{
           {{3, 3, 3}, 27}, {{3, 3, 3, 3, 3}, 243}, {{1, 1, 1}, 1}, {{3, 5}, 15}}) {
    TemporalPoseModel model(TemporalPoseOptions().joints(4).channels(8).filter_widths(widths));
    EXPECT_EQ(model->receptive_field(), field);
    const auto out = model->forward(torch::randn({2, field + 9, 4, 2}));
    EXPECT_EQ(out.sizes(), (std::vector<std::int64_t>{2, 10, 4, 3}));
  }
}

TEST(Pose, StridedWindowsEqualTheDilatedModel) {
  torch::manual_seed(0);
  TemporalPoseModel model(TemporalPoseOptions().joints(5).channels(16).filter_widths({3, 3, 3}));
  model->eval();
  const auto x = torch::randn({3, 40, 5, 2});
  const auto dilated = model->forward(x);  // [3, 14, 5, 3]
  for (std::int64_t t : {0, 6, 13}) {
    const auto window = model->forward_window(x.slice(1, t, t + 27));
    EXPECT_TRUE(torch::allclose(window.squeeze(1), dilated.select(1, t), 1e-4, 1e-5)) << t;
  }
  EXPECT_THROW(model->forward_window(x.slice(1, 0, 26)), Error);
}

TEST(Pose, WholeSequencesArePaddedAtTheEnds) {
  TemporalPoseModel model(TemporalPoseOptions().joints(3).channels(8).filter_widths({3, 3}));
  const auto seq = torch::randn({5, 3, 2});  // shorter than the field of 9: padding makes it work
  EXPECT_EQ(predict_sequence(model, seq).sizes(), (std::vector<std::int64_t>{5, 3, 3}));
  // A still sequence gives the same pose at every frame.
  const auto still = predict_sequence(model, seq.slice(0, 0, 1).expand({12, -1, -1}).contiguous());
  EXPECT_TRUE(torch::allclose(still, still.slice(0, 0, 1).expand_as(still), 1e-5, 1e-6));
}

TEST(Pose, CamerasLookAtTheTargetAndProjectIt) {
  std::mt19937_64 rng(1);
  const auto target = torch::tensor({0.5F, -0.2F, 1.0F});
  for (int i = 0; i < 10; ++i) {
    const auto cam = random_camera(rng, target);
    const auto p = to_camera(target, cam);
    EXPECT_NEAR(p[0].item<double>(), 0.0, 1e-5);
    EXPECT_NEAR(p[1].item<double>(), 0.0, 1e-5);
    EXPECT_GE(p[2].item<double>(), 3.5 - 1e-4);
    EXPECT_LE(p[2].item<double>(), 6.0 + 1e-4);
    EXPECT_TRUE(torch::allclose(torch::mm(cam.rotation, cam.rotation.t()), torch::eye(3), 1e-5, 1e-5));
    // Up in the world is up in the picture (the image's y axis points down).
    const auto above = project(to_camera(target + torch::tensor({0.0F, 0.0F, 0.5F}), cam), cam);
    EXPECT_LT(above[1].item<double>(), 0.0);
  }
}

TEST(Pose, MpjpeAndProcrustesAlignedError) {
  torch::manual_seed(2);
  const auto target = torch::randn({4, 6, 3});
  EXPECT_NEAR(mpjpe(target + torch::tensor({3.0F, 4.0F, 0.0F}), target), 5.0, 1e-5);
  // A rotated, scaled and moved copy is perfect after alignment, not before.
  const double a = 0.7;
  const auto rz =
      torch::tensor({{std::cos(a), -std::sin(a), 0.0}, {std::sin(a), std::cos(a), 0.0}, {0.0, 0.0, 1.0}})
          .to(torch::kFloat32);
  const auto moved = 1.3 * torch::matmul(target, rz) + torch::tensor({1.0F, -2.0F, 0.5F});
  EXPECT_GT(mpjpe(moved, target), 0.5);
  EXPECT_NEAR(p_mpjpe(moved, target), 0.0, 1e-5);
  // A mirror image is not a similarity: it keeps an error.
  const auto mirrored = target * torch::tensor({-1.0F, 1.0F, 1.0F});
  EXPECT_GT(p_mpjpe(mirrored, target), 0.1);
  EXPECT_LE(p_mpjpe(mirrored, target), mpjpe(mirrored, target) + 1e-6);
}

TEST(Pose, BadShapesAreClearErrors) {
  EXPECT_THROW(TemporalPoseModel(TemporalPoseOptions().filter_widths({2})), Error);
  TemporalPoseModel model(TemporalPoseOptions().joints(4).channels(8));
  EXPECT_THROW(model->forward(torch::randn({1, 30, 5, 2})), Error);
  EXPECT_THROW(model->forward(torch::randn({1, 20, 4, 2})), Error);  // shorter than 27
  EXPECT_THROW(mpjpe(torch::zeros({2, 3}), torch::zeros({3, 3})), Error);
}

}  // namespace
}  // namespace dojo::nn::pose
