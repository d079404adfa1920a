// M2 (Kingma et al. 2014, "Semi-supervised learning with deep generative models") written with
// dojo's Pixyz-style API, on Fashion-MNIST with 100 labels (10 per class) and the other images
// unlabelled. The classifier f(y|x) is trained by the labelled likelihood and, through its
// Gumbel-softmax relaxation, by the ELBO of every unlabelled image. The same classifier trained on
// the 100 labels alone is the baseline.
#include <torch/torch.h>

#include <chrono>
#include <iostream>

#include "core/csv.h"
#include "core/image.h"
#include "core/run_dir.h"
#include "examples/examples.h"
#include "examples/prob_util.h"
#include "nn/data.h"
#include "prob/models.h"

namespace dojo::examples {

namespace {

constexpr std::int64_t kHidden = 500, kZ = 50, kBatch = 128, kPerClass = 10;

// 784 -> 500 ReLU -> 10 softmax: f(y|x), and the baseline.
nn::Model classifier_net() {
  auto x = nn::Input({784});
  return nn::Model(x, nn::Dense(10, {.activation = "softmax"})(hidden_stack(x, {kHidden})), "classifier");
}

double accuracy(const nn::Model& net, const torch::Tensor& x, const torch::Tensor& labels) {
  torch::NoGradGuard no_grad;
  return net->predict(x).argmax(1).eq(labels).to(torch::kFloat64).mean().item<double>();
}

// kPerClass images of each class, picked by the seed's permutation.
torch::Tensor pick_labelled(const torch::Tensor& labels) {
  auto perm = torch::randperm(labels.size(0), torch::kLong);
  std::vector<std::int64_t> rows, count(10, 0);
  auto y = labels.index_select(0, perm);
  for (std::int64_t i = 0; i < perm.size(0) && static_cast<std::int64_t>(rows.size()) < 10 * kPerClass; ++i) {
    const auto c = y[i].item<std::int64_t>();
    if (count[c] < kPerClass) {
      ++count[c];
      rows.push_back(perm[i].item<std::int64_t>());
    }
  }
  return torch::tensor(rows, torch::kLong);
}

}  // namespace

nlohmann::json m2(const ExampleOptions& o) {
  auto data = nn::data::load_fashion_mnist(o.data.empty() ? nn::data::kFashionMnistDir : o.data);
  auto train_x = data.train_x.reshape({-1, 784}), test_x = data.test_x.reshape({-1, 784});
  auto unlabelled = train_x;
  if (o.limit > 0 && o.limit < unlabelled.size(0)) unlabelled = unlabelled.slice(0, 0, o.limit);
  const auto rows = pick_labelled(data.train_y);
  const auto lab_x = train_x.index_select(0, rows), lab_labels = data.train_y.index_select(0, rows);
  const auto lab_y = one_hot_labels(lab_labels);
  const auto epochs = o.epochs > 0 ? o.epochs : 10;

  // The baseline: the same classifier on the 100 labels alone, as many gradient steps as M2 takes.
  auto baseline = classifier_net();
  baseline.compile(nn::optimizers::Adam(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
  const auto steps = epochs * ((unlabelled.size(0) + kBatch - 1) / kBatch);
  baseline.fit(lab_x, lab_labels, {.batch_size = 10 * kPerClass, .epochs = steps, .verbose = 0});
  const double baseline_acc = accuracy(baseline, test_x, data.test_y);
  std::cout << fmt::format("classifier on {} labels alone: test accuracy {:.2f}%\n", lab_x.size(0),
                           100 * baseline_acc);

  // q(z|x,y), p(x|z,y), p(z) and f(y|x) (seen as a categorical and as its relaxation).
  auto x_in = nn::Input({784}), y_in = nn::Input({10}), z_in = nn::Input({kZ});
  auto h = hidden_stack(nn::Concatenate()({x_in, y_in}), {kHidden});
  nn::Model encoder(
      {x_in, y_in},
      std::vector<nn::SymbolicTensor>{nn::Dense(kZ)(h), nn::Dense(kZ, {.activation = "softplus"})(h)},
      "encoder");
  nn::Model decoder({z_in, y_in}, nn::Dense(784)(hidden_stack(nn::Concatenate()({z_in, y_in}), {kHidden})),
                    "decoder");
  auto cls = classifier_net();
  prob::M2Parts parts{
      .q = prob::Normal(encoder, {.var = {"z"}, .cond_var = {"x", "y"}, .name = "q"}),
      .p = prob::Bernoulli(decoder, {.var = {"x"}, .cond_var = {"z", "y"}}),
      .prior = prob::standard_normal({"z"}, {kZ}),
      .classifier = prob::OneHotCategorical(cls, {.var = {"y"}, .cond_var = {"x"}, .name = "f"}),
      // Kingma et al.'s α = 0.1·N on sums over the data is 0.1·(labelled rows) on per-row means.
      .alpha = 0.1 * static_cast<double>(lab_x.size(0)),
  };
  auto model = prob::M2(parts, nn::optimizers::Adam(1e-3));
  std::cout << "loss: " << model.loss() << "\n";
  // Test loss: the labelled bound −ELBO(x, y) per image.
  auto test_loss_fn = -prob::ELBO(parts.p * parts.prior, parts.q).mean();

  const auto out = o.out.empty() ? core::create_run_dir({}, "m2") : o.out;
  core::CsvWriter csv(out / "metrics.csv", {"epoch", "train_loss", "test_loss", "seconds", "test_accuracy"});
  std::vector<double> accuracies, seconds;
  const auto n = unlabelled.size(0);
  for (std::int64_t epoch = 1; epoch <= epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    auto perm = torch::randperm(n, torch::kLong);
    double train_sum = 0;
    for (std::int64_t b = 0; b < n; b += kBatch) {
      auto xb = unlabelled.index_select(0, perm.slice(0, b, std::min(n, b + kBatch)));
      train_sum += model.train({{"x", lab_x}, {"y", lab_y}, {"x_u", xb}}) * static_cast<double>(xb.size(0));
    }
    double test_sum = 0;
    for (std::int64_t b = 0; b < test_x.size(0); b += kBatch) {
      const auto e = std::min(test_x.size(0), b + kBatch);
      torch::NoGradGuard no_grad;
      test_sum +=
          test_loss_fn.eval({{"x", test_x.slice(0, b, e)}, {"y", one_hot_labels(data.test_y.slice(0, b, e))}})
              .item<double>() *
          static_cast<double>(e - b);
    }
    const double acc = accuracy(cls, test_x, data.test_y);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double train_loss = train_sum / static_cast<double>(n),
                 test_loss = test_sum / static_cast<double>(test_x.size(0));
    accuracies.push_back(acc);
    seconds.push_back(secs);
    csv.row({static_cast<double>(epoch), train_loss, test_loss, secs, acc});
    if (o.verbose > 0) {
      std::cout
          << fmt::format(
                 "epoch {:>2}/{}: train loss {:.2f}, test loss {:.2f}, test accuracy {:.2f}%, {:.1f} s\n",
                 epoch, epochs, train_loss, test_loss, 100 * acc, secs)
          << std::flush;
    }
    // Reconstructions through the classifier's guess, and one row of samples per class.
    torch::NoGradGuard no_grad;
    auto originals = test_x.slice(0, 0, 8);
    prob::Dict given{{"x", originals}, {"y", one_hot_labels(cls->predict(originals).argmax(1))}};
    auto recon = parts.p->mean(parts.q->sample(given));
    core::save_image_grid(out / fmt::format("reconstruction_{:02d}.png", epoch),
                          torch::cat({originals, recon}).view({-1, 28, 28}), 8, 3);
    auto prior_draw = parts.prior->sample({}, {.batch_n = 80});
    prior_draw["y"] = one_hot_labels(torch::arange(10, torch::kLong).repeat_interleave(8));
    core::save_image_grid(out / fmt::format("sample_{:02d}.png", epoch),
                          parts.p->mean(prior_draw).view({-1, 28, 28}), 8, 3);
  }
  double total = 0;
  for (double s : seconds) total += s;
  std::cout << fmt::format(
      "M2 test accuracy {:.2f}% against {:.2f}% for the classifier alone ({:+.2f} points)\n",
      100 * accuracies.back(), 100 * baseline_acc, 100 * (accuracies.back() - baseline_acc));
  std::cout << "run: " << out.string() << "\n";
  return {{"loss", model.loss().str()},
          {"labels", lab_x.size(0)},
          {"test_accuracy", accuracies.back()},
          {"test_accuracy_per_epoch", accuracies},
          {"baseline_test_accuracy", baseline_acc},
          {"gain_points", 100 * (accuracies.back() - baseline_acc)},
          {"seconds_per_epoch", seconds},
          {"mean_seconds_per_epoch", total / static_cast<double>(seconds.size())}};
}

}  // namespace dojo::examples
