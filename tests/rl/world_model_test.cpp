#include "rl/world_model.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "cli_util.h"
#include "core/checkpoint.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/runtime.h"
#include "envs/registry.h"
#include "rl/cmaes.h"
#include "rl/world_model_run.h"
#include "test_util.h"

namespace dojo::rl {
namespace {

namespace fs = std::filesystem;

TEST(WorldModelFrame, CropsTheIndicatorBarAndResizesTo64) {
  auto obs = torch::zeros({96, 96, 3}, torch::kUInt8);
  obs.narrow(0, 84, 12).fill_(255);  // the indicator bar
  obs.narrow(0, 0, 42).select(2, 1).fill_(200);
  const auto f = world_model_frame(obs);
  EXPECT_EQ(f.sizes(), (std::vector<std::int64_t>{64, 64, 3}));
  EXPECT_EQ(f.scalar_type(), torch::kUInt8);
  EXPECT_EQ(f.select(2, 0).max().item<int>(), 0);  // nothing of the bar is left
  EXPECT_EQ(f[0][0][1].item<int>(), 200);          // the top half keeps its colour
  EXPECT_EQ(f[63][0][1].item<int>(), 0);
  EXPECT_EQ(world_model_frame(obs.unsqueeze(0).expand({5, 96, 96, 3})).size(0), 5);
  EXPECT_THROW(world_model_frame(torch::zeros({64, 64, 3}, torch::kUInt8)), Error);
}

TEST(ConvVae, ShapesLossesAndTheFreeBitsFloor) {
  torch::manual_seed(0);
  ConvVae vae(32);
  const auto frames = torch::randint(0, 256, {4, 64, 64, 3}).to(torch::kUInt8);
  const auto [mu, sigma] = vae->encode(frames);
  EXPECT_EQ(mu.sizes(), (std::vector<std::int64_t>{4, 32}));
  EXPECT_TRUE((sigma > 0).all().item<bool>());
  const auto decoded = vae->decode(mu);
  EXPECT_EQ(decoded.sizes(), (std::vector<std::int64_t>{4, 64, 64, 3}));
  EXPECT_EQ(decoded.scalar_type(), torch::kUInt8);
  // q(z|x), p(x|z) and p(z) are prob distributions over named variables.
  EXPECT_EQ(vae->encoder()->prob_text(), "q(z|x)");
  EXPECT_EQ(vae->decoder()->prob_text(), "p(x|z)");
  // An untrained encoder's KL is far below 16 nats: the floor holds the KL term at 16.
  torch::manual_seed(1);
  const auto l = vae->losses(frames, 16);
  EXPECT_LT(l.kl.item<double>(), 16);
  EXPECT_NEAR(l.total.item<double>() - l.reconstruction.item<double>(), 16, 1e-3);
  torch::manual_seed(1);
  const auto no_floor = vae->losses(frames, 0);
  EXPECT_NEAR(no_floor.total.item<double>() - no_floor.reconstruction.item<double>(),
              no_floor.kl.item<double>(), 1e-3);
  // The reconstruction term is the summed squared error in [0, 1] pixels (−log p less its constant).
  torch::manual_seed(1);
  const auto pixels = ConvVaeImpl::pixels(frames);
  const auto qp = vae->encoder()->params({{"x", pixels}});
  const auto z = vae->encoder()->sample_from(qp, true);
  const auto mean = vae->decoder()->mean({{"z", z}});
  EXPECT_NEAR(l.reconstruction.item<double>(), (pixels - mean).square().sum({1, 2, 3}).mean().item<double>(),
              0.05);
}

TEST(ConvVae, LearnsToReconstructAFewFrames) {
  torch::manual_seed(0);
  ConvVae vae(8);
  // Four flat colours: easy to learn, so the error must fall far below the untrained one.
  auto frames = torch::zeros({4, 64, 64, 3}, torch::kUInt8);
  for (int i = 0; i < 4; ++i) frames[i].fill_(40 + 60 * i);
  torch::optim::Adam opt(vae->parameters(), 3e-3);
  const double before = vae->losses(frames, 0).reconstruction.item<double>();
  // As the dojo command runs (one thread per pool, denormals flushed): ~10x faster here. CTest runs
  // each test in its own process, so no other test inherits it.
  core::configure_compute(1);
  for (int step = 0; step < 200; ++step) {
    const auto l = vae->losses(frames, 0);
    opt.zero_grad();
    l.total.backward();
    opt.step();
  }
  const auto [mu, sigma] = vae->encode(frames);
  const auto error =
      (vae->decode(mu).to(torch::kFloat32) - frames.to(torch::kFloat32)).abs().mean().item<double>();
  EXPECT_LT(error, 8) << "mean absolute error in 0-255 levels (untrained reconstruction error " << before
                      << ")";
}

TEST(MdnRnn, ShapesAndTheMixtureLikelihood) {
  torch::manual_seed(0);
  MdnRnn mdn(MdnRnnOptions{4, 3, 16, 5});
  const auto z = torch::randn({2, 7, 4}), a = torch::rand({2, 7, 3});
  const auto out = mdn->forward(z, a);
  EXPECT_EQ(out.logits.sizes(), (std::vector<std::int64_t>{2, 7, 4, 5}));
  EXPECT_EQ(out.reward.sizes(), (std::vector<std::int64_t>{2, 7}));
  EXPECT_EQ(out.hidden.sizes(), (std::vector<std::int64_t>{2, 7, 16}));
  // One step at a time gives what the sequence gives.
  auto state = mdn->initial_state(2);
  MdnRnnImpl::Output step;
  for (int t = 0; t < 7; ++t) {
    step = mdn->step(z.select(1, t), a.select(1, t), state);
    state = step.state;
  }
  EXPECT_TRUE(torch::allclose(step.loc, out.loc.select(1, 6), 1e-5, 1e-5));
  // The NLL is −log Σ_k π_k N(z'; μ_k, σ_k), averaged over dimensions and unmasked steps — the same
  // as prob's MixtureOfNormal gives.
  const auto target = torch::randn({2, 7, 4});
  auto mask = torch::ones({2, 7});
  mask[1].narrow(0, 3, 4).zero_();
  const auto nll = mdn->latent_nll(out, target, mask).item<double>();
  const auto d = mdn->next_latent(out);
  const auto log_p = d->log_prob_from(d->params({}), target.unsqueeze(-1));  // [2, 7, 4]
  const auto expected = -(log_p * mask.unsqueeze(-1)).sum().item<double>() / (mask.sum().item<double>() * 4);
  EXPECT_NEAR(nll, expected, 1e-4);
}

TEST(MdnRnn, TemperatureSharpensOrFlattensTheMixture) {
  MdnRnnImpl::Output out;
  // One dimension, two components at −3 and +3 with weights 0.9 / 0.1 and σ 0.1.
  out.logits = torch::tensor({std::log(0.9f), std::log(0.1f)}).view({1, 1, 2}).expand({4000, 1, 2});
  out.loc = torch::tensor({-3.0f, 3.0f}).view({1, 1, 2}).expand({4000, 1, 2});
  out.log_scale = torch::full({4000, 1, 2}, std::log(0.1f));
  MdnRnn mdn(MdnRnnOptions{1, 3, 4, 2});
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  const auto share_high = [&](double tau) {
    return (mdn->sample_latent(out, tau, gen) > 0).to(torch::kFloat32).mean().item<double>();
  };
  EXPECT_NEAR(share_high(1.0), 0.1, 0.03);
  EXPECT_LT(share_high(0.3), 0.01);           // logits / τ: the likely component takes over
  EXPECT_NEAR(share_high(100.0), 0.5, 0.05);  // ... or the mixture flattens
  const auto low = mdn->sample_latent(out, 4.0, gen);
  const auto spread = low.masked_select(low < 0).std().item<double>();
  EXPECT_NEAR(spread, 0.1 * 2.0, 0.03);  // σ·√τ
  EXPECT_THROW(mdn->sample_latent(out, 0.0, gen), Error);
}

TEST(Controller, IsTanhOfALinearMapPerCandidate) {
  const auto features = torch::randn({2, 5});
  auto params = torch::zeros({2, controller_parameters(5, 3)});
  EXPECT_EQ(params.size(1), 18);
  params[1].narrow(0, 15, 3).copy_(torch::tensor({0.5f, -1.0f, 2.0f}));  // candidate 1's bias
  params[1][0] = 1.0f;                                                   // W[0][0]
  const auto a = controller_output(params, features, 3);
  EXPECT_TRUE(torch::allclose(a[0], torch::zeros({3})));
  EXPECT_NEAR(a[1][0].item<double>(), std::tanh(0.5 + features[1][0].item<double>()), 1e-6);
  EXPECT_NEAR(a[1][2].item<double>(), std::tanh(2.0), 1e-6);
  EXPECT_THROW(controller_output(torch::zeros({2, 17}), features, 3), Error);
  // steer = a0, gas = (a1 + 1) / 2, brake = max(a2, 0).
  const auto c = car_controls(torch::tensor({{-0.5f, -1.0f, -0.3f}, {1.0f, 0.6f, 0.4f}}));
  EXPECT_TRUE(torch::allclose(c, torch::tensor({{-0.5f, 0.0f, 0.0f}, {1.0f, 0.8f, 0.4f}})));
}

TEST(Dream, IsAnEnvThatASeedReplays) {
  torch::manual_seed(0);
  MdnRnn mdn(MdnRnnOptions{4, 3, 8, 3});
  ConvVae vae(4);
  DreamEnv dream(mdn, torch::randn({5, 4}), 1.15, vae);
  const auto a = torch::tensor({0.2f, 0.5f, 0.0f});
  const auto run = [&] {
    std::vector<float> out{dream.reset(3).obs.sum().item<float>()};
    for (int t = 0; t < 5; ++t) out.push_back(dream.step(a).obs.sum().item<float>());
    return out;
  };
  const auto first = run();
  EXPECT_EQ(first, run());
  EXPECT_EQ(dream.reset(3).obs.size(0), 4 + 8);  // [z, h]
  EXPECT_EQ(dream.render().sizes(), (std::vector<std::int64_t>{64, 64, 3}));
  EXPECT_THROW(dream.step(torch::tensor({0.0f, 2.0f, 0.0f})), Error);  // gas outside the Box
  EXPECT_THROW(dream.step(torch::tensor({0.0f, 0.5f})), Error);        // the wrong size
  EXPECT_THROW(DreamEnv(mdn, torch::randn({5, 3}), 1.0), Error);       // latents of another size
}

// A pipeline small enough for a unit test: three short rollouts, one epoch of V, two of M, two
// generations of C.
core::Config tiny_config() {
  return core::Config::parse(R"(
env: CarRacing-v2
rollouts: 3
max_steps: 30
holdout: 0.34
z_size: 8
vae_epochs: 1
vae_batch_size: 16
hidden: 16
mdn_epochs: 2
mdn_batch_size: 4
sequence_length: 10
population: 4
rollouts_per_candidate: 2
generations: 2
eval_every: 1
eval_rollouts: 2
n_threads: 1
)",
                             "tiny");
}

TEST(WorldModelRun, StagesRunInOrderResumeAndNameWhatIsMissing) {
  const auto dir = test::fresh_path("worldmodel");
  // A new run cannot start past collecting.
  const auto early = test::error_of([&] { train_world_model(tiny_config(), dir, "mdn"); });
  EXPECT_NE(early.find("stage mdn needs the artefacts of stage encode"), std::string::npos) << early;
  EXPECT_FALSE(fs::exists(dir));
  train_world_model(tiny_config(), dir, "collect");
  EXPECT_TRUE(fs::exists(dir / "rollouts" / "rollout_00002.ckpt"));
  const auto skipped = test::error_of([&] { resume_world_model(dir, "encode"); });
  EXPECT_NE(skipped.find("--stage vae` first"), std::string::npos) << skipped;
  for (const auto* stage : {"vae", "encode", "mdn"}) resume_world_model(dir, stage);
  // Another controller from the same V and M before the run's own: V alone, evolved in the dream. Its
  // minutes stay in its own directory; the controller stage is still to run.
  resume_world_model(dir, "controller", {"controller=z", "dream=true", "temperature=1.15"});
  EXPECT_EQ(core::read_csv(dir / "stages.csv").rows.size(), 4u);
  EXPECT_TRUE(fs::exists(dir / "controller-z-dream-t1.15" / "best.ckpt"));
  const auto s = resume_world_model(dir);
  ASSERT_EQ(s.stage_minutes.size(), 5u);
  EXPECT_EQ(s.stage_minutes.back().first, "controller");
  for (const auto* f :
       {"vae.ckpt", "reconstructions.png", "vae_curve.png", "latents.ckpt", "mdn.ckpt", "dream.png",
        "mdn_curve.png", "controller/best.ckpt", "controller/curve.png", "summary.json"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  EXPECT_GT(s.copy_nll, 0);
  EXPECT_EQ(core::read_csv(dir / "controller" / "cmaes.csv").rows.size(), 2u);
  // Evaluation is deterministic per track seed.
  const auto e1 = evaluate_world_model(dir, 2, 10);
  const auto e2 = evaluate_world_model(dir, 2, 10);
  EXPECT_EQ(e1.returns, e2.returns);
  EXPECT_EQ(e1.returns.size(), 2u);
  EXPECT_EQ(evaluate_world_model(dir, 1, 0, "controller-z-dream-t1.15").returns.size(), 1u);
  EXPECT_NE(
      test::error_of([&] { resume_world_model(dir, "controller", {"z_size=4"}); }).find("controller key"),
      std::string::npos);
  EXPECT_NE(test::error_of([&] { resume_world_model(dir, "vae"); }).find("has finished"), std::string::npos);
  fs::remove_all(dir);
}

TEST(WorldModelRun, BadInputIsAOneLineErrorWithExitCode2) {
  const auto out = test::fresh_path("worldmodel_cli");
  test::expect_bad_input("train worldmodel --stage vae --out " + out.string(), "stage vae");
  EXPECT_FALSE(fs::exists(out));
  test::expect_bad_input("train worldmodel --env CartPole-v1 --set rollouts=1 --out " + out.string(),
                         "CartPole-v1");
  test::expect_bad_input("train worldmodel --stage dream --out " + out.string(), "dream");
  test::expect_bad_input("train worldmodel --set kl_flor=3 --out " + out.string(), "kl_flor");
  test::expect_bad_input("train ppo --stage vae", "--stage");
}

}  // namespace
}  // namespace dojo::rl
