// The classic-control renderers draw Gymnasium's pictures: sizes, colours and where things are.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

#include "core/canvas.h"
#include "envs/classic_control/acrobot.h"
#include "envs/classic_control/cartpole.h"
#include "envs/classic_control/mountain_car.h"
#include "envs/classic_control/pendulum.h"
#include "envs/registry.h"

namespace dojo::envs {
namespace {

// The RGB colour at (row, col), row 0 at the top.
std::array<int, 3> at(const torch::Tensor& frame, int row, int col) {
  const auto p = frame[row][col];
  return {p[0].item<int>(), p[1].item<int>(), p[2].item<int>()};
}
using C = std::array<int, 3>;
constexpr C kWhite{255, 255, 255}, kBlack{0, 0, 0};

TEST(Canvas, DrawsInYUpCoordinatesAndReadsBackRgb) {
  core::Canvas c(20, 10);
  c.polygon({{0, 0}, {0, 3}, {20, 3}, {20, 0}}, {10, 20, 30});  // a strip along the bottom
  c.circle({15, 7}, 2, {200, 0, 0});
  const auto f = c.pixels();
  EXPECT_EQ(f.sizes(), (std::vector<std::int64_t>{10, 20, 3}));
  EXPECT_EQ(f.scalar_type(), torch::kUInt8);
  EXPECT_EQ(at(f, 9, 5), (C{10, 20, 30}));  // bottom row
  EXPECT_EQ(at(f, 0, 5), kWhite);           // top row
  EXPECT_EQ(at(f, 2, 15), (C{200, 0, 0}));  // y = 7 is row 2
  const auto turned = core::rotate_translate({{1, 0}}, M_PI / 2, {10, 10});
  EXPECT_NEAR(turned[0][0], 10, 1e-12);
  EXPECT_NEAR(turned[0][1], 11, 1e-12);
}

TEST(Render, CartPoleDrawsCartPoleAndTrackWhereGymnasiumDoes) {
  CartPole env;
  env.reset(0);
  env.set_state({0, 0, 0, 0});
  auto f = env.render();
  EXPECT_EQ(f.sizes(), (std::vector<std::int64_t>{400, 600, 3}));
  EXPECT_EQ(at(f, 310, 280), kBlack);              // the cart, centred, 100 px above the bottom
  EXPECT_EQ(at(f, 200, 300), (C{202, 152, 101}));  // the upright pole
  EXPECT_EQ(at(f, 292, 300), (C{129, 132, 203}));  // the axle
  EXPECT_EQ(at(f, 100, 300), kWhite);              // above the pole's tip
  env.set_state({1.0, 0, 0.2, 0});                 // moved right, pole tilted right
  f = env.render();
  EXPECT_EQ(at(f, 310, 280), kWhite);
  EXPECT_EQ(at(f, 310, 425 - 20), kBlack);  // x = 1 is 125 px right of centre
  EXPECT_EQ(at(f, 190, 425 + 21), (C{202, 152, 101}));
}

TEST(Render, AcrobotHangsFromTheCentreBelowTheTargetLine) {
  Acrobot env;
  env.reset(0);
  env.set_state({0, 0, 0, 0});
  auto f = env.render();
  EXPECT_EQ(f.sizes(), (std::vector<std::int64_t>{500, 500, 3}));
  EXPECT_EQ(at(f, 250, 250), (C{204, 204, 0}));  // the pivot joint
  EXPECT_EQ(at(f, 320, 250), (C{0, 204, 204}));  // first link, straight down
  EXPECT_EQ(at(f, 450, 250), (C{0, 204, 204}));  // second link
  EXPECT_EQ(at(f, 180, 250), kWhite);
  EXPECT_LT(at(f, 136, 20)[0], 200);  // the target line, one link above the pivot
  env.set_state({M_PI, 0, 0, 0});     // swung up
  f = env.render();
  EXPECT_EQ(at(f, 180, 250), (C{0, 204, 204}));
  EXPECT_EQ(at(f, 320, 250), kWhite);
}

TEST(Render, MountainCarShowsTheCarOnTheHillAndTheFlag) {
  MountainCar env;
  env.reset(0);
  env.set_state({-0.5, 0});
  const auto f = env.render();
  EXPECT_EQ(f.sizes(), (std::vector<std::int64_t>{400, 600, 3}));
  EXPECT_EQ(at(f, 347, 233), kBlack);           // the car, in the valley
  EXPECT_EQ(at(f, 22, 572), (C{204, 204, 0}));  // the flag at the goal
  EXPECT_EQ(at(f, 200, 233), kWhite);
}

TEST(Render, PendulumRodPointsUpAtThetaZero) {
  Pendulum env;
  env.reset(0);
  env.set_state({0, 0});
  auto f = env.render();
  EXPECT_EQ(f.sizes(), (std::vector<std::int64_t>{500, 500, 3}));
  EXPECT_EQ(at(f, 190, 250), (C{204, 77, 77}));
  EXPECT_EQ(at(f, 250, 250), kBlack);  // the axle
  EXPECT_EQ(at(f, 320, 250), kWhite);
  env.set_state({M_PI, 0});
  f = env.render();
  EXPECT_EQ(at(f, 320, 250), (C{204, 77, 77}));
  EXPECT_EQ(at(f, 190, 250), kWhite);
}

TEST(Render, EveryRegisteredEnvRendersThroughItsWrappers) {
  for (const auto& id : registered_ids()) {
    auto env = make(id);
    env->reset(0);
    const auto f = env->render();
    ASSERT_TRUE(f.defined()) << id;
    EXPECT_EQ(f.dim(), 3) << id;
    EXPECT_EQ(f.size(2), 3) << id;
  }
}

TEST(Space, PrintsWithStreamOutput) {
  std::ostringstream out;
  const Space d = Discrete{2};
  out << d << " " << Box(-1.0, 1.0, {2});
  EXPECT_EQ(out.str(), "Discrete(2) " + Box(-1.0, 1.0, {2}).str());
}

}  // namespace
}  // namespace dojo::envs
