// TD-VAE (Gregor et al. 2019) on Fashion-MNIST items moving one pixel left or right per frame
// (wrapping), 20 frames, as the paper's moving-MNIST experiment: the two-time-step ELBO with jumps of
// 1..5 frames, Adam 5e-4 (Ding's reproduction), batch 64. The test: from the belief after 10 frames of
// 1,000 test sequences, predict frames t+1..t+5 by jumpy rollouts and count how often each prediction
// is closer (mean squared error) to the item shifted the true way than to the opposite shift.
#include "prob/tdvae.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "core/csv.h"
#include "core/image.h"
#include "core/run_dir.h"
#include "core/seed.h"
#include "examples/examples.h"
#include "examples/prob_util.h"
#include "nn/data.h"
#include "prob/model.h"

namespace dojo::examples {

namespace {

constexpr std::int64_t kFrames = 20, kObserved = 10, kHorizon = 5;

struct DirectionScore {
  double fraction = 0;                // predictions closer to the true shift, over every k
  std::vector<double> fraction_by_k;  // the same for k = 1..horizon
};

// Frames t+1..t+k predicted from sequences whose first kObserved frames are seen. With a `constant`
// image in place of the predictions the score is chance (about half): the check that an item's place
// does not give its direction away.
DirectionScore direction_score(prob::TdVae& model, const torch::Tensor& images, bool jumpy,
                               const torch::Tensor& constant = {}) {
  auto [seqs, direction] = prob::shifting_sequences(images, kObserved);
  auto predicted = constant.defined() ? constant.reshape({1, 1, -1}).expand({kHorizon, images.size(0), -1})
                                      : model->predict(seqs, kHorizon, jumpy);  // [k, n, 784]
  auto last = seqs[kObserved - 1].view({-1, 28, 28});
  const auto n = images.size(0);
  DirectionScore score;
  double hits = 0;
  for (std::int64_t k = 1; k <= kHorizon; ++k) {
    auto shifted = [&](std::int64_t sign) {
      auto right = last.roll(k, 2), left = last.roll(-k, 2);
      return torch::where((direction * sign).gt(0).view({n, 1, 1}), right, left).reshape({n, -1});
    };
    auto err_true = (predicted[k - 1] - shifted(1)).pow(2).mean(1);
    auto err_opposite = (predicted[k - 1] - shifted(-1)).pow(2).mean(1);
    const double h = err_true.lt(err_opposite).sum().item<double>();
    score.fraction_by_k.push_back(h / static_cast<double>(n));
    hits += h;
  }
  score.fraction = hits / static_cast<double>(n * kHorizon);
  return score;
}

}  // namespace

nlohmann::json tdvae(const ExampleOptions& o) {
  auto data = nn::data::load_fashion_mnist(o.data.empty() ? nn::data::kFashionMnistDir : o.data);
  auto train_images = data.train_x.reshape({-1, 28, 28});
  auto test_images = data.test_x.reshape({-1, 28, 28}).slice(0, 0, 1000);
  if (o.limit > 0 && o.limit < train_images.size(0)) train_images = train_images.slice(0, 0, o.limit);

  prob::TdVae td(prob::TdVaeOptions{});
  std::cout << "loss: " << td->loss() << "\n";
  prob::Model model(td->loss(), td->distributions(), nn::optimizers::Adam(5e-4, 0.9, 0.999, 1e-8), 10.0);

  const auto out = o.out.empty() ? core::create_run_dir({}, "tdvae") : o.out;
  core::CsvWriter csv(out / "metrics.csv",
                      {"epoch", "train_loss", "test_loss", "direction_jumpy", "seconds"});
  // Fixed test sequences (their own seed) so every epoch is scored on the same ones.
  auto test_batch = [&](std::int64_t b, std::int64_t e) {
    prob::Dict out;
    core::with_seed(1'000'000 + static_cast<std::uint64_t>(b), [&] {
      out = td->batch(prob::shifting_sequences(test_images.slice(0, b, e), kFrames).first);
    });
    return out;
  };
  const std::int64_t batch = 64;
  const double pairs = static_cast<double>(kFrames - td->options().max_jump);
  double test_loss = 0, seconds = 0;
  DirectionScore jumpy, stepwise;
  fit_epochs(
      o.epochs > 0 ? o.epochs : 10, train_images.size(0), test_images.size(0), batch,
      [&](const torch::Tensor& rows) {
        auto seqs = prob::shifting_sequences(train_images.index_select(0, rows), kFrames).first;
        return model.train(td->batch(seqs));
      },
      [&](std::int64_t b, std::int64_t e) { return model.test(test_batch(b, e)); },
      [&](std::int64_t epoch, double train_loss, double test, double secs) {
        test_loss = test;
        seconds += secs;
        core::with_seed(7, [&] { jumpy = direction_score(td, test_images, true); });
        csv.row({static_cast<double>(epoch), train_loss, test, jumpy.fraction, secs});
        if (o.verbose > 0) {
          std::cout
              << fmt::format(
                     "epoch {:>2}: train loss {:.1f}, test loss {:.1f} ({:.2f} per pair), direction kept "
                     "{:.1f}%, {:.1f} s\n",
                     epoch, train_loss, test, test / pairs, 100 * jumpy.fraction, secs)
              << std::flush;
        }
      });
  core::with_seed(7, [&] { stepwise = direction_score(td, test_images, false); });
  DirectionScore chance;
  core::with_seed(7, [&] { chance = direction_score(td, test_images, true, train_images.mean(0)); });
  // Eight test sequences: the 10 frames seen, then the true next five beside the jumpy predictions.
  torch::Tensor rows;
  core::with_seed(7, [&] {
    auto seqs = prob::shifting_sequences(test_images.slice(0, 0, 8), kObserved + kHorizon).first;
    auto predicted = td->predict(seqs.slice(0, 0, kObserved), kHorizon, true);
    rows = torch::cat({seqs, predicted}).transpose(0, 1).reshape({-1, 28, 28});
  });
  core::save_image_grid(out / "rollouts.png", rows, kObserved + 2 * kHorizon, 3);
  std::cout << "run: " << out.string() << "\n";
  return {{"loss", td->loss().str()},
          {"test_loss", test_loss},
          {"test_loss_per_pair", test_loss / pairs},
          {"direction_kept_jumpy", jumpy.fraction},
          {"direction_kept_jumpy_by_k", jumpy.fraction_by_k},
          {"direction_kept_stepwise", stepwise.fraction},
          {"direction_kept_stepwise_by_k", stepwise.fraction_by_k},
          {"direction_kept_by_the_mean_image", chance.fraction},
          {"test_sequences", test_images.size(0)},
          {"seconds", seconds}};
}

}  // namespace dojo::examples
