// Expected values were computed independently from Gymnasium v0.29's equations (in double precision)
// and are compared to 1e-5, the tolerance.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "envs/classic_control/acrobot.h"
#include "envs/classic_control/cartpole.h"
#include "envs/classic_control/mountain_car.h"
#include "envs/classic_control/pendulum.h"
#include "envs/registry.h"

namespace dojo::envs {
namespace {

void expect_obs(const torch::Tensor& obs, std::vector<double> expected) {
  ASSERT_EQ(obs.numel(), static_cast<std::int64_t>(expected.size()));
  EXPECT_EQ(obs.scalar_type(), torch::kFloat32);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(obs[static_cast<std::int64_t>(i)].item<double>(), expected[i], 1e-5) << "element " << i;
  }
}

template <std::size_t N>
void expect_state(const std::array<double, N>& s, std::vector<double> expected) {
  for (std::size_t i = 0; i < N; ++i) EXPECT_NEAR(s[i], expected[i], 1e-5) << "state " << i;
}

TEST(CartPole, EulerStepsMatchGymnasium) {
  CartPole env;
  env.reset(0);
  env.set_state({0.01, -0.02, 0.03, -0.04});
  StepResult s;
  for (std::int64_t a : {1, 1, 0, 1, 0}) {
    s = env.step(a);
    EXPECT_EQ(s.reward, 1.0);
    EXPECT_FALSE(s.terminated);
  }
  expect_obs(s.obs, {0.03133807794, 0.1737258788, -0.007441556167, -0.3018724521});
}

TEST(CartPole, TerminatesPastTheTrackEdgeAndStillPaysThatStep) {
  CartPole env;
  env.reset(0);
  env.set_state({2.39, 1.0, 0.0, 0.0});
  auto s = env.step(1);
  expect_obs(s.obs, {2.41, 1.195121951, 0, -0.2926829268});
  EXPECT_TRUE(s.terminated);
  EXPECT_EQ(s.reward, 1.0);
  EXPECT_EQ(env.step(1).reward, 0.0);  // stepping past termination earns nothing
}

TEST(CartPole, ResetIsUniformInSmallBoxAndSeeded) {
  CartPole a, b;
  auto ra = a.reset(7), rb = b.reset(7);
  EXPECT_TRUE(torch::equal(ra.obs, rb.obs));
  EXPECT_LE(ra.obs.abs().max().item<float>(), 0.05f);
  EXPECT_FALSE(torch::equal(a.reset(8).obs, ra.obs));
  EXPECT_THROW(a.step(2), Error);
}

TEST(MountainCar, StepsGoalAndLeftWallMatchGymnasium) {
  MountainCar env;
  env.reset(0);
  env.set_state({-0.5, 0.0});
  StepResult s;
  for (std::int64_t a : {2, 2, 0, 1, 2}) s = env.step(a);
  expect_obs(s.obs, {-0.4957996374, 0.001045862647});
  EXPECT_EQ(s.reward, -1.0);
  EXPECT_FALSE(s.terminated);

  env.set_state({0.49, 0.02});
  s = env.step(2);
  expect_obs(s.obs, {0.5107484357, 0.02074843567});
  EXPECT_TRUE(s.terminated);

  env.set_state({-1.19, -0.03});
  s = env.step(0);
  expect_obs(s.obs, {-1.2, 0.0});  // the wall stops the car
  EXPECT_FALSE(s.terminated);

  const auto r = env.reset(3);
  EXPECT_GE(r.obs[0].item<float>(), -0.6f);
  EXPECT_LE(r.obs[0].item<float>(), -0.4f);
  EXPECT_EQ(r.obs[1].item<float>(), 0.0f);
}

TEST(MountainCar, TheSparseVariantPaysOnlyAtTheFlag) {
  auto env = make("SparseMountainCar-v0");
  env->reset(0);
  EXPECT_EQ(env->step(2).reward, 0.0);
  MountainCar car(/*sparse=*/true);
  car.reset(0);
  car.set_state({0.49, 0.02});
  const auto s = car.step(2);
  EXPECT_TRUE(s.terminated);
  EXPECT_EQ(s.reward, 1.0);
  EXPECT_EQ(car.name(), "SparseMountainCar");
  EXPECT_EQ(spec("SparseMountainCar-v0").max_episode_steps, 200);
}

TEST(MountainCarContinuous, StepsRewardsGoalAndWallMatchGymnasium) {
  MountainCarContinuous env;
  env.reset(0);
  env.set_state({-0.5, 0.0});
  const std::vector<float> forces{1.0f, 0.5f, -2.0f, 0.25f};  // -2 pushes like -1 but costs 0.4
  const std::vector<double> rewards{-0.1, -0.025, -0.4, -0.00625};
  StepResult s;
  for (std::size_t i = 0; i < forces.size(); ++i) {
    s = env.step(torch::tensor({forces[i]}));
    EXPECT_NEAR(s.reward, rewards[i], 1e-9);
    EXPECT_FALSE(s.terminated);
  }
  expect_obs(s.obs, {-0.4962464869, 0.000358337129});
  EXPECT_EQ(env.state()[0], static_cast<double>(s.obs[0].item<float>()));  // the state is float32

  env.set_state({0.44, 0.02});
  s = env.step(torch::tensor({0.3f}));
  expect_obs(s.obs, {0.4598295689, 0.01982956193});
  EXPECT_NEAR(s.reward, 99.99099999928474, 1e-9);  // +100 at the goal, less 0.1 * 0.3f^2
  EXPECT_TRUE(s.terminated);

  env.set_state({-1.19, -0.03});
  s = env.step(torch::tensor({-1.0f}));
  expect_obs(s.obs, {-1.2, 0.0});  // the wall stops the car
  EXPECT_FALSE(s.terminated);

  const auto r = env.reset(3);
  EXPECT_GE(r.obs[0].item<float>(), -0.6f);
  EXPECT_LE(r.obs[0].item<float>(), -0.4f);
  EXPECT_EQ(r.obs[1].item<float>(), 0.0f);
  EXPECT_EQ(env.render().sizes(), (std::vector<std::int64_t>{400, 600, 3}));
}

TEST(BoxActions, AWrongSizeOrANonFiniteValueIsAnErrorNamingIt) {
  MountainCarContinuous car;
  Pendulum pendulum;
  car.reset(0);
  pendulum.reset(0);
  for (Env* env : std::vector<Env*>{&car, &pendulum}) {
    EXPECT_THROW(env->step(torch::tensor({0.1f, 0.2f})), Error);
    EXPECT_THROW(env->step(torch::tensor({std::nanf("")})), Error);
    EXPECT_THROW(env->step(torch::tensor({INFINITY})), Error);
    EXPECT_NO_THROW(env->step(torch::tensor({5.0f})));  // out of bounds: clipped, as in Gymnasium
  }
  try {
    car.step(torch::tensor({std::nanf("")}));
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "MountainCarContinuous: action [nan] has a non-finite value: expected "
              "numbers in " +
                  to_string(car.action_space()));
  }
}

