// VAEs (Kingma & Welling 2014) written with dojo's Pixyz-style API: q(z|x) = N(loc, scale) from an MLP
// encoder, p(x|z) Bernoulli from the mirrored decoder, prior N(0, I); loss = mean over images of
// KL[q||prior] − E_q[log p(x|z)] (binary cross-entropy summed over pixels plus KL, one sample).
// Adam 1e-3, batch 128, 10 epochs on Fashion-MNIST. `vae` is PyTorch's example (784-400-20),
// `vae-pixyz` Pixyz's README model (784-512-512, z 64).
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
#include "nn/layers.h"
#include "prob/model.h"

namespace dojo::examples {

namespace {

nlohmann::json train_vae(const ExampleOptions& o, const std::string& name,
                         const std::vector<std::int64_t>& hidden, std::int64_t z_dim,
                         bool conditional = false) {
  auto data = nn::data::load_fashion_mnist(o.data.empty() ? nn::data::kFashionMnistDir : o.data);
  auto train_x = data.train_x.reshape({-1, 784});
  auto test_x = data.test_x.reshape({-1, 784});
  // The CVAE conditions both networks on the one-hot label y.
  auto train_y = one_hot_labels(data.train_y), test_y = one_hot_labels(data.test_y);
  if (o.limit > 0 && o.limit < train_x.size(0)) {
    train_x = train_x.slice(0, 0, o.limit);
    train_y = train_y.slice(0, 0, o.limit);
  }
  const std::int64_t batch = 128;

  auto x_in = nn::Input({784}), y_in = nn::Input({10}), z_in = nn::Input({z_dim});
  auto h = hidden_stack(conditional ? nn::Concatenate()({x_in, y_in}) : x_in, hidden);
  auto enc_in =
      conditional ? std::vector<nn::SymbolicTensor>{x_in, y_in} : std::vector<nn::SymbolicTensor>{x_in};
  nn::Model encoder(
      enc_in,
      std::vector<nn::SymbolicTensor>{nn::Dense(z_dim)(h), nn::Dense(z_dim, {.activation = "softplus"})(h)},
      "encoder");
  auto dec_in =
      conditional ? std::vector<nn::SymbolicTensor>{z_in, y_in} : std::vector<nn::SymbolicTensor>{z_in};
  auto g =
      hidden_stack(conditional ? nn::Concatenate()({z_in, y_in}) : z_in, {hidden.rbegin(), hidden.rend()});
  nn::Model decoder(dec_in, std::vector<nn::SymbolicTensor>{nn::Dense(784)(g)}, "decoder");

  const std::vector<std::string> q_cond =
      conditional ? std::vector<std::string>{"x", "y"} : std::vector<std::string>{"x"};
  const std::vector<std::string> p_cond =
      conditional ? std::vector<std::string>{"z", "y"} : std::vector<std::string>{"z"};
  auto q = prob::Normal(encoder, {.var = {"z"}, .cond_var = q_cond, .name = "q"});
  auto p = prob::Bernoulli(decoder, {.var = {"x"}, .cond_var = p_cond});
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
      auto rows = perm.slice(0, b, std::min(n, b + batch));
      auto xb = train_x.index_select(0, rows);
      prob::Dict batch_dict{{"x", xb}};
      if (conditional) batch_dict["y"] = train_y.index_select(0, rows);
      train_sum += model.train(batch_dict) * static_cast<double>(xb.size(0));
    }
    double test_sum = 0;
    for (std::int64_t b = 0; b < test_x.size(0); b += batch) {
      const auto e = std::min(test_x.size(0), b + batch);
      prob::Dict batch_dict{{"x", test_x.slice(0, b, e)}};
      if (conditional) batch_dict["y"] = test_y.slice(0, b, e);
      test_sum += model.test(batch_dict) * static_cast<double>(e - b);
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
    // Reconstructions (the first 8 test images above their decoded means) and 64 samples of the prior;
    // for the CVAE one row of 8 per class.
    torch::NoGradGuard no_grad;
    prob::Dict originals{{"x", test_x.slice(0, 0, 8)}, {"y", test_y.slice(0, 0, 8)}};
    auto recon = p->mean(q->sample(originals));
    core::save_image_grid(out / fmt::format("reconstruction_{:02d}.png", epoch),
                          torch::cat({originals["x"], recon}).view({-1, 28, 28}), 8, 3);
    auto prior_draw = prior->sample({}, {.batch_n = conditional ? 80 : 64});
    if (conditional) prior_draw["y"] = one_hot_labels(torch::arange(10, torch::kLong).repeat_interleave(8));
    auto samples = p->mean(prior_draw);
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

// The conditional VAE (Sohn et al. 2015): q(z|x,y), p(x|z,y) with the one-hot class y; sample grids
// hold one row per class.
nlohmann::json cvae(const ExampleOptions& o) { return train_vae(o, "cvae", {400}, 20, true); }

}  // namespace dojo::examples
