// prob's sequential latent models: DRAW and TD-VAE — their loss formulas as printed, the loss values
// against the same arithmetic written out by hand, shapes, errors, and the moving-item sequences.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "core/error.h"
#include "prob/draw.h"
#include "prob/gqn.h"
#include "prob/tdvae.h"

namespace dojo::prob {
namespace {

torch::Tensor kl_to_standard(const torch::Tensor& loc, const torch::Tensor& scale) {
  return (0.5 * (scale.pow(2) + loc.pow(2) - 1) - scale.log()).sum(-1);
}

torch::Tensor kl_normal(const torch::Tensor& loc_q, const torch::Tensor& scale_q, const torch::Tensor& loc_p,
                        const torch::Tensor& scale_p) {
  return ((scale_p / scale_q).log() + (scale_q.pow(2) + (loc_q - loc_p).pow(2)) / (2 * scale_p.pow(2)) - 0.5)
      .sum(-1);
}

torch::Tensor normal_log_prob(const torch::Tensor& x, const torch::Tensor& loc, const torch::Tensor& scale) {
  return (-0.5 * ((x - loc) / scale).pow(2) - scale.log() - 0.5 * std::log(2 * M_PI)).sum(-1);
}

// log Bernoulli(x | logits l) for grey x: x·l − softplus(l), summed over pixels.
torch::Tensor bernoulli_log_prob(const torch::Tensor& x, const torch::Tensor& logits) {
  return (x * logits - torch::softplus(logits)).sum(-1);
}

TEST(Draw, LossIsTheGlimpsesKlPlusTheCanvasLikelihood) {
  Draw draw(DrawOptions{.x_dim = 4, .z_dim = 2, .hidden = 3, .steps = 2});
  EXPECT_EQ(draw->loss().str(),
            "mean(sum_(t=1..2)[E_f_write(canvas_next,s_dec_next,z,s_enc_next|canvas,s_dec,x,s_enc)[D_KL[q(z|"
            "s_enc_next)||"
            "p(z)]]] - log p(x|canvas))");
}

TEST(Draw, LossValueMatchesTheRecurrenceWrittenOut) {
  torch::manual_seed(3);
  const std::int64_t h = 3, zd = 2;
  Draw draw(DrawOptions{.x_dim = 4, .z_dim = zd, .hidden = h, .steps = 2});
  auto x = torch::rand({5, 4});
  torch::manual_seed(11);
  const double loss = draw->loss().eval(draw->initial(x)).item<double>();

  auto p = draw->named_parameters();
  auto lstm = [&](const std::string& name, const torch::Tensor& in, torch::Tensor& hs, torch::Tensor& cs) {
    auto [h1, c1] = torch::lstm_cell(in, {hs, cs}, p[name + ".weight_ih"], p[name + ".weight_hh"],
                                     p[name + ".bias_ih"], p[name + ".bias_hh"]);
    hs = h1;
    cs = c1;
  };
  torch::manual_seed(11);
  auto h_enc = torch::zeros({5, h}), c_enc = torch::zeros({5, h}), h_dec = torch::zeros({5, h}),
       c_dec = torch::zeros({5, h}), canvas = torch::zeros({5, 4});
  torch::Tensor kl = torch::zeros({5});
  for (int t = 0; t < 2; ++t) {
    lstm("enc", torch::cat({x, x - torch::sigmoid(canvas), h_dec}, 1), h_enc, c_enc);
    auto q = torch::linear(h_enc, p["q.weight"], p["q.bias"]);
    auto loc = q.narrow(1, 0, zd), scale = q.narrow(1, zd, zd).exp();
    auto z = loc + scale * torch::randn_like(loc);
    kl = kl + kl_to_standard(loc, scale);
    lstm("dec", z, h_dec, c_dec);
    canvas = canvas + torch::linear(h_dec, p["write.weight"], p["write.bias"]);
  }
  const double expected = (kl - bernoulli_log_prob(x, canvas)).mean().item<double>();
  EXPECT_NEAR(loss, expected, 1e-5);

  torch::manual_seed(11);
  EXPECT_NEAR(draw->negative_elbo(x).mean().item<double>(), loss, 1e-5);
}

TEST(Draw, GeneratesCanvasesAndRejectsBadShapes) {
  Draw draw(DrawOptions{.x_dim = 6, .z_dim = 2, .hidden = 4, .steps = 3});
  auto canvases = draw->generate(7);
  EXPECT_EQ(canvases.sizes(), (std::vector<std::int64_t>{3, 7, 6}));
  EXPECT_GE(canvases.min().item<double>(), 0.0);
  EXPECT_LE(canvases.max().item<double>(), 1.0);
  EXPECT_THROW(draw->initial(torch::zeros({2, 5})), Error);
  EXPECT_THROW(draw->generate(0), Error);
  EXPECT_THROW(Draw(DrawOptions{.steps = 0}), Error);
}

TEST(Draw, TrainingLowersTheNegativeElbo) {
  torch::manual_seed(0);
  Draw draw(DrawOptions{.x_dim = 16, .z_dim = 2, .hidden = 16, .steps = 3});
  // Two patterns: bright left half or bright right half.
  auto base = torch::zeros({2, 16});
  base[0].narrow(0, 0, 8).fill_(1);
  base[1].narrow(0, 8, 8).fill_(1);
  auto x = base.repeat({32, 1});
  torch::optim::Adam opt(draw->parameters(), torch::optim::AdamOptions(1e-2));
  double first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    auto loss = draw->loss().eval(draw->initial(x));
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  EXPECT_LT(last, 0.5 * first) << first << " -> " << last;
}

TEST(TdVae, ShiftingSequencesMoveOnePixelPerStepAndWrap) {
  torch::manual_seed(0);
  auto images = torch::zeros({40, 3, 4});
  images.select(2, 0).fill_(1);  // the first column lit
  auto [frames, direction] = shifting_sequences(images, 5);
  EXPECT_EQ(frames.sizes(), (std::vector<std::int64_t>{5, 40, 12}));
  std::set<std::int64_t> starts;
  for (std::int64_t i = 0; i < 40; ++i) {
    auto lit_column = [&](std::int64_t t) {
      return frames[t][i].view({3, 4}).sum(0).argmax().item<std::int64_t>();
    };
    starts.insert(lit_column(0));
    for (std::int64_t t = 0; t < 5; ++t) {
      EXPECT_EQ(frames[t][i].sum().item<double>(), 3.0);  // the item, whole
      if (t > 0) {
        EXPECT_EQ(lit_column(t), ((lit_column(t - 1) + direction[i].item<std::int64_t>()) % 4 + 4) % 4) << i;
      }
    }
  }
  EXPECT_EQ(starts.size(), 4u);  // random starting offsets
  EXPECT_TRUE(direction.abs().eq(1).all().item<bool>());
  EXPECT_THROW(shifting_sequences(torch::zeros({2, 3}), 4), Error);
}

TEST(TdVae, BatchPairsEachFrameWithTheOneItsJumpAhead) {
  torch::manual_seed(1);
  TdVae td(TdVaeOptions{.x_dim = 3, .features = 4, .belief = 4, .z_dim = 2, .hidden = 4, .max_jump = 2});
  auto xs = torch::arange(6 * 5 * 3, torch::kFloat32).view({6, 5, 3});
  auto b = td->batch(xs);
  EXPECT_EQ(b.at("x2").sizes(), (std::vector<std::int64_t>{4, 5, 3}));
  for (std::int64_t i = 0; i < 5; ++i) {
    const auto jump = b.at("jump")[i].item<std::int64_t>();
    EXPECT_GE(jump, 1);
    EXPECT_LE(jump, 2);
    for (std::int64_t t = 0; t < 4; ++t) {
      EXPECT_TRUE(torch::equal(b.at("x2")[t][i], xs[t + jump][i]));
      EXPECT_FLOAT_EQ(b.at("dt")[t][i][0].item<float>(), static_cast<float>(jump) / 2.0f);
    }
  }
  EXPECT_THROW(td->batch(torch::zeros({2, 5, 3})), Error);  // T must exceed max_jump
  EXPECT_THROW(td->batch(torch::zeros({6, 5, 4})), Error);
}

TEST(TdVae, LossIsTheTwoTimeStepElboWrittenOut) {
  torch::manual_seed(2);
  const std::int64_t bd = 4;
  TdVae td(TdVaeOptions{.x_dim = 3, .features = 4, .belief = bd, .z_dim = 2, .hidden = 5, .max_jump = 2});
  EXPECT_EQ(td->loss().str(),
            "mean(E_f(bb|xs,jump)[sum_(t=1..T)[E_p(z2|bb)[D_KL[q(z1|z2,bb)||p(z1|bb)] + E_q(z1|z2,bb)[log "
            "p(z2|bb) - log p(z2|z1,dt)] - log p(x2|z2)]]])");
  auto xs = torch::rand({5, 3, 3});
  auto batch = td->batch(xs);
  torch::manual_seed(9);
  const double loss = td->loss().eval(batch).item<double>();

  // By hand: the beliefs, then per t1 z2 ~ p_B(b2), z1 ~ q(z2, b1, b2) in that order.
  torch::manual_seed(9);
  auto beliefs = td->beliefs(xs);
  const auto jump = batch.at("jump");
  torch::Tensor total = torch::zeros({3});
  for (std::int64_t t = 0; t < 3; ++t) {
    auto b1 = beliefs[t];
    auto b2 = beliefs.index({t + jump, torch::arange(3)});
    auto bb = torch::cat({b1, b2}, -1);
    auto pb2 = td->p_b2()->params({{"bb", bb}});
    auto z2 = pb2["loc"] + pb2["scale"] * torch::randn_like(pb2["loc"]);
    auto pb1 = td->p_b1()->params({{"bb", bb}});
    auto q = td->q()->params({{"z2", z2}, {"bb", bb}});
    auto z1 = q["loc"] + q["scale"] * torch::randn_like(q["loc"]);
    auto pt = td->transition()->params({{"z1", z1}, {"dt", batch.at("dt")[t]}});
    auto logits = td->decoder()->params({{"z2", z2}}).at("logits");
    total = total + kl_normal(q["loc"], q["scale"], pb1["loc"], pb1["scale"]) +
            normal_log_prob(z2, pb2["loc"], pb2["scale"]) - normal_log_prob(z2, pt["loc"], pt["scale"]) -
            bernoulli_log_prob(batch.at("x2")[t], logits);
  }
  EXPECT_NEAR(loss, total.mean().item<double>(), 1e-4);
}

TEST(TdVae, PredictsFramesAndRejectsTooLongJumps) {
  TdVae td(TdVaeOptions{.x_dim = 3, .features = 4, .belief = 4, .z_dim = 2, .hidden = 4, .max_jump = 3});
  auto xs = torch::rand({4, 2, 3});
  EXPECT_EQ(td->predict(xs, 3, true).sizes(), (std::vector<std::int64_t>{3, 2, 3}));
  EXPECT_EQ(td->predict(xs, 6, false).sizes(), (std::vector<std::int64_t>{6, 2, 3}));
  EXPECT_THROW(td->predict(xs, 4, true), Error);
  EXPECT_THROW(td->predict(xs, 0, false), Error);
}

GqnOptions tiny_gqn() {
  return {.image_size = 8,
          .pose_dim = 2,
          .r_channels = 4,
          .hidden = 3,
          .z_channels = 2,
          .u_channels = 2,
          .steps = 2};
}

TEST(Gqn, LossIsTheStepsKlPlusTheQueryLikelihood) {
  Gqn gqn(tiny_gqn());
  EXPECT_EQ(
      gqn->loss().str(),
      "mean(E_f(r|x_ctx,v_ctx)[sum_(t=1..2)[E_f_u(u_next,s_g_next,z,s_q_next|u,v_q,r,s_g,x_q,s_q)[D_KL[q(z|"
      "s_q_next)||pi(z|s_g)]]] - log p(x_q|u)])");
}

TEST(Gqn, LossValueMatchesTheStepsWrittenOut) {
  torch::manual_seed(4);
  Gqn gqn(tiny_gqn());
  gqn->set_sigma(0.3);
  auto x_ctx = torch::rand({3, 2, 3, 8, 8}), v_ctx = torch::randn({3, 2, 2});
  auto x_q = torch::rand({3, 3, 8, 8}), v_q = torch::randn({3, 2});
  auto batch = gqn->batch(x_ctx, v_ctx, x_q, v_q);
  torch::manual_seed(21);
  const double loss = gqn->loss().eval(batch).item<double>();

  torch::manual_seed(21);
  auto values = batch;
  values["r"] = gqn->representation()->params(values).at("value");
  // The representation is the sum of each view's own.
  auto one =
      gqn->representation()->params({{"x_ctx", x_ctx.narrow(1, 0, 1)}, {"v_ctx", v_ctx.narrow(1, 0, 1)}});
  auto two =
      gqn->representation()->params({{"x_ctx", x_ctx.narrow(1, 1, 1)}, {"v_ctx", v_ctx.narrow(1, 1, 1)}});
  EXPECT_TRUE(torch::allclose(values["r"], one.at("value") + two.at("value"), 1e-5, 1e-5));
  torch::Tensor kl = torch::zeros({3});
  for (int l = 0; l < 2; ++l) {
    values["s_q_next"] = gqn->inference()->params(values).at("value");
    auto q = gqn->q()->params(values);
    auto pi = gqn->prior()->params(values);
    values["z"] = q["loc"] + q["scale"] * torch::randn_like(q["loc"]);
    kl = kl +
         kl_normal(q["loc"].flatten(1), q["scale"].flatten(1), pi["loc"].flatten(1), pi["scale"].flatten(1));
    values["s_g_next"] = gqn->generator()->params(values).at("value");
    values["u_next"] = gqn->canvas()->params(values).at("value");
    values["s_q"] = values["s_q_next"];
    values["s_g"] = values["s_g_next"];
    values["u"] = values["u_next"];
  }
  auto mean = gqn->p()->params(values).at("loc");
  auto nll = -normal_log_prob(x_q.flatten(1), mean.flatten(1), torch::full_like(mean.flatten(1), 0.3));
  EXPECT_NEAR(loss, (kl + nll).mean().item<double>(), 1e-3);
}

TEST(Gqn, RendersQueriesAndRejectsBadShapes) {
  Gqn gqn(tiny_gqn());
  auto x_ctx = torch::rand({2, 3, 3, 8, 8}), v_ctx = torch::randn({2, 3, 2}), v_q = torch::randn({2, 2});
  auto image = gqn->render(x_ctx, v_ctx, v_q, 2);
  EXPECT_EQ(image.sizes(), (std::vector<std::int64_t>{2, 3, 8, 8}));
  EXPECT_GE(image.min().item<double>(), 0.0);
  EXPECT_LE(image.max().item<double>(), 1.0);
  EXPECT_THROW(gqn->batch(x_ctx, v_ctx, torch::rand({2, 3, 4, 4}), v_q), Error);
  EXPECT_THROW(gqn->batch(x_ctx, torch::randn({2, 3, 5}), torch::rand({2, 3, 8, 8}), v_q), Error);
  EXPECT_THROW(gqn->render(x_ctx, v_ctx, v_q, 0), Error);
  EXPECT_THROW(gqn->set_sigma(0), Error);
  EXPECT_THROW(Gqn(GqnOptions{.image_size = 6}), Error);
}

TEST(Gqn, TrainingLowersTheLoss) {
  torch::manual_seed(0);
  Gqn gqn(tiny_gqn());
  gqn->set_sigma(0.2);
  // One scene colour per pose sign: the query's colour follows from the context.
  auto colour = torch::randint(0, 2, {16}).to(torch::kFloat32);
  auto x_ctx = colour.view({16, 1, 1, 1, 1}).expand({16, 2, 3, 8, 8}).contiguous();
  auto x_q = colour.view({16, 1, 1, 1}).expand({16, 3, 8, 8}).contiguous();
  auto v_ctx = torch::randn({16, 2, 2}), v_q = torch::randn({16, 2});
  torch::optim::Adam opt(gqn->parameters(), torch::optim::AdamOptions(1e-2));
  double first = 0, last = 0;
  for (int step = 0; step < 120; ++step) {
    auto loss = gqn->loss().eval(gqn->batch(x_ctx, v_ctx, x_q, v_q));
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  EXPECT_LT(last, first - 100) << first << " -> " << last;
}

}  // namespace
}  // namespace dojo::prob
