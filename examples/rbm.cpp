// Restricted Boltzmann machines and a deep belief net on Fashion-MNIST (prob/rbm.h).
// `rbm`: a 500-hidden Bernoulli RBM on the binarised images, trained with CD-1 and with persistent CD,
// each model's test log-likelihood estimated by annealed importance sampling (Salakhutdinov & Murray
// 2008: 100 runs, 14,500 temperatures; 1,450 with --limit), with its filters and Gibbs samples as PNGs.
// `dbn`: a 784-500-500 DBN pre-trained greedily on all 60,000 training images (no labels), then
// fine-tuned as a classifier (sigmoid layers from the RBMs' weights, a softmax on top) on 1,000 labels,
// against the same network from random initialisation on the same labels and steps.
#include "prob/rbm.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "core/csv.h"
#include "core/image.h"
#include "core/run_dir.h"
#include "examples/examples.h"
#include "nn/data.h"
#include "nn/layers.h"
#include "nn/model.h"

namespace dojo::examples {

namespace {

struct Images {
  torch::Tensor train, test;  // [N, 784]
  torch::Tensor train_y, test_y;
};

Images fashion(const ExampleOptions& o) {
  const auto data = nn::data::load_fashion_mnist(o.data.empty() ? nn::data::kFashionMnistDir : o.data);
  Images im{data.train_x.reshape({-1, 784}), data.test_x.reshape({-1, 784}), data.train_y, data.test_y};
  if (o.limit > 0 && o.limit < im.train.size(0)) {
    im.train = im.train.slice(0, 0, o.limit);
    im.train_y = im.train_y.slice(0, 0, o.limit);
  }
  return im;
}

// Rows of [N, 784] as a grid of 28×28 pictures, each stretched to [0, 1] (filters) or as they are.
void save_pictures(const std::filesystem::path& png, torch::Tensor rows, bool stretch) {
  if (stretch) {
    const auto low = std::get<0>(rows.min(1, true)), high = std::get<0>(rows.max(1, true));
    rows = (rows - low) / (high - low).clamp_min(1e-8);
  }
  core::save_image_grid(png, rows.reshape({-1, 28, 28}), 10, 2);
}

}  // namespace

nlohmann::json rbm(const ExampleOptions& o) {
  auto im = fashion(o);
  // A Bernoulli RBM's likelihood is over binary images: each pixel at 0.5.
  const auto train = im.train.gt(0.5).to(torch::kFloat32), test = im.test.gt(0.5).to(torch::kFloat32);
  const auto out = o.out.empty() ? core::create_run_dir({}, "rbm") : o.out;
  const auto epochs = o.epochs > 0 ? o.epochs : 20;
  const auto base_bias = torch::logit(train.mean(0).clamp(1e-3, 1 - 1e-3));
  nlohmann::json result{{"hidden", 500}, {"epochs", epochs}, {"train_images", train.size(0)}};

  // CD-1 with Hinton's guide's settings; PCD without the momentum switch, its rate decaying (Tieleman
  // 2008), since fast weight changes outrun its persistent chains.
  const std::vector<std::pair<std::string, prob::RbmTrainOptions>> methods = {
      {"cd1", prob::RbmTrainOptions().epochs(epochs).learning_rate(0.05).final_learning_rate(0.05)},
      {"pcd", prob::RbmTrainOptions()
                  .epochs(epochs)
                  .persistent(true)
                  .learning_rate(0.02)
                  .final_learning_rate(0.002)
                  .final_momentum(0.5)},
  };
  for (const auto& [name, options] : methods) {
    torch::manual_seed(o.seed);
    prob::Rbm model(784, 500);
    model->init_visible_bias(train);
    core::CsvWriter csv(out / (name + "-metrics.csv"), {"epoch", "reconstruction_error", "seconds"});
    prob::train_rbm(model, train, options, [&, name = name](const prob::RbmEpoch& e) {
      csv.row({static_cast<double>(e.epoch), e.reconstruction_error, e.seconds});
      if (o.verbose > 0)
        std::cout << fmt::format("{} epoch {}/{}: reconstruction error {:.4f} ({:.1f} s)\n", name, e.epoch,
                                 options.epochs(), e.reconstruction_error, e.seconds)
                  << std::flush;
    });
    const auto t0 = std::chrono::steady_clock::now();
    // A quick run (--limit) anneals through a tenth of the temperatures.
    const auto z = prob::ais_log_partition(model, base_bias, 100, o.limit > 0 ? 1'450 : 14'500);
    const double ais_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double ll_test = prob::log_likelihood(model, test, z.log_z);
    const double ll_train = prob::log_likelihood(model, train.slice(0, 0, 10'000), z.log_z);
    std::cout << fmt::format(
        "{}: log Z {:.2f} (AIS band {:.2f} … {:.2f}, {:.1f} effective runs of 100, {:.0f} s); average "
        "log-likelihood test {:.2f}, train {:.2f} nats\n",
        name, z.log_z, z.log_z_low, z.log_z_high, z.effective_runs, ais_seconds, ll_test, ll_train);
    result[name] = {{"log_z", z.log_z},
                    {"log_z_low", z.log_z_low},
                    {"log_z_high", z.log_z_high},
                    {"effective_runs", z.effective_runs},
                    {"test_log_likelihood", ll_test},
                    {"train_log_likelihood", ll_train},
                    {"ais_seconds", ais_seconds}};
    save_pictures(out / (name + "-filters.png"), model->W.detach().t().slice(0, 0, 100), true);
    torch::NoGradGuard no_grad;
    const auto chains = model->gibbs(torch::bernoulli(torch::full({100, 784}, 0.5)), 1000);
    save_pictures(out / (name + "-samples.png"), model->visible_mean(model->hidden_probs(chains)), false);
  }
  // The floor: every pixel independent with the training data's mean (the AIS base model).
  prob::Rbm independent(784, 1);
  {
    torch::NoGradGuard no_grad;
    independent->W.zero_();
    independent->b.copy_(base_bias);
  }
  const double floor = prob::log_likelihood(independent, test,
                                            torch::softplus(base_bias).sum().item<double>() + std::log(2.0));
  result["independent_pixels_test_log_likelihood"] = floor;
  std::cout << fmt::format("independent pixels (the floor): test log-likelihood {:.2f} nats\n", floor);
  return result;
}

namespace {

// 784 → 500 → 500 sigmoid → 10 softmax, the DBN's shape as a classifier.
nn::Sequential dbn_classifier() {
  nn::Sequential net("dbn_classifier");
  net.add(nn::Dense(500, {.activation = "sigmoid", .input_shape = {784}}));
  net.add(nn::Dense(500, {.activation = "sigmoid"}));
  net.add(nn::Dense(10, {.activation = "softmax"}));
  return net;
}

// 100 labelled images of each class, drawn by the seed.
torch::Tensor labelled_rows(const torch::Tensor& labels, std::int64_t per_class) {
  const auto order = torch::randperm(labels.size(0), torch::kLong);
  std::vector<std::int64_t> rows, taken(10, 0);
  for (std::int64_t i = 0; i < order.size(0); ++i) {
    const auto r = order[i].item<std::int64_t>();
    const auto y = labels[r].item<std::int64_t>();
    if (taken[static_cast<std::size_t>(y)] < per_class) {
      ++taken[static_cast<std::size_t>(y)];
      rows.push_back(r);
    }
  }
  return torch::tensor(rows, torch::kLong);
}

}  // namespace

nlohmann::json dbn(const ExampleOptions& o) {
  auto im = fashion(o);
  const auto out = o.out.empty() ? core::create_run_dir({}, "dbn") : o.out;
  const auto epochs = o.epochs > 0 ? o.epochs : 10;
  core::CsvWriter csv(out / "pretraining.csv", {"layer", "epoch", "reconstruction_error", "seconds"});

  // Greedy pre-training on every training image, the grey levels read as probabilities.
  torch::manual_seed(o.seed);
  prob::Dbn dbn(784, {500, 500});
  prob::train_dbn(
      dbn, im.train, prob::RbmTrainOptions().epochs(epochs).learning_rate(0.05),
      [&](std::size_t layer, const prob::RbmEpoch& e) {
        csv.row(
            {static_cast<double>(layer), static_cast<double>(e.epoch), e.reconstruction_error, e.seconds});
        if (o.verbose > 0)
          std::cout << fmt::format("layer {} epoch {}/{}: reconstruction error {:.4f} ({:.1f} s)\n",
                                   layer + 1, e.epoch, epochs, e.reconstruction_error, e.seconds)
                    << std::flush;
      });
  save_pictures(out / "filters.png", dbn.layers[0]->W.detach().t().slice(0, 0, 100), true);
  save_pictures(out / "samples.png", dbn.sample(100, 1000), false);

  // Fine-tuning on 1,000 labels (three draws of them), against random initialisation.
  nlohmann::json result{{"pretraining_epochs", epochs}, {"labels", 1000}};
  std::vector<double> pre, scratch;
  for (std::uint64_t draw = 0; draw < 3; ++draw) {
    torch::manual_seed(o.seed + 1 + draw);
    const auto rows = labelled_rows(im.train_y, 100);
    const auto x = im.train.index_select(0, rows), y = im.train_y.index_select(0, rows);
    for (const bool pretrained : {true, false}) {
      torch::manual_seed(o.seed + 100 + draw);
      auto net = dbn_classifier();
      if (pretrained) {
        torch::NoGradGuard no_grad;
        for (std::size_t l = 0; l < dbn.layers.size(); ++l) {
          auto params = net->layers()[l]->named_parameters();
          params["kernel"].copy_(dbn.layers[l]->W);
          params["bias"].copy_(dbn.layers[l]->c);
        }
      }
      net.compile(nn::optimizers::Adam(3e-4), "sparse_categorical_crossentropy", {"accuracy"});
      net.fit(x, y, {.batch_size = 50, .epochs = 60, .verbose = 0});
      const double acc =
          net->predict(im.test).argmax(1).eq(im.test_y).to(torch::kFloat64).mean().item<double>();
      (pretrained ? pre : scratch).push_back(acc);
      std::cout << fmt::format("labels draw {}: {} test accuracy {:.2f}%\n", draw,
                               pretrained ? "DBN pre-trained" : "random init   ", 100 * acc);
    }
  }
  const auto mean = [](const std::vector<double>& v) {
    return std::accumulate(v.begin(), v.end(), 0.0) / v.size();
  };
  result["pretrained_test_accuracy"] = pre;
  result["random_init_test_accuracy"] = scratch;
  std::cout << fmt::format("1,000 labels, mean of 3 draws: DBN pre-trained {:.2f}%, random init {:.2f}%\n",
                           100 * mean(pre), 100 * mean(scratch));
  return result;
}

}  // namespace dojo::examples
