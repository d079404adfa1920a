// Losses and metrics by their Keras names. Both give one value per sample, so fit can weight samples
// (class_weight) and average over an epoch exactly.
#pragma once
#include <torch/types.h>

#include <functional>
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn {

// (y_pred, y_true) -> [batch]
using SampleFn = std::function<torch::Tensor(const torch::Tensor& y_pred, const torch::Tensor& y_true)>;

struct LossOptions {
  bool from_logits = false;  // cross-entropies: y_pred holds logits, not probabilities
  double delta = 1.0;        // huber
};

// mse (mean_squared_error), mae (mean_absolute_error), huber, binary_crossentropy,
// categorical_crossentropy, sparse_categorical_crossentropy, kl_divergence; or a function of one's own.
class Loss {
 public:
  Loss(const char* name) : Loss(std::string(name)) {}       // NOLINT: names convert, as in Keras
  Loss(const std::string& name, LossOptions options = {});  // NOLINT
  Loss(std::string name, SampleFn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  const std::string& name() const { return name_; }
  const LossOptions& options() const { return options_; }
  torch::Tensor per_sample(const torch::Tensor& y_pred, const torch::Tensor& y_true) const;

 private:
  std::string name_;
  LossOptions options_;
  SampleFn fn_;
};

// accuracy (picks binary, categorical or sparse from the loss, as Keras does), binary_accuracy,
// categorical_accuracy, sparse_categorical_accuracy, top_k_categorical_accuracy,
// sparse_top_k_categorical_accuracy (k = 5 unless given), mae, mse; or a function of one's own.
class Metric {
 public:
  Metric(const char* name) : Metric(std::string(name)) {}  // NOLINT
  Metric(const std::string& name, std::int64_t k = 5);     // NOLINT
  Metric(std::string name, SampleFn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  const std::string& name() const { return name_; }
  // "accuracy" becomes the variant that fits the loss.
  Metric resolved(const Loss& loss) const;
  torch::Tensor per_sample(const torch::Tensor& y_pred, const torch::Tensor& y_true) const;

 private:
  std::string name_, kind_;
  std::int64_t k_ = 5;
  SampleFn fn_;
};

const std::vector<std::string>& loss_names();
const std::vector<std::string>& metric_names();

}  // namespace dojo::nn

DOJO_PUBLIC_END
