// A GAN (Goodfellow et al. 2014) written with dojo's Pixyz-style API: the generator is the marginal
// ∫p(x|z)p(z)dz of a Deterministic network over N(0, I) noise, the discriminator d(t|x) a
// Deterministic giving a logit, the loss D_JS^Adv[p_data(x)||p(x)] with the non-saturating generator
// objective. MLPs with LeakyReLU(0.2), Adam 2e-4 (β1 = 0.5), batch 64, on Fashion-MNIST. Whether the
// samples cover every class is measured with a classifier trained here on the real data.
#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/csv.h"
#include "core/image.h"
#include "core/run_dir.h"
#include "examples/examples.h"
#include "examples/prob_util.h"
#include "nn/data.h"
#include "prob/models.h"

namespace dojo::examples {

namespace {
constexpr std::int64_t kNoise = 64, kGanBatch = 64, kSamples = 10'000;
}

nlohmann::json gan(const ExampleOptions& o) {
  auto data = nn::data::load_fashion_mnist(o.data.empty() ? nn::data::kFashionMnistDir : o.data);
  auto train_x = data.train_x.reshape({-1, 784}), test_x = data.test_x.reshape({-1, 784});
  if (o.limit > 0 && o.limit < train_x.size(0)) train_x = train_x.slice(0, 0, o.limit);
  const auto epochs = o.epochs > 0 ? o.epochs : 20;

  // The judge: an MLP classifier of real images (784-512-10), 5 epochs.
  auto cx = nn::Input({784});
  nn::Model judge(cx, nn::Dense(10, {.activation = "softmax"})(hidden_stack(cx, {512})), "judge");
  judge.compile(nn::optimizers::Adam(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
  judge.fit(data.train_x.reshape({-1, 784}), data.train_y, {.batch_size = 128, .epochs = 5, .verbose = 0});
  const double judge_acc = judge.evaluate(test_x, data.test_y, 256).at("accuracy");
  std::cout << fmt::format("judge: an MLP classifier at {:.2f}% test accuracy\n", 100 * judge_acc);

  auto z_in = nn::Input({kNoise});
  nn::Model generator(
      z_in, nn::Dense(784, {.activation = "sigmoid"})(hidden_stack(z_in, {256, 512, 1024}, "leaky_relu")),
      "generator");
  auto x_in = nn::Input({784});
  // Dropout in the discriminator keeps it from winning outright early on.
  auto h = x_in;
  for (std::int64_t units : {512, 256})
    h = nn::Dropout(0.3)(nn::Dense(units, {.activation = "leaky_relu"})(h));
  nn::Model discriminator(x_in, nn::Dense(1)(h), "discriminator");
  auto p = prob::Deterministic(generator, {.var = {"x"}, .cond_var = {"z"}});
  auto prior = prob::standard_normal({"z"}, {kNoise});
  auto p_x = (p * prior)->marginalize_var({"z"});
  auto d = prob::Deterministic(discriminator, {.var = {"t"}, .cond_var = {"x"}, .name = "d"});
  const auto adam = nn::optimizers::Adam(2e-4, 0.5, 0.999);
  prob::GAN model(p_x, d, adam, {.optimizer = adam});
  std::cout << "loss: " << model.loss() << "\n";

  // Samples of the generator, classified by the judge: the share of each class.
  auto histogram = [&] {
    torch::NoGradGuard no_grad;
    auto x = p_x->sample({}, {.batch_n = kSamples}).at("x");
    auto counts = torch::bincount(judge->predict(x).argmax(1), {}, 10).to(torch::kFloat64) / kSamples;
    return std::vector<double>(counts.data_ptr<double>(), counts.data_ptr<double>() + 10);
  };

  const auto out = o.out.empty() ? core::create_run_dir({}, "gan") : o.out;
  core::CsvWriter csv(out / "metrics.csv", {"epoch", "train_loss", "test_loss", "seconds",
                                            "discriminator_loss", "min_class_share"});
  auto fixed_noise = prior->sample({}, {.batch_n = 64});
  std::vector<double> seconds, shares;
  const auto n = train_x.size(0);
  for (std::int64_t epoch = 1; epoch <= epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    auto perm = torch::randperm(n, torch::kLong);
    double g_sum = 0, d_sum = 0;
    std::int64_t batches = 0;
    for (std::int64_t b = 0; b + kGanBatch <= n; b += kGanBatch, ++batches) {
      auto [g, dl] = model.train({{"x", train_x.index_select(0, perm.slice(0, b, b + kGanBatch))}});
      g_sum += g;
      d_sum += dl;
    }
    // Test loss: the generator's objective against the test images' batch size (no gradients).
    double test_sum = 0;
    std::int64_t test_batches = 0;
    for (std::int64_t b = 0; b + kGanBatch <= test_x.size(0); b += kGanBatch, ++test_batches) {
      test_sum += model.generator().test({{"x", test_x.slice(0, b, b + kGanBatch)}});
    }
    shares = histogram();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    seconds.push_back(secs);
    const double g_loss = g_sum / static_cast<double>(batches), d_loss = d_sum / static_cast<double>(batches);
    const double min_share = *std::min_element(shares.begin(), shares.end());
    csv.row({static_cast<double>(epoch), g_loss, test_sum / static_cast<double>(test_batches), secs, d_loss,
             min_share});
    if (o.verbose > 0) {
      std::cout
          << fmt::format(
                 "epoch {:>2}/{}: generator loss {:.3f}, discriminator loss {:.3f}, smallest class share "
                 "{:.1f}%, {:.1f} s\n",
                 epoch, epochs, g_loss, d_loss, 100 * min_share, secs)
          << std::flush;
    }
    torch::NoGradGuard no_grad;
    core::save_image_grid(out / fmt::format("sample_{:02d}.png", epoch),
                          p->mean(fixed_noise).view({-1, 28, 28}), 8, 3);
  }
  std::cout << "class shares of " << kSamples << " samples:";
  for (std::size_t c = 0; c < shares.size(); ++c) std::cout << fmt::format(" {}:{:.1f}%", c, 100 * shares[c]);
  std::cout << "\n";
  double total = 0;
  for (double s : seconds) total += s;
  std::cout << "run: " << out.string() << "\n";
  return {{"loss", model.loss().str()},
          {"judge_test_accuracy", judge_acc},
          {"class_shares", shares},
          {"min_class_share", *std::min_element(shares.begin(), shares.end())},
          {"seconds_per_epoch", seconds},
          {"mean_seconds_per_epoch", total / static_cast<double>(seconds.size())}};
}

}  // namespace dojo::examples
