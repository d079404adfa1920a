// State-representation learning's priors and measures, on batches small enough to work out by hand.
#include "rl/srl.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <functional>

#include "cli_util.h"
#include "core/config.h"
#include "core/error.h"
#include "envs/pixels.h"
#include "envs/registry.h"
#include "rl/ppo.h"
#include "rl/srl_run.h"
#include "rl/trainer.h"
#include "test_util.h"

namespace dojo::rl {
namespace {

namespace fs = std::filesystem;

// Three transitions (float32, so values hold to 1e-6): Δs = (1, 0), (0, 0), (0, 2); transitions 0 and 2 share
// action 0 and differ in reward.
prob::Dict batch() {
  return {{"s", torch::tensor({0.0, 0.0, 1.0, 0.0, 0.0, 1.0}).reshape({3, 2})},
          {"s_next", torch::tensor({1.0, 0.0, 1.0, 0.0, 0.0, 3.0}).reshape({3, 2})},
          {"a", torch::tensor({0, 1, 0}, torch::kInt64)},
          {"r", torch::tensor({0.0, 5.0, 1.0})}};
}

TEST(Srl, RoboticPriorsHaveTheirValuesOnAHandWorkedBatch) {
  EXPECT_NEAR(TemporalCoherence().eval(batch()).item<double>(), 5.0 / 3.0, 1e-6);
  EXPECT_NEAR(Proportionality().eval(batch()).item<double>(), 1.0, 1e-6);  // (2 − 1)²
  EXPECT_NEAR(Causality().eval(batch()).item<double>(), std::exp(-1.0), 1e-6);
  EXPECT_NEAR(Repeatability().eval(batch()).item<double>(), 5.0 * std::exp(-1.0), 1e-6);
  // The same rewards: no pair for causality, which is then 0.
  auto same = batch();
  same["r"] = torch::tensor({1.0, 5.0, 1.0});
  EXPECT_EQ(Causality().eval(same).item<double>(), 0.0);
  // Box actions pair within the tolerance.
  auto box = batch();
  box["a"] = torch::tensor({0.5, 0.5, 0.7}).reshape({3, 1});
  EXPECT_NEAR(Proportionality().eval(box).item<double>(), 1.0, 1e-6);  // (0 − 1)²: transitions 0, 1
  EXPECT_NEAR(Proportionality({.action_tolerance = 0.3}).eval(box).item<double>(), (1.0 + 1.0 + 4.0) / 3.0,
              1e-12);
}

TEST(Srl, PriorsPrintAsFormulasAndTrainThroughTheirStates) {
  EXPECT_EQ(TemporalCoherence().str(), "mean_t[||s_next - s||^2]");
  EXPECT_EQ(Proportionality().str(), "mean_(a_i=a_j)[(||s_next_j - s_j|| - ||s_next_i - s_i||)^2]");
  EXPECT_EQ(Causality().str(), "mean_(a_i=a_j, r_i!=r_j)[exp(-||s_j - s_i||^2)]");
  EXPECT_EQ(Repeatability().str(),
            "mean_(a_i=a_j)[exp(-||s_j - s_i||^2) * ||(s_next_j - s_j) - (s_next_i - s_i)||^2]");
  const auto all = TemporalCoherence() + Proportionality() + Causality() + Repeatability();
  EXPECT_EQ(all.str().find("mean_t[||s_next - s||^2] + mean_(a_i=a_j)"), 0u);
  // d/ds_next of mean ||s_next − s||² is 2Δs / B.
  auto b = batch();
  b["s_next"].requires_grad_(true);
  TemporalCoherence().eval(b).backward();
  EXPECT_TRUE(torch::allclose(b["s_next"].grad(), 2.0 * (b["s_next"] - b["s"]).detach() / 3.0));
  // A batch without the variables is named.
  try {
    Causality().eval({{"s", torch::zeros({2, 2})}, {"s_next", torch::zeros({2, 2})}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Causality: the batch has no 'a'");
  }
}

TEST(Srl, GroundTruthCorrelationFindsEachTrueDimensionUpToScale) {
  torch::manual_seed(0);
  const auto truth = torch::randn({500, 2});
  const auto learned = torch::stack(
      {2.0 * truth.select(1, 1) + 3.0, -truth.select(1, 0), torch::randn({500}), torch::ones({500})}, 1);
  const auto g = ground_truth_correlation(learned, truth);
  ASSERT_EQ(g.per_dimension.size(), 2u);
  EXPECT_NEAR(g.per_dimension[0], 1.0, 1e-9);
  EXPECT_NEAR(g.per_dimension[1], 1.0, 1e-9);
  EXPECT_NEAR(g.mean, 1.0, 1e-9);
  EXPECT_LT(ground_truth_correlation(torch::randn({500, 3}), truth).mean, 0.2);
  EXPECT_THROW(ground_truth_correlation(torch::zeros({5, 2}), torch::zeros({4, 2})), Error);
}

TEST(Srl, KnnMseIsTheTrueDistanceToLearnedNeighbours) {
  // Ten points on a line, learned exactly: the nearest other is 1 away (MSE 1); with k = 2 the two
  // ends see 1 and 2 (mean 2.5), the rest ±1.
  const auto line = torch::arange(10, torch::kFloat64).unsqueeze(1);
  EXPECT_NEAR(knn_mse(line, line, 1), 1.0, 1e-6);
  EXPECT_NEAR(knn_mse(line, line, 2), (8 * 1.0 + 2 * 2.5) / 10, 1e-6);
  // A representation that scrambles the order finds worse neighbours.
  const auto scrambled = torch::tensor({3.0, 8.0, 1.0, 9.0, 0.0, 6.0, 2.0, 7.0, 4.0, 5.0}).unsqueeze(1);
  EXPECT_GT(knn_mse(scrambled, line, 2), 5.0);
  // A sample of the references, the same for the same seed.
  EXPECT_EQ(knn_mse(scrambled, line, 2, 4, 7), knn_mse(scrambled, line, 2, 4, 7));
  EXPECT_THROW(knn_mse(line, line, 10), Error);
}

}  // namespace
}  // namespace dojo::rl

namespace dojo::rl {
namespace {

const envs::Space kFrames = envs::Box(0.0, 255.0, {64, 64, 6}, torch::kUInt8);

struct Transitions {
  torch::Tensor obs, next_obs, actions, rewards;
};
Transitions transitions(std::int64_t n, std::uint64_t seed) {
  torch::manual_seed(seed);
  return {torch::randint(0, 256, {n, 64, 64, 6}).to(torch::kUInt8),
          torch::randint(0, 256, {n, 64, 64, 6}).to(torch::kUInt8), torch::randint(0, 2, {n}),
          torch::randint(0, 3, {n}).to(torch::kFloat32)};
}

TEST(SrlModel, TheObjectiveIsOneFormulaOfTheChosenLosses) {
  torch::manual_seed(0);
  SrlModel m(kFrames, envs::Discrete{2},
             SrlOptions().losses({"autoencoder", "inverse"}).weights({1.0, 10.0}));
  EXPECT_EQ(
      m->objective().str(),
      "mean(E_q(s|o)[E_q(s_next|o_next)[-(log p(o|s) + log p(o_next|s_next)) + 10 * -log p(a|s,s_next)]])");
  ASSERT_EQ(m->terms().size(), 2u);
  EXPECT_EQ(m->terms()[1].first, "inverse");
  EXPECT_EQ(m->terms()[1].second.str(), "mean(E_q(s|o)[E_q(s_next|o_next)[-log p(a|s,s_next)]])");
  // The inverse term is the cross-entropy of the inverse model on φ(o), φ(o'); with a deterministic
  // φ the objective is the weighted sum of the terms.
  const auto t = transitions(8, 1);
  const auto b = m->batch(t.obs, t.next_obs, t.actions, t.rewards);
  torch::NoGradGuard no_grad;
  const auto s = m->encode(t.obs), s_next = m->encode(t.next_obs);
  auto inverse = m->named_children()["inverse"]->as<torch::nn::Sequential>();
  const auto ce =
      torch::nn::functional::cross_entropy(inverse->forward(torch::cat({s, s_next}, 1)), t.actions);
  const auto inverse_term = m->terms()[1].second.eval(b).item<double>();
  EXPECT_NEAR(inverse_term, ce.item<double>(), 1e-4);
  const auto total = m->objective().eval(b).item<double>();
  EXPECT_NEAR(total, m->terms()[0].second.eval(b).item<double>() + 10 * inverse_term, 1e-3 * std::abs(total));

  SrlModel v(kFrames, envs::Box(-2.0, 2.0, {1}),
             SrlOptions().losses({"vae", "forward", "reward", "priors"}).beta(4.0));
  EXPECT_EQ(
      v->objective().str(),
      "mean(E_q(s|o)[E_q(s_next|o_next)[-(log p(o|s) + log p(o_next|s_next)) + -log p(s_next|s,a) + "
      "-log p(r|s,s_next) + mean_t[||s_next - s||^2] + mean_(a_i=a_j)[(||s_next_j - s_j|| - ||s_next_i - "
      "s_i||)^2] + mean_(a_i=a_j, r_i!=r_j)[exp(-||s_j - s_i||^2)] + mean_(a_i=a_j)[exp(-||s_j - s_i||^2) * "
      "||(s_next_j - s_j) - (s_next_i - s_i)||^2]]] + 4 * (D_KL[q(s|o)||p_prior(s)] + "
      "D_KL[q(s_next|o_next)||p_prior(s_next)]))");
}

// Adam on the objective for `steps` steps: the first step's gradient reaches every parameter and the
// objective falls.
void expect_training_reaches_every_part(SrlModel& m, const prob::Dict& b, int steps) {
  torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(1e-3));
  double first = 0, last = 0;
  for (int step = 0; step < steps; ++step) {
    opt.zero_grad();
    auto loss = m->objective().eval(b);
    loss.backward();
    if (step == 0) {
      for (const auto& p : m->named_parameters())
        EXPECT_TRUE(p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0) << p.key();
      first = loss.item<double>();
    }
    last = loss.item<double>();
    opt.step();
  }
  EXPECT_LT(last, first);
}

TEST(SrlModel, TrainingLowersTheObjectiveAndReachesEveryPart) {
  torch::manual_seed(0);
  SrlModel m(kFrames, envs::Box(-2.0, 2.0, {1}),
             SrlOptions().losses({"vae", "forward", "reward", "priors"}).state_dim(4));
  const auto t = transitions(8, 2);
  const auto b = m->batch(t.obs, t.next_obs, torch::rand({8, 1}) * 4 - 2, t.rewards);
  expect_training_reaches_every_part(m, b, 12);
}

// E2C (Watter et al. 2015): the step's covariance is AΣAᵀ with A = I + vrᵀ, and its pull toward
// q(s'|o') is the paper's closed form, which needs only v, r and the diagonals (det A = 1 + rᵀv).
TEST(SrlModel, E2cStepsLocallyLinearlyAndPullsTowardTheNextEncoding) {
  torch::manual_seed(0);
  SrlModel m(kFrames, envs::Box(-2.0, 2.0, {1}), SrlOptions().losses({"e2c"}).state_dim(3).e2c_lambda(0.5));
  EXPECT_EQ(m->objective().str(),
            "mean(E_q(s|o)[E_q(s_next|o_next)[-log p(o|s)]] + D_KL[q(s|o)||p_prior(s)] + "
            "E_T(s_next|o,a)[-log p(o_next|s_next)] + 0.5 * D_KL[T(s_next|o,a)||q(s_next|o_next)])");
  const auto t = transitions(4, 3);
  const auto actions = torch::tensor({-1.5, 0.0, 0.5, 2.0}).reshape({4, 1});
  const auto b = m->batch(t.obs, t.next_obs, actions, t.rewards);
  const auto q = m->named_children()["phi"]->as<ConvVaeImpl>()->encoder()->params({{"x", b.at("o")}});
  const auto q_next =
      m->named_children()["phi"]->as<ConvVaeImpl>()->encoder()->params({{"x", b.at("o_next")}});
  const auto mu = q.at("loc").to(torch::kFloat64), sigma = q.at("scale").to(torch::kFloat64);
  const auto h = m->named_children()["transition"]
                     ->as<torch::nn::Sequential>()
                     ->forward(q.at("loc"))
                     .to(torch::kFloat64);
  ASSERT_EQ(h.size(1), 3 * 3 + 3 * 1);
  const auto v = h.slice(1, 0, 3), r = h.slice(1, 3, 6), bu = h.slice(1, 6, 9), c = h.slice(1, 9, 12);
  const auto [loc, tril] = m->e2c_transition(b.at("o"), b.at("a"));
  const auto mu1 = q_next.at("loc").to(torch::kFloat64), var1 = q_next.at("scale").to(torch::kFloat64).pow(2);
  double pull = 0;
  for (int i = 0; i < 4; ++i) {
    const auto A = torch::eye(3, torch::kFloat64) + torch::outer(v[i], r[i]);
    const auto mean = A.matmul(mu[i]) + bu[i] * actions[i][0].item<double>() + c[i];
    EXPECT_TRUE(torch::allclose(loc[i].to(torch::kFloat64), mean, 1e-4, 1e-5));
    const auto cov = A.matmul(torch::diag(sigma[i].pow(2))).matmul(A.t());
    const auto t_cov = tril[i].to(torch::kFloat64).matmul(tril[i].to(torch::kFloat64).t());
    EXPECT_TRUE(torch::allclose(t_cov, cov, 1e-4, 1e-5));
    // ½[tr(Σ₁⁻¹AΣ₀Aᵀ) + (μ₁ − μ̂)ᵀΣ₁⁻¹(μ₁ − μ̂) − d + log det Σ₁ − log det Σ₀ − 2 log|1 + rᵀv|]
    const auto det_a = 1.0 + r[i].dot(v[i]).item<double>();
    pull += 0.5 * ((cov.diagonal() / var1[i]).sum().item<double>() +
                   ((mu1[i] - mean).pow(2) / var1[i]).sum().item<double>() - 3.0 +
                   var1[i].log().sum().item<double>() - sigma[i].pow(2).log().sum().item<double>() -
                   2.0 * std::log(std::abs(det_a)));
  }
  pull /= 4;
  const auto step = prob::MultivariateNormal(loc, tril, {.var = {"s_hat"}, .name = "T"});
  const auto next = prob::MultivariateNormalDiag(q_next.at("loc"), q_next.at("scale"), {.var = {"s_hat"}});
  EXPECT_NEAR(prob::KL(step, next).mean().eval({}).item<double>(), pull, 1e-3 * std::abs(pull));

  // Trained, every part of E2C gets a gradient and the objective falls.
  expect_training_reaches_every_part(m, b, 10);
}

// Frames are standardised per pixel over the training frames, so that a thin rod on a white
// background moves the state; pixels that never change stay at 0 rather than dividing by 0.
TEST(SrlModel, FramesAreStandardisedPerPixelOverTheTrainingFrames) {
  torch::manual_seed(0);
  SrlModel m(kFrames, envs::Discrete{2});
  auto frames = torch::full({50, 64, 64, 6}, 255, torch::kUInt8);
  frames.index_put_({torch::indexing::Slice(), 10, 20, 0}, torch::randint(0, 256, {50}).to(torch::kUInt8));
  frames.index_put_({torch::indexing::Slice(), 30, 30, 3}, torch::randint(250, 256, {50}).to(torch::kUInt8));
  m->fit_frames(frames);
  const auto o = m->batch(frames, frames, torch::zeros({50}), torch::zeros({50})).at("o").to(torch::kFloat64);
  // A varying pixel: mean 0, population sd 1.
  const auto varied = o.select(1, 0).select(1, 10).select(1, 20);
  EXPECT_NEAR(varied.mean().item<double>(), 0.0, 1e-5);
  EXPECT_NEAR(varied.pow(2).mean().sqrt().item<double>(), 1.0, 1e-4);
  // A pixel that barely varies (sd < 0.1) is divided by 0.1; a constant one is 0.
  const auto faint = o.select(1, 3).select(1, 30).select(1, 30);
  const auto raw = frames.select(3, 3).select(1, 30).select(1, 30).to(torch::kFloat64) / 255.0;
  EXPECT_TRUE(torch::allclose(faint, (raw - raw.mean()) / 0.1, 1e-4, 1e-5));
  EXPECT_EQ(o.select(1, 1).abs().max().item<double>(), 0.0);
  // The decoder's standardised picture comes back in the frames' own units.
  const auto back = m->decode(m->encode(frames.slice(0, 0, 2)));
  EXPECT_EQ(back.sizes(), (std::vector<std::int64_t>{2, 64, 64, 6}));
}

TEST(SrlModel, BadSettingsAreNamed) {
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([] { SrlModel(kFrames, envs::Discrete{2}, SrlOptions().losses({"pca"})); }),
            "SRL loss 'pca': expected autoencoder, vae, forward, inverse, reward, priors or e2c");
  EXPECT_EQ(message([] {
              SrlModel(kFrames, envs::Discrete{2}, SrlOptions().losses({"forward"}).weights({1, 2}));
            }),
            "SRL weights: 2 given for 1 losses: expected one per loss");
  EXPECT_EQ(message([] {
              SrlModel(kFrames, envs::Discrete{2}, SrlOptions().losses({"vae", "autoencoder"}));
            }),
            "SRL losses: autoencoder, vae and e2c each reconstruct: expected one of them");
  EXPECT_EQ(
      message([] {
        SrlModel(envs::Box(0.0, 255.0, {84, 84, 4}, torch::kUInt8), envs::Discrete{2});
      }),
      "SRL: expected [64, 64, C] uint8 frames (pixels: 64) or a float32 vector, the env observes Box(0, 255, "
      "(84, 84, 4), uint8)");
  SrlModel m(kFrames, envs::Discrete{2});
  const auto gray = torch::zeros({2, 64, 64, 2}, torch::kUInt8);
  EXPECT_THROW(m->batch(gray, gray, torch::zeros({2}), torch::zeros({2})), Error);
}

TEST(SrlData, ARandomPolicysFramesStoredOnceWithTheirTrueStates) {
  const auto pixels = envs::EnvFactory("CartPole-v1").wrap(envs::pixel_wrapper({.size = 64, .frames = 2}));
  const auto d = collect_srl_data(pixels, 60, 3);
  const auto episodes = d.episode[-1].item<std::int64_t>() + 1;
  EXPECT_GT(episodes, 1);  // random CartPole falls within ~20 steps
  EXPECT_EQ(d.transitions(), 60);
  EXPECT_EQ(d.frames.size(0), 60 + episodes);
  EXPECT_EQ(d.frames.sizes().slice(1), (std::vector<std::int64_t>{64, 64, 6}));
  EXPECT_EQ(d.states.sizes(), (std::vector<std::int64_t>{60 + episodes, 4}));
  // Replaying the actions in the plain env gives the stored states.
  auto plain = envs::make("CartPole-v1");
  std::int64_t episode = 0;
  EXPECT_TRUE(torch::equal(plain->reset(3).obs, d.states[0]));
  for (std::int64_t i = 0; i < d.transitions(); ++i) {
    const auto at = d.from[i].item<std::int64_t>();
    if (d.episode[at].item<std::int64_t>() != episode) {
      episode = d.episode[at].item<std::int64_t>();
      EXPECT_TRUE(torch::equal(plain->reset(3 + static_cast<std::uint64_t>(episode)).obs, d.states[at]));
    }
    const auto r = plain->step(d.actions[i]);
    EXPECT_TRUE(torch::equal(r.obs, d.states[at + 1])) << i;
    EXPECT_EQ(r.reward, d.rewards[i].item<float>());
    EXPECT_EQ(d.episode[at + 1].item<std::int64_t>(), episode);
  }
  EXPECT_TRUE(torch::equal(collect_srl_data(pixels, 60, 3).frames, d.frames));
  // A split keeps whole episodes, renumbering its frames.
  const auto tail = d.episodes(1, episodes);
  EXPECT_TRUE(torch::equal(tail.frames, d.frames.slice(0, d.frames.size(0) - tail.frames.size(0))));
  EXPECT_EQ(tail.from[0].item<std::int64_t>(), 0);
  EXPECT_EQ(tail.transitions() + d.episodes(0, 1).transitions(), d.transitions());
  try {
    collect_srl_data(envs::EnvFactory("CartPole-v1"), 5, 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "SRL data: TimeLimit<OrderEnforcing<CartPole>> gives no info[\"state\"]: expected pixel "
                 "observations (pixels: 64)");
  }
}

TEST(SrlData, ABehaviourActsOnTheTrueStateExceptForItsRandomShare) {
  const auto pixels = envs::EnvFactory("CartPole-v1").wrap(envs::pixel_wrapper({.size = 64, .frames = 2}));
  // Push toward where the pole is heading (angle and angular velocity): it sees the state behind the
  // frame, not the frame.
  std::int64_t calls = 0;
  const SrlBehaviour lean = [&calls](const torch::Tensor& state) {
    ++calls;
    EXPECT_EQ(state.sizes(), (std::vector<std::int64_t>{4}));
    return torch::tensor(state[2].item<float>() + 0.5f * state[3].item<float>() > 0
                             ? 1.0
                             : 0.0);  // a float, as an agent may give
  };
  const auto greedy = collect_srl_data(pixels, 300, 1, lean, 0.0);
  EXPECT_EQ(calls, 300);
  EXPECT_EQ(greedy.actions.scalar_type(), torch::kLong);
  for (std::int64_t i = 0; i < greedy.transitions(); ++i) {
    const auto at = greedy.from[i].item<std::int64_t>();
    const auto s = greedy.states[at];
    EXPECT_EQ(greedy.actions[i].item<std::int64_t>(),
              s[2].item<float>() + 0.5f * s[3].item<float>() > 0 ? 1 : 0)
        << i;
  }
  // It balances far longer than chance: fewer episodes in the same steps.
  const auto random = collect_srl_data(pixels, 300, 1);
  EXPECT_LT(greedy.episode[-1].item<std::int64_t>() * 3, random.episode[-1].item<std::int64_t>());
  // With epsilon 1 every action is random; in between, about that share (0.3 of 300 here).
  calls = 0;
  EXPECT_TRUE(torch::equal(collect_srl_data(pixels, 300, 1, lean, 1.0).frames, random.frames));
  EXPECT_EQ(calls, 0);
  collect_srl_data(pixels, 300, 1, lean, 0.3);
  EXPECT_GT(calls, 170);
  EXPECT_LT(calls, 250);
  EXPECT_THROW(collect_srl_data(pixels, 10, 1, lean, 1.5), Error);
}

TEST(SrlData, TrainingAnAutoencoderLowersItsObjective) {
  const auto pixels = envs::EnvFactory("Pendulum-v1").wrap(envs::pixel_wrapper({.size = 64, .frames = 2}));
  const auto d = collect_srl_data(pixels, 64, 0);
  torch::manual_seed(0);
  SrlModel m(pixels()->observation_space(), pixels()->action_space(),
             SrlOptions().losses({"autoencoder"}).state_dim(3));
  const auto curve = train_srl(m, d, SrlTrainOptions().epochs(3).batch_size(32));
  ASSERT_EQ(curve.size(), 3u);
  EXPECT_LT(curve.back(), curve.front());
  const auto states = encode_frames(m, d.frames);
  EXPECT_EQ(states.sizes(), (std::vector<std::int64_t>{d.frames.size(0), 3}));
  EXPECT_EQ(ground_truth_correlation(states, d.states).per_dimension.size(), 3u);
}

// The first frame stack of Pendulum reset with `seed`, as the SRL runs see it.
torch::Tensor pixel_frames(std::uint64_t seed) {
  auto env = envs::pixel_observations(envs::make("Pendulum-v1"), {.size = 64, .frames = 2});
  return env->reset(seed).obs.unsqueeze(0);
}

TEST(SrlRun, TrainsScoresAndLoadsBack) {
  const auto out = test::fresh_path("srl_run");
  auto cfg = core::Config::parse(
      "env: Pendulum-v1\nsteps: 450\nepochs: 1\nstate_dim: 3\nlosses: [autoencoder, inverse]\n"
      "weights: [1, 10]\nbatch_size: 64\n",
      "test");
  const auto s = train_srl_run(cfg, out);
  // 450 steps of Pendulum: episodes of 200, 200 and 50; the last (the 20% share, rounded) held out.
  EXPECT_EQ(s.transitions, 400);
  EXPECT_EQ(s.held_out_frames, 51);
  EXPECT_EQ(s.curve.size(), 1u);
  EXPECT_EQ(s.learned.gtc.per_dimension.size(), 3u);
  EXPECT_NEAR(s.ground_truth.gtc.mean, 1.0, 1e-9);
  EXPECT_LT(s.ground_truth.knn_mse, s.learned.knn_mse);
  for (const char* f : {"config.yaml", "srl.ckpt", "srl.csv", "summary.json"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  auto loaded = load_srl_run(out);
  EXPECT_EQ(loaded.options.weights(), (std::vector<double>{1, 10}));
  const auto frames = collect_srl_data(loaded.options.env_factory(), 3, 0).frames;
  EXPECT_EQ(loaded.model->encode(frames).sizes(), (std::vector<std::int64_t>{4, 3}));

  // PPO on the frozen learned state: the run key srl_run.
  auto env = run_env_factory(RunOptions().env_id("Pendulum-v1").srl_run(out.string()), true)();
  EXPECT_EQ(envs::to_string(env->observation_space()), "Box(-inf, inf, (3,), float32)");
  const auto first = env->reset(0);
  EXPECT_TRUE(torch::allclose(first.obs, loaded.model->encode(pixel_frames(0)).squeeze(0)));
  EXPECT_EQ(first.info.at("state").tensor().sizes(), (std::vector<std::int64_t>{3}));
  TrainRequest r;
  r.algo = "ppo";
  r.env_id = "Pendulum-v1";
  r.out = out / "ppo";
  r.overrides = {
      "srl_run=" + out.string(), "n_envs=2",    "n_steps=16",           "batch_size=32", "n_epochs=1",
      "n_timesteps=64",          "eval_freq=0", "final_eval_episodes=1"};
  EXPECT_EQ(train(r).env_steps, 64);
  // A behaviour for collection must act on the env's true state: this run sees it through pixels.
  try {
    train_srl_run(core::Config::parse("env: Pendulum-v1\nbehaviour: " + (out / "ppo").string(), "test"),
                  out / "srl-behaviour");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "behaviour '" + (out / "ppo").string() +
                                         "' is a run of Pendulum-v1 through pixels: expected a run of "
                                         "Pendulum-v1 on its true state");
  }
  EXPECT_FALSE(fs::exists(out / "srl-behaviour"));
  r.env_id = "CartPole-v1";
  r.out = out / "ppo-cartpole";
  EXPECT_THROW(resolve_config(r), Error);  // the state was learned on Pendulum
  r.env_id = "Pendulum-v1";
  r.overrides = {"srl_run=" + out.string(), "pixels=64"};
  EXPECT_THROW(resolve_config(r), Error);
  fs::remove_all(out);
}

TEST(SrlRun, BadInputIsAOneLineErrorWithExitCode2) {
  const auto out = test::fresh_path("srl_cli");
  test::expect_bad_input("srl train --env Pendulum-v9 --out " + out.string(), "Pendulum-v9");
  test::expect_bad_input("srl train --losses autoencoder,pca --out " + out.string(), "pca");
  test::expect_bad_input("srl train --set stat_dim=3 --out " + out.string(), "stat_dim");
  test::expect_bad_input("srl train --set holdout=0.9 --out " + out.string(), "holdout");
  test::expect_bad_input("srl train --set weights=[1,2] --out " + out.string(), "weights");
  test::expect_bad_input("srl train --set steps=50 --out " + out.string(), "steps");
  test::expect_bad_input("srl train --set behaviour=/nonexistent/run --out " + out.string(),
                         "/nonexistent/run");
  test::expect_bad_input("srl train --set behaviour_epsilon=2 --out " + out.string(), "behaviour_epsilon");
  test::expect_bad_input("srl train --set pixel_crop=[0.5,0,0.4,1] --out " + out.string(),
                         "pixel_crop [0.5, 0, 0.4, 1]");
  test::expect_bad_input(
      "train ppo --env CartPole-v1 --set pixels=64 --set pixel_crop=[0,1] --out " + out.string(),
      "pixel_crop [0, 1]");
  test::expect_bad_input("train ppo --env CartPole-v1 --set pixel_crop=[0.3,0,0.9,1] --out " + out.string(),
                         "pixel_crop without pixels");
  test::expect_bad_input("train ppo --env Pendulum-v1 --set srl_run=/nonexistent/srl --out " + out.string(),
                         "/nonexistent/srl");
  EXPECT_FALSE(fs::exists(out / "summary.json"));
  fs::remove_all(out);
}

// Curiosity: ICM as PPO's option — one SRL model of the inverse and forward losses on MountainCar's
// state, its forward error the intrinsic reward.
TEST(Icm, PPOAddsTheForwardModelsErrorToTheRewardAndSavesTheModel) {
  const auto options = PPOOptions().n_envs(2).n_steps(64).batch_size(64).n_epochs(2).intrinsic("icm");
  PPO agent("SparseMountainCar-v0", options, 0);
  ASSERT_TRUE(agent.icm());
  EXPECT_EQ(agent.icm()->objective().str(),
            "mean(E_q(s|o)[E_q(s_next|o_next)[0.8 * -log p(a|s,s_next) + 0.2 * -log p(s_next|s,a)]])");
  // The intrinsic reward of a transition: η/2 · ||s + f(s, a) − φ(s')||², φ the feature MLP of the
  // state scaled to [−1, 1] by MountainCar's bounds (position −1.2..0.6, velocity ±0.07).
  const auto obs = torch::randn({4, 2}), next = torch::randn({4, 2});
  const auto actions = torch::tensor({0, 1, 2, 1});
  const auto b = agent.icm()->batch(obs, next, actions, torch::zeros({4}));
  auto children = agent.icm()->named_children();
  auto phi = children["phi"]->as<torch::nn::Sequential>();
  auto forward = children["forward"]->as<torch::nn::Sequential>();
  {
    torch::NoGradGuard no_grad;
    const auto mid = torch::tensor({-0.3f, 0.0f}), half = torch::tensor({0.9f, 0.07f});
    const auto s = phi->forward((obs - mid) / half), s_next = phi->forward((next - mid) / half);
    const auto predicted =
        s + forward->forward(torch::cat({s, torch::one_hot(actions, 3).to(torch::kFloat32)}, 1));
    EXPECT_TRUE(
        torch::allclose(agent.icm()->forward_error(b), (predicted - s_next).pow(2).sum(1), 1e-5, 1e-6));
  }

  // A rollout's update logs the intrinsic reward and ICM's loss; a checkpoint keeps the model.
  Callback none;
  agent.learn(256, none);
  EXPECT_GT(agent.logger().get("intrinsic_reward"), 0.0);
  EXPECT_GT(agent.logger().get("icm_loss"), 0.0);
  const auto path = test::fresh_path("icm") += ".ckpt";
  agent.save(path);
  PPO loaded("SparseMountainCar-v0", options, 9);
  loaded.load(path);
  EXPECT_TRUE(torch::allclose(loaded.icm()->forward_error(b), agent.icm()->forward_error(b)));
  fs::remove(path);
}

}  // namespace
}  // namespace dojo::rl
