#include "nn/losses.h"

#include <torch/torch.h>

#include "core/error.h"
#include "core/strings.h"

namespace dojo::nn {

namespace {

constexpr double kEpsilon = 1e-7;  // Keras' backend epsilon: probabilities are clipped to [ε, 1 − ε]

// Averages every axis but the batch one.
torch::Tensor per_sample_mean(const torch::Tensor& x) {
  return x.dim() <= 1 ? x : x.reshape({x.size(0), -1}).mean(1);
}

// Sparse labels [N, …] or [N, …, 1] against predictions [N, …, C].
torch::Tensor sparse_labels(const torch::Tensor& y_true, const torch::Tensor& y_pred) {
  auto y = y_true.to(torch::kLong);
  if (y.dim() == y_pred.dim()) y = y.squeeze(-1);
  if (y.sizes() != y_pred.sizes().slice(0, y_pred.dim() - 1)) {
    throw Error("sparse labels of shape " + c10::str(y_true.sizes()) + " do not fit predictions of shape " +
                c10::str(y_pred.sizes()));
  }
  return y;
}

void same_shape(const torch::Tensor& y_pred, const torch::Tensor& y_true, const std::string& loss) {
  if (y_pred.sizes() != y_true.sizes()) {
    throw Error(loss + ": targets of shape " + c10::str(y_true.sizes()) +
                " do not fit predictions of shape " + c10::str(y_pred.sizes()));
  }
}

std::string canonical_loss(const std::string& name) {
  if (name == "mean_squared_error" || name == "MSE") return "mse";
  if (name == "mean_absolute_error" || name == "MAE") return "mae";
  if (name == "kld" || name == "kullback_leibler_divergence") return "kl_divergence";
  return name;
}

}  // namespace

const std::vector<std::string>& loss_names() {
  static const std::vector<std::string> names = {"mse",
                                                 "mae",
                                                 "huber",
                                                 "binary_crossentropy",
                                                 "categorical_crossentropy",
                                                 "sparse_categorical_crossentropy",
                                                 "kl_divergence"};
  return names;
}

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = {"accuracy",
                                                 "binary_accuracy",
                                                 "categorical_accuracy",
                                                 "sparse_categorical_accuracy",
                                                 "top_k_categorical_accuracy",
                                                 "sparse_top_k_categorical_accuracy",
                                                 "mae",
                                                 "mse"};
  return names;
}

Loss::Loss(const std::string& name, LossOptions options) : name_(canonical_loss(name)), options_(options) {
  const auto& names = loss_names();
  if (std::find(names.begin(), names.end(), name_) == names.end()) {
    throw Error("unknown loss '" + name + "'" + core::did_you_mean(name, names));
  }
  const auto n = name_;
  const auto o = options_;
  if (n == "mse") {
    fn_ = [](const torch::Tensor& p, const torch::Tensor& t) {
      same_shape(p, t, "mse");
      return per_sample_mean((p - t).square());
    };
  } else if (n == "mae") {
    fn_ = [](const torch::Tensor& p, const torch::Tensor& t) {
      same_shape(p, t, "mae");
      return per_sample_mean((p - t).abs());
    };
  } else if (n == "huber") {
    fn_ = [o](const torch::Tensor& p, const torch::Tensor& t) {
      same_shape(p, t, "huber");
      return per_sample_mean(torch::huber_loss(p, t, at::Reduction::None, o.delta));
    };
  } else if (n == "binary_crossentropy") {
    fn_ = [o](const torch::Tensor& p, const torch::Tensor& t) {
      same_shape(p, t, "binary_crossentropy");
      auto tf = t.to(p.dtype());
      if (o.from_logits)
        return per_sample_mean(torch::binary_cross_entropy_with_logits(p, tf, {}, {}, at::Reduction::None));
      auto q = p.clamp(kEpsilon, 1 - kEpsilon);
      return per_sample_mean(-(tf * q.log() + (1 - tf) * (1 - q).log()));
    };
  } else if (n == "categorical_crossentropy") {
    fn_ = [o](const torch::Tensor& p, const torch::Tensor& t) {
      same_shape(p, t, "categorical_crossentropy");
      auto logq = o.from_logits ? torch::log_softmax(p, -1)
                                : (p / p.sum(-1, true)).clamp(kEpsilon, 1 - kEpsilon).log();
      return per_sample_mean(-(t.to(p.dtype()) * logq).sum(-1));
    };
  } else if (n == "sparse_categorical_crossentropy") {
    fn_ = [o](const torch::Tensor& p, const torch::Tensor& t) {
      auto y = sparse_labels(t, p);
      auto logq = o.from_logits ? torch::log_softmax(p, -1) : p.clamp(kEpsilon, 1 - kEpsilon).log();
      return per_sample_mean(-logq.gather(-1, y.unsqueeze(-1)).squeeze(-1));
    };
  } else if (n == "kl_divergence") {
    fn_ = [](const torch::Tensor& p, const torch::Tensor& t) {
      same_shape(p, t, "kl_divergence");
      auto tc = t.to(p.dtype()).clamp(kEpsilon, 1.0), pc = p.clamp(kEpsilon, 1.0);
      return per_sample_mean((tc * (tc / pc).log()).sum(-1));
    };
  }
}

