// Pixel observations of the state envs: the picture in place of the state, the state kept in info.
#include "envs/pixels.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>

#include "core/error.h"
#include "envs/registry.h"

namespace dojo::envs {
namespace {

TEST(Pixels, ResizeFrameAveragesAreasAndConvertsToGray) {
  // Left half red, right half blue: halving keeps the halves, each pixel its colour exactly.
  auto rgb = torch::zeros({8, 8, 3}, torch::kUInt8);
  rgb.slice(1, 0, 4).select(2, 0).fill_(200);
  rgb.slice(1, 4, 8).select(2, 2).fill_(100);
  auto small = resize_frame(rgb, 4, false);
  EXPECT_EQ(small.sizes(), (std::vector<std::int64_t>{4, 4, 3}));
  EXPECT_EQ(small[0][0][0].item<int>(), 200);
  EXPECT_EQ(small[3][3][2].item<int>(), 100);
  EXPECT_EQ(small[0][3][0].item<int>(), 0);
  // Area interpolation: a 2x2 checkerboard of 0 and 200 becomes its mean.
  auto board = torch::zeros({2, 2, 3}, torch::kUInt8);
  board[0][0].fill_(200);
  board[1][1].fill_(200);
  EXPECT_EQ(resize_frame(board, 1, false)[0][0][1].item<int>(), 100);
  // Luma 0.299 R + 0.587 G + 0.114 B.
  auto gray = resize_frame(rgb, 4, true);
  EXPECT_EQ(gray.sizes(), (std::vector<std::int64_t>{4, 4, 1}));
  EXPECT_NEAR(gray[0][0][0].item<int>(), 0.299 * 200, 1);
  EXPECT_NEAR(gray[0][3][0].item<int>(), 0.114 * 100, 1);
  EXPECT_THROW(resize_frame(torch::zeros({8, 8}, torch::kUInt8), 4, false), Error);
  EXPECT_THROW(resize_frame(torch::zeros({8, 8, 3}), 4, false), Error);
}

TEST(Pixels, ClassicControlObservesItsPictureAndKeepsTheStateInInfo) {
  for (const char* id : {"CartPole-v1", "Pendulum-v1", "MountainCar-v0", "Acrobot-v1"}) {
    SCOPED_TRACE(id);
    auto plain = make(id);
    auto pixels = pixel_observations(make(id), {.size = 64, .frames = 2, .grayscale = false});
    EXPECT_EQ(to_string(pixels->observation_space()), "Box(0, 255, (64, 64, 6), uint8)");
    auto a = plain->reset(3);
    auto b = pixels->reset(3);
    EXPECT_EQ(b.obs.sizes(), (std::vector<std::int64_t>{64, 64, 6}));
    EXPECT_TRUE(torch::equal(b.info.at("state").tensor(), a.obs.to(torch::kFloat32)));
    // A reset stacks the first frame twice; the picture is not blank.
    EXPECT_TRUE(torch::equal(b.obs.slice(2, 0, 3), b.obs.slice(2, 3, 6)));
    EXPECT_GT(b.obs.to(torch::kFloat32).std().item<double>(), 1.0);
    // The same actions: the same states, and the newest frame moves on while the oldest is the last one.
    std::mt19937_64 gen(1);
    const auto action = sample(plain->action_space(), gen);
    torch::Tensor last = b.obs;
    bool moved = false;
    for (int t = 0; t < 10; ++t) {
      auto sa = plain->step(action);
      auto sb = pixels->step(action);
      EXPECT_TRUE(torch::equal(sb.info.at("state").tensor(), sa.obs.to(torch::kFloat32)));
      EXPECT_EQ(sa.reward, sb.reward);
      EXPECT_TRUE(torch::equal(sb.obs.slice(2, 0, 3), last.slice(2, 3, 6)));
      moved = moved || !torch::equal(sb.obs.slice(2, 0, 3), sb.obs.slice(2, 3, 6));
      last = sb.obs;
      if (sa.done()) break;
    }
    EXPECT_TRUE(moved);
  }
  auto gray = pixel_observations(make("CartPole-v1"), {.size = 32, .frames = 3, .grayscale = true});
  EXPECT_EQ(to_string(gray->observation_space()), "Box(0, 255, (32, 32, 3), uint8)");
  EXPECT_EQ(gray->name(), "FrameStack<PixelObservation<TimeLimit<OrderEnforcing<CartPole>>>>");
}

TEST(Pixels, ACropFramesPartOfThePictureBeforeItIsResized) {
  // CartPole's 600 × 400 picture: rows 140-340 and columns 150-450 hold the cart near the centre.
  const Crop band = crop_from({0.35, 0.25, 0.85, 0.75});
  EXPECT_EQ(band.top, 0.35);
  EXPECT_EQ(band.right, 0.75);
  EXPECT_TRUE(crop_from({}).whole());
  auto cropped = pixel_observations(make("CartPole-v1"), {.size = 64, .frames = 1, .crop = band});
  auto plain = make("CartPole-v1");
  const auto obs = cropped->reset(5).obs;
  plain->reset(5);
  EXPECT_TRUE(
      torch::equal(obs, resize_frame(plain->render().slice(0, 140, 340).slice(1, 150, 450), 64, false)));
  // The pole is drawn wider than in the whole picture squeezed: a row through it (row 218 of the
  // picture: 25 of the crop, 35 of the whole) holds about twice the ink (darkness below white).
  auto whole = pixel_observations(make("CartPole-v1"), {.size = 64, .frames = 1});
  const auto all = whole->reset(5).obs;
  auto ink = [](const torch::Tensor& row) { return (255.0 - row.to(torch::kFloat64)).sum().item<double>(); };
  EXPECT_GT(ink(obs[25]), 1.6 * ink(all[35]));
  EXPECT_LT(ink(obs[25]), 2.4 * ink(all[35]));
  for (const auto& bad :
       std::vector<std::vector<double>>{{0.5, 0, 0.5, 1}, {0, 0, 1}, {-0.1, 0, 1, 1}, {0, 0.8, 1, 0.2}}) {
    try {
      crop_from(bad);
      FAIL();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("pixel_crop ["), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("expected [top, left, bottom, right]"), std::string::npos);
    }
  }
}

TEST(Pixels, AnEnvWithoutARendererOrABadSizeIsNamed) {
  class Blind final : public Env {
   public:
    ResetResult reset(std::optional<std::uint64_t>) override { return {torch::zeros({2}), {}}; }
    using Env::step;
    StepResult step(const torch::Tensor&) override { return {torch::zeros({2}), 0.0, false, false, {}}; }
    const Space& action_space() const override { return space_; }
    const Space& observation_space() const override { return space_; }
    std::string name() const override { return "Blind"; }
    Space space_ = Discrete{2};
  };
  PixelObservation blind(std::make_unique<Blind>());
  try {
    blind.reset(0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(
        e.what(),
        "PixelObservation: Blind has no renderer: expected an env whose render() gives an RGB frame");
  }
  EXPECT_THROW(PixelObservation(make("CartPole-v1"), 0), Error);
  EXPECT_THROW(pixel_observations(make("CartPole-v1"), {.frames = 0}), Error);
}

}  // namespace
}  // namespace dojo::envs