TEST(Pendulum, StepsRewardsAndClippingMatchGymnasium) {
  Pendulum env;
  env.reset(0);
  env.set_state({1.0, -0.5});
  const std::vector<double> expected_rewards{-1.02525, -1.025964375, -1.143555076};
  const std::vector<float> torques{0.5f, -1.0f, 3.0f};  // 3.0 is clipped to 2.0
  StepResult s;
  for (std::size_t i = 0; i < 3; ++i) {
    s = env.step(torch::tensor({torques[i]}));
    EXPECT_NEAR(s.reward, expected_rewards[i], 1e-5);
    EXPECT_FALSE(s.terminated);
  }
  expect_state(env.state(), {1.126872316, 1.639994263});
  expect_obs(s.obs, {0.4294864319, 0.9030733109, 1.639994263});

  env.set_state({-3.5, 1.0});  // angle_normalize wraps -3.5 to 2.78
  s = env.step(torch::tensor({0.0f}));
  EXPECT_NEAR(s.reward, -7.846120454100327, 1e-5);
  expect_state(env.state(), {-3.436845629, 1.263087421});
  EXPECT_NEAR(Pendulum::angle_normalize(-3.5), -3.5 + 2 * M_PI, 1e-12);
}

TEST(Acrobot, Rk4StepsMatchGymnasium) {
  Acrobot env;
  env.reset(0);
  env.set_state({0.05, -0.03, 0.02, 0.01});
  StepResult s;
  for (std::int64_t a : {2, 0, 1}) {
    s = env.step(a);
    EXPECT_EQ(s.reward, -1.0);
  }
  expect_state(env.state(), {-0.0004675112408, 0.06363968563, -0.04942649941, -0.02038908705});
  const auto st = env.state();
  expect_obs(s.obs, {std::cos(st[0]), std::sin(st[0]), std::cos(st[1]), std::sin(st[1]), st[2], st[3]});
}

