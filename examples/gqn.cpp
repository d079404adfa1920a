// A small GQN (Eslami et al. 2018) on rooms drawn here (nn/scenes.h: coloured walls, one to three
// spheres and cubes, a camera on a ring looking at the centre): 2,000 training scenes of 10 views at
// 32 × 32, new ones every epoch. Each step takes 32 scenes, 1 to 5 of their views as context and another as
// the query; Adam 5e-4, pixel σ annealed 0.5 → 0.1 as GQN does (2.0 → 0.7 there, on a wider pixel scale). The
// test: 200 held-out scenes, views 0–4 as context, views 5–9 rendered and compared per pixel with the nearest
// context view (camera position), the mean of the context views and the training set's mean image.
#include "prob/gqn.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/checkpoint.h"
#include "core/csv.h"
#include "core/image.h"
#include "core/run_dir.h"
#include "core/seed.h"
#include "examples/examples.h"
#include "nn/model.h"
#include "nn/scenes.h"
#include "prob/model.h"

namespace dojo::examples {

namespace {

constexpr std::int64_t kViews = 10, kContext = 5, kGqnBatch = 32;

// uint8 [N, V, S, S, 3] -> float [N, V, 3, S, S] in [0, 1].
torch::Tensor to_float(const torch::Tensor& images) {
  return images.permute({0, 1, 4, 2, 3}).to(torch::kFloat32).div(255.0).contiguous();
}

struct Baselines {
  double model = 0, nearest = 0, context_mean = 0, dataset_mean = 0;
  double beats_nearest = 0, beats_context_mean = 0, beats_dataset_mean = 0;  // fractions of queries
};

Baselines evaluate(prob::Gqn& gqn, const torch::Tensor& x, const torch::Tensor& v,
                   const torch::Tensor& mean_image, torch::Tensor* first_predictions) {
  torch::NoGradGuard no_grad;
  const auto n = x.size(0);
  auto x_ctx = x.narrow(1, 0, kContext), v_ctx = v.narrow(1, 0, kContext);
  auto per_pixel = [](const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).pow(2).mean({1, 2, 3});
  };
  Baselines out;
  std::int64_t queries = 0;
  for (std::int64_t qv = kContext; qv < kViews; ++qv) {
    auto x_q = x.select(1, qv), v_q = v.select(1, qv);
    torch::Tensor predicted;
    for (std::int64_t b = 0; b < n; b += 50) {
      const auto e = std::min(n, b + 50);
      auto part = gqn->render(x_ctx.slice(0, b, e), v_ctx.slice(0, b, e), v_q.slice(0, b, e), 4);
      predicted = predicted.defined() ? torch::cat({predicted, part}) : part;
    }
    if (qv == kContext && first_predictions) *first_predictions = predicted;
    // The context view whose camera stood nearest the query's.
    auto distance = (v_ctx.narrow(2, 0, 3) - v_q.narrow(1, 0, 3).unsqueeze(1)).norm(2, 2);  // [n, K]
    auto nearest = x_ctx.index({torch::arange(n), distance.argmin(1)});
    auto e_model = per_pixel(predicted, x_q), e_nearest = per_pixel(nearest, x_q),
         e_ctx = per_pixel(x_ctx.mean(1), x_q), e_mean = per_pixel(mean_image.expand_as(x_q), x_q);
    out.model += e_model.sum().item<double>();
    out.nearest += e_nearest.sum().item<double>();
    out.context_mean += e_ctx.sum().item<double>();
    out.dataset_mean += e_mean.sum().item<double>();
    out.beats_nearest += e_model.lt(e_nearest).sum().item<double>();
    out.beats_context_mean += e_model.lt(e_ctx).sum().item<double>();
    out.beats_dataset_mean += e_model.lt(e_mean).sum().item<double>();
    queries += n;
  }
  for (double* f : {&out.model, &out.nearest, &out.context_mean, &out.dataset_mean, &out.beats_nearest,
                    &out.beats_context_mean, &out.beats_dataset_mean}) {
    *f /= static_cast<double>(queries);
  }
  return out;
}

}  // namespace

