// VAEs (Kingma & Welling 2014) written with dojo's Pixyz-style API: q(z|x) = N(loc, scale) from an MLP
// encoder, p(x|z) Bernoulli from the mirrored decoder, prior N(0, I); loss = mean over images of
// KL[q||prior] − E_q[log p(x|z)] (binary cross-entropy summed over pixels plus KL, one sample).
// Adam 1e-3, batch 128, 10 epochs on Fashion-MNIST. `vae` is PyTorch's example (784-400-20),
// `vae-pixyz` Pixyz's README model (784-512-512, z 64).
#include <torch/torch.h>

#include <chrono>
#include <iostream>

#include "core/csv.h"
#include "core/image.h"
#include "core/run_dir.h"
#include "examples/examples.h"
#include "nn/data.h"
#include "nn/layers.h"
#include "prob/model.h"

namespace dojo::examples {

namespace {

// An MLP from `in` through the hidden ReLU layers; returns the last hidden tensor.
nn::SymbolicTensor relu_stack(nn::SymbolicTensor x, const std::vector<std::int64_t>& hidden) {
  for (auto units : hidden) x = nn::Dense(units, {.activation = "relu"})(x);
  return x;
}

nlohmann::json train_vae(const ExampleOptions& o, const std::string& name,
                         const std::vector<std::int64_t>& hidden, std::int64_t z_dim) {
  auto data = nn::data::load_fashion_mnist(o.data.empty() ? nn::data::kFashionMnistDir : o.data);
  auto train_x = data.train_x.reshape({-1, 784});
  auto test_x = data.test_x.reshape({-1, 784});
  if (o.limit > 0 && o.limit < train_x.size(0)) train_x = train_x.slice(0, 0, o.limit);
  const std::int64_t batch = 128;

  auto x_in = nn::Input({784});
  auto h = relu_stack(x_in, hidden);
  nn::Model encoder(
      x_in,
      std::vector<nn::SymbolicTensor>{nn::Dense(z_dim)(h), nn::Dense(z_dim, {.activation = "softplus"})(h)},
      "encoder");
  auto z_in = nn::Input({z_dim});
  nn::Model decoder(z_in, nn::Dense(784)(relu_stack(z_in, {hidden.rbegin(), hidden.rend()})), "decoder");

  auto q = prob::Normal(encoder, {.var = {"z"}, .cond_var = {"x"}, .name = "q"});
  auto p = prob::Bernoulli(decoder, {.var = {"x"}, .cond_var = {"z"}});
  auto prior = prob::standard_normal({"z"}, {z_dim});
  auto loss = (prob::KL(q, prior) - prob::E(q, prob::LogProb(p))).mean();
  std::cout << "loss: " << loss << "\n";
  prob::Model model(loss, {q, p}, nn::optimizers::Adam(1e-3, 0.9, 0.999, 1e-8));  // PyTorch's Adam defaults

  const auto out = o.out.empty() ? core::create_run_dir({}, name) : o.out;
  core::CsvWriter csv(out / "metrics.csv", {"epoch", "train_loss", "test_loss", "seconds"});
  const auto epochs = o.epochs > 0 ? o.epochs : 10;
  std::vector<double> test_losses, seconds;
  const auto n = train_x.size(0);
  for (std::int64_t epoch = 1; epoch <= epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    auto perm = torch::randperm(n, torch::kLong);
    double train_sum = 0;
    for (std::int64_t b = 0; b < n; b += batch) {
      auto xb = train_x.index_select(0, perm.slice(0, b, std::min(n, b + batch)));
      train_sum += model.train({{"x", xb}}) * static_cast<double>(xb.size(0));
    }
    double test_sum = 0;
    for (std::int64_t b = 0; b < test_x.size(0); b += batch) {
      auto xb = test_x.slice(0, b, std::min(test_x.size(0), b + batch));
      test_sum += model.test({{"x", xb}}) * static_cast<double>(xb.size(0));
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double train_loss = train_sum / static_cast<double>(n),
                 test_loss = test_sum / static_cast<double>(test_x.size(0));
    test_losses.push_back(test_loss);
    seconds.push_back(secs);
    csv.row({static_cast<double>(epoch), train_loss, test_loss, secs});
    if (o.verbose > 0) {
      std::cout << fmt::format("epoch {:>2}/{}: train loss {:.2f}, test loss {:.2f}, {:.1f} s\n", epoch,
                               epochs, train_loss, test_loss, secs)
                << std::flush;
    }
    // Reconstructions (the first 8 test images above their decoded means) and 64 samples of the prior.
    torch::NoGradGuard no_grad;
    auto originals = test_x.slice(0, 0, 8);
    auto recon = p->mean(q->sample({{"x", originals}}));
    core::save_image_grid(out / fmt::format("reconstruction_{:02d}.png", epoch),
                          torch::cat({originals, recon}).view({-1, 28, 28}), 8, 3);
    auto samples = p->mean(prior->sample({}, {.batch_n = 64}));
    core::save_image_grid(out / fmt::format("sample_{:02d}.png", epoch), samples.view({-1, 28, 28}), 8, 3);
  }
  double total = 0;
  for (double s : seconds) total += s;
  std::cout << "run: " << out.string() << "\n";
  return {{"loss", loss.str()},
          {"test_loss", test_losses.back()},
          {"test_loss_per_epoch", test_losses},
          {"seconds_per_epoch", seconds},
          {"mean_seconds_per_epoch", total / static_cast<double>(seconds.size())}};
}

}  // namespace

nlohmann::json vae(const ExampleOptions& o) { return train_vae(o, "vae", {400}, 20); }

// Pixyz's README VAE: q(z|x) 784-512-512 -> loc, softplus scale over z = 64; p(x|z) Bernoulli.
nlohmann::json vae_pixyz(const ExampleOptions& o) { return train_vae(o, "vae-pixyz", {512, 512}, 64); }

}  // namespace dojo::examples