torch::Tensor Loss::per_sample(const torch::Tensor& y_pred, const torch::Tensor& y_true) const {
  return fn_(y_pred, y_true);
}

Metric::Metric(const std::string& name, std::int64_t k) : name_(name), k_(k) {
  kind_ = name == "acc"                   ? "accuracy"
          : name == "mean_squared_error"  ? "mse"
          : name == "mean_absolute_error" ? "mae"
                                          : name;
  const auto& names = metric_names();
  if (std::find(names.begin(), names.end(), kind_) == names.end()) {
    throw Error("unknown metric '" + name + "'" + core::did_you_mean(name, names));
  }
  if (k_ <= 0) throw Error("metric '" + name + "': k must be positive, got " + std::to_string(k_));
  const auto kind = kind_;
  if (kind == "binary_accuracy") {
    fn_ = [](const torch::Tensor& p, const torch::Tensor& t) {
      return per_sample_mean(((p > 0.5) == (t > 0.5)).to(torch::kFloat32));
    };
  } else if (kind == "categorical_accuracy") {
    fn_ = [](const torch::Tensor& p, const torch::Tensor& t) {
      return per_sample_mean((p.argmax(-1) == t.argmax(-1)).to(torch::kFloat32));
    };
  } else if (kind == "sparse_categorical_accuracy") {
    fn_ = [](const torch::Tensor& p, const torch::Tensor& t) {
      return per_sample_mean((p.argmax(-1) == sparse_labels(t, p)).to(torch::kFloat32));
    };
  } else if (kind == "top_k_categorical_accuracy" || kind == "sparse_top_k_categorical_accuracy") {
    const bool sparse = kind.starts_with("sparse");
    fn_ = [sparse, k](const torch::Tensor& p, const torch::Tensor& t) {
      auto y = sparse ? sparse_labels(t, p) : t.argmax(-1);
      auto top = std::get<1>(p.topk(std::min<std::int64_t>(k, p.size(-1)), -1));
      return per_sample_mean((top == y.unsqueeze(-1)).any(-1).to(torch::kFloat32));
    };
  } else if (kind == "mae") {
    fn_ = [](const torch::Tensor& p, const torch::Tensor& t) { return per_sample_mean((p - t).abs()); };
  } else if (kind == "mse") {
    fn_ = [](const torch::Tensor& p, const torch::Tensor& t) { return per_sample_mean((p - t).square()); };
  }
}

Metric Metric::resolved(const Loss& loss) const {
  if (kind_ != "accuracy") return *this;
  const auto& l = loss.name();
  Metric m = l == "binary_crossentropy"               ? Metric("binary_accuracy")
             : l == "sparse_categorical_crossentropy" ? Metric("sparse_categorical_accuracy")
                                                      : Metric("categorical_accuracy");
  m.name_ = name_;
  return m;
}

torch::Tensor Metric::per_sample(const torch::Tensor& y_pred, const torch::Tensor& y_true) const {
  if (!fn_) throw Error("metric '" + name_ + "' needs a compiled model to pick its variant");
  return fn_(y_pred, y_true);
}

}  // namespace dojo::nn
