// Shared by the prob examples (vae, vae-pixyz, cvae, m2, gan): MLP stacks and one-hot labels.
#pragma once
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <vector>

#include "nn/layers.h"

namespace dojo::examples {

// An MLP from x through the hidden layers (ReLU unless told); returns the last hidden tensor.
inline nn::SymbolicTensor hidden_stack(nn::SymbolicTensor x, const std::vector<std::int64_t>& hidden,
                                       const std::string& activation = "relu") {
  for (auto units : hidden) x = nn::Dense(units, {.activation = activation})(x);
  return x;
}

inline torch::Tensor one_hot_labels(const torch::Tensor& labels, std::int64_t classes = 10) {
  return torch::one_hot(labels, classes).to(torch::kFloat32);
}

// Epochs of minibatch training over n_train rows in a fresh random order each epoch, then a pass over
// n_test rows in order: train(rows) takes one step on the rows (a [batch] index tensor) and returns
// the batch's mean loss; test(begin, end) returns the mean loss of that slice. on_epoch(epoch, train
// loss, test loss, seconds) sees each epoch's means (weighted by batch size).
inline void fit_epochs(std::int64_t epochs, std::int64_t n_train, std::int64_t n_test, std::int64_t batch,
                       const std::function<double(const torch::Tensor&)>& train,
                       const std::function<double(std::int64_t, std::int64_t)>& test,
                       const std::function<void(std::int64_t, double, double, double)>& on_epoch) {
  for (std::int64_t epoch = 1; epoch <= epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    auto perm = torch::randperm(n_train, torch::kLong);
    double train_sum = 0, test_sum = 0;
    for (std::int64_t b = 0; b < n_train; b += batch) {
      auto rows = perm.slice(0, b, std::min(n_train, b + batch));
      train_sum += train(rows) * static_cast<double>(rows.size(0));
    }
    for (std::int64_t b = 0; b < n_test; b += batch) {
      const auto e = std::min(n_test, b + batch);
      test_sum += test(b, e) * static_cast<double>(e - b);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    on_epoch(epoch, train_sum / static_cast<double>(n_train), test_sum / static_cast<double>(n_test), secs);
  }
}

}  // namespace dojo::examples