nlohmann::json gqn(const ExampleOptions& o) {
  const std::int64_t train_scenes = o.limit > 0 ? o.limit : 2000;
  // Every epoch draws new rooms (the ray caster makes 20,000 views in under 2 s), so no scene is seen
  // twice: GQN's regime of far more scenes than steps. The test rooms come from their own seed stream.
  auto rooms_of_epoch = [&](std::int64_t epoch) {
    return nn::data::render_rooms(
        {.scenes = train_scenes,
         .views = kViews,
         .seed = core::derive_seed(o.seed, "gqn-rooms", static_cast<std::uint64_t>(epoch))});
  };
  auto train = rooms_of_epoch(0);
  auto test =
      nn::data::render_rooms({.scenes = 200, .views = kViews, .seed = core::derive_seed(o.seed, "gqn-test")});
  auto x_train = to_float(train.images), v_train = train.viewpoints;
  auto x_test = to_float(test.images), v_test = test.viewpoints;
  auto mean_image = x_train.mean(std::vector<std::int64_t>{0, 1});

  prob::Gqn gqn_model(prob::GqnOptions{});
  std::cout << "loss: " << gqn_model->loss() << "\n";
  prob::Model model(gqn_model->loss(), gqn_model->distributions(),
                    nn::optimizers::Adam(5e-4, 0.9, 0.999, 1e-8), 10.0);

  // A long run: every 5 epochs (and at the end) out/checkpoint.ckpt keeps the weights, Adam's state,
  // the epoch, the seconds spent and the random stream; run the same command again to go on from it.
  const auto out = o.out.empty() ? core::create_run_dir({}, "gqn") : o.out;
  const auto checkpoint = out / "checkpoint.ckpt";
  std::int64_t first_epoch = 1;
  double seconds = 0;
  if (std::filesystem::exists(checkpoint)) {
    core::CheckpointReader r(checkpoint);
    model.get(r);
    first_epoch = r.get_int("epoch") + 1;
    seconds = r.get_double("seconds");
    auto generator = at::detail::getDefaultCPUGenerator();  // a handle: the same generator
    generator.set_state(r.get_tensor("rng"));
    std::cout << "resumed " << checkpoint.string() << " after epoch " << first_epoch - 1 << "\n";
  }
  core::CsvWriter csv(out / "metrics.csv",
                      {"epoch", "train_loss", "sigma", "test_mse", "nearest_view_mse", "seconds"},
                      /*append=*/first_epoch > 1);
  // An epoch shows each training scene once, as a query with 1..5 of its other views as context.
  const std::int64_t epochs = o.epochs > 0 ? o.epochs : 60;
  const std::int64_t steps_per_epoch = (train_scenes + kGqnBatch - 1) / kGqnBatch,
                     total = epochs * steps_per_epoch;
  std::int64_t step = (first_epoch - 1) * steps_per_epoch;
  Baselines last;
  for (std::int64_t epoch = first_epoch; epoch <= epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    if (epoch > 1) {  // epoch 1 trains on rooms_of_epoch(0), drawn above
      train = rooms_of_epoch(epoch - 1);
      x_train = to_float(train.images);
      v_train = train.viewpoints;
    }
    auto perm = torch::randperm(train_scenes, torch::kLong);
    double loss_sum = 0;
    for (std::int64_t b = 0; b < train_scenes; b += kGqnBatch, ++step) {
      gqn_model->set_sigma(std::max(0.1, 0.5 - 0.4 * static_cast<double>(step) / static_cast<double>(total)));
      auto rows = perm.slice(0, b, std::min(train_scenes, b + kGqnBatch));
      const auto n = rows.size(0);
      const auto k = torch::randint(1, kContext + 1, {1}, torch::kLong).item<std::int64_t>();
      auto order = torch::rand({n, kViews})
                       .argsort(/*dim=*/1, /*descending=*/false);  // a random choice of views per scene
      auto pick = [&](const torch::Tensor& t, std::int64_t from, std::int64_t count) {
        auto idx = order.narrow(1, from, count);
        auto scene = t.index_select(0, rows);
        return scene.index({torch::arange(n, torch::kLong).unsqueeze(1), idx});
      };
      auto x_q = pick(x_train, k, 1).squeeze(1), v_q = pick(v_train, k, 1).squeeze(1);
      loss_sum += model.train(gqn_model->batch(pick(x_train, 0, k), pick(v_train, 0, k), x_q, v_q)) *
                  static_cast<double>(n);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    seconds += secs;
    const bool report = epoch == epochs || epoch % 10 == 0;
    if (report) core::with_seed(11, [&] { last = evaluate(gqn_model, x_test, v_test, mean_image, nullptr); });
    const double train_loss = loss_sum / static_cast<double>(train_scenes);
    csv.row({static_cast<double>(epoch), train_loss, gqn_model->sigma(), report ? last.model : NAN,
             report ? last.nearest : NAN, secs});
    if (o.verbose > 0) {
      std::cout << fmt::format("epoch {:>3}: train loss {:.1f} (σ {:.3f}), {:.1f} s", epoch, train_loss,
                               gqn_model->sigma(), secs);
      if (report)
        std::cout << fmt::format(", test per-pixel MSE {:.5f} (nearest view {:.5f})", last.model,
                                 last.nearest);
      std::cout << "\n" << std::flush;
    }
    if (epoch % 5 == 0 || epoch == epochs) {
      core::CheckpointWriter w;
      model.put(w);
      w.put("epoch", epoch);
      w.put("seconds", seconds);
      w.put("rng", at::detail::getDefaultCPUGenerator().get_state());
      w.save(checkpoint);
    }
  }
  // Eight held-out scenes: the five context views, the true query view 5, the rendering.
  torch::Tensor predicted;
  core::with_seed(11, [&] { last = evaluate(gqn_model, x_test, v_test, mean_image, &predicted); });
  auto rows = torch::cat(
      {x_test.slice(0, 0, 8).narrow(1, 0, kContext + 1), predicted.slice(0, 0, 8).unsqueeze(1)}, 1);
  core::save_image_grid(out / "views.png", rows.reshape({-1, 3, 32, 32}).permute({0, 2, 3, 1}), kContext + 2,
                        4);
  std::cout << "run: " << out.string() << "\n";
  return {{"loss", gqn_model->loss().str()},
          {"scenes_per_epoch", train_scenes},
          {"scenes_seen", train_scenes * epochs},
          {"hours", seconds / 3600.0},
          {"steps", step},
          {"test_queries", x_test.size(0) * (kViews - kContext)},
          {"mse_model", last.model},
          {"mse_nearest_context_view", last.nearest},
          {"mse_context_mean", last.context_mean},
          {"mse_dataset_mean", last.dataset_mean},
          {"beats_nearest_context_view", last.beats_nearest},
          {"beats_context_mean", last.beats_context_mean},
          {"beats_dataset_mean", last.beats_dataset_mean},
          {"seconds", seconds}};
}

}  // namespace dojo::examples