TEST(Acrobot, TerminatesWhenTheTipIsAboveTheBarWithZeroReward) {
  Acrobot env;
  env.reset(0);
  env.set_state({3.0, 0.0, 0.0, 0.0});
  const auto s = env.step(1);
  expect_state(env.state(), {2.982057837, 0.01400267052, -0.1834372654, 0.1451176068});
  EXPECT_TRUE(s.terminated);
  EXPECT_EQ(s.reward, 0.0);
}

// Steps an env made by id until done; returns the step count and the last result.
std::pair<int, StepResult> run_until_done(Env& env,
                                          const std::function<torch::Tensor(const torch::Tensor&)>& policy) {
  auto obs = env.reset(0).obs;
  for (int t = 1;; ++t) {
    auto s = env.step(policy(obs));
    if (s.done()) return {t, s};
    obs = s.obs;
  }
}

TEST(Registry, TimeLimitsTruncateAtTheRegisteredStep) {
  auto balance = [](const torch::Tensor& o) {  // a PD controller that keeps CartPole up for 500 steps
    return torch::scalar_tensor(o[2].item<float>() + 0.5f * o[3].item<float>() > 0 ? 1 : 0, torch::kLong);
  };
  auto cartpole = make("CartPole-v1");
  auto [n, last] = run_until_done(*cartpole, balance);
  EXPECT_EQ(n, 500);
  EXPECT_TRUE(last.truncated);
  EXPECT_FALSE(last.terminated);

  auto idle = [](const torch::Tensor&) { return torch::scalar_tensor(1, torch::kLong); };
  auto mc = make("MountainCar-v0");
  auto [n_mc, last_mc] = run_until_done(*mc, idle);
  EXPECT_EQ(n_mc, 200);
  EXPECT_TRUE(last_mc.truncated);

  auto mcc = make("MountainCarContinuous-v0");
  auto [n_mcc, last_mcc] = run_until_done(*mcc, [](const torch::Tensor&) { return torch::tensor({0.0f}); });
  EXPECT_EQ(n_mcc, 999);
  EXPECT_TRUE(last_mcc.truncated);

  auto acro = make("Acrobot-v1");
  auto [n_ac, last_ac] = run_until_done(*acro, idle);
  EXPECT_EQ(n_ac, 500);
  EXPECT_TRUE(last_ac.truncated);

  auto pend = make("Pendulum-v1");
  auto [n_p, last_p] = run_until_done(*pend, [](const torch::Tensor&) { return torch::tensor({0.0f}); });
  EXPECT_EQ(n_p, 200);
  EXPECT_TRUE(last_p.truncated);
  EXPECT_FALSE(last_p.terminated);
}

}  // namespace
}  // namespace dojo::envs
