#include "nn/optim.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"

namespace dojo::nn {

namespace {

bool fusable(const torch::Tensor& t) {
  return t.device().is_cpu() && t.scalar_type() == torch::kFloat32 && t.is_contiguous();
}

// One pass over p, g, m, v, vectorised by the compiler (the project builds with -fno-math-errno), with
// AVX2/AVX-512 clones picked at load time, as LibTorch's own kernels are.
__attribute__((target_clones("avx512f", "avx2", "default"))) void adam_kernel(
    float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v, std::int64_t n,
    float beta1, float beta2, float step_size, float inv_sqrt_bc2, float eps, float weight_decay) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const float grad = g[i] + weight_decay * p[i];
    m[i] = beta1 * m[i] + (1.0f - beta1) * grad;
    v[i] = beta2 * v[i] + (1.0f - beta2) * grad * grad;
    p[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
  }
}

// PyTorch's RMSprop: v = αv + (1−α)g²; centred: ḡ = αḡ + (1−α)g and the denominator
// sqrt(v − ḡ²) + ε (ε outside the root), else sqrt(v) + ε; with momentum μ: b = μb + g/denominator,
// p −= lr·b, else p −= lr·g/denominator. Null pointers switch centring and momentum off.
__attribute__((target_clones("avx512f", "avx2", "default"))) void rmsprop_kernel(
    float* __restrict p, const float* __restrict g, float* __restrict v, float* __restrict mean_g,
    float* __restrict buf, std::int64_t n, float alpha, float lr, float eps, float momentum,
    float weight_decay) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const float grad = g[i] + weight_decay * p[i];
    v[i] = alpha * v[i] + (1.0f - alpha) * grad * grad;
    float var = v[i];
    if (mean_g) {
      mean_g[i] = alpha * mean_g[i] + (1.0f - alpha) * grad;
      var -= mean_g[i] * mean_g[i];
    }
    const float update = grad / (std::sqrt(var) + eps);
    if (buf) {
      buf[i] = momentum * buf[i] + update;
      p[i] -= lr * buf[i];
    } else {
      p[i] -= lr * update;
    }
  }
}

void check_fusable(const char* who, const torch::Tensor& p, const torch::Tensor& g) {
  if (!fusable(p) || !fusable(g)) {
    throw std::logic_error(std::string(who) + ": expected contiguous float32 CPU parameters");
  }
}

}  // namespace

torch::Tensor FusedRMSprop::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& o = static_cast<const torch::optim::RMSpropOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const auto& g = p.grad();
      check_fusable("FusedRMSprop", p, g);
      auto& slot = state_[c10::guts::to_string(p.unsafeGetTensorImpl())];
      if (!slot) {
        auto s = std::make_unique<torch::optim::RMSpropParamState>();
        s->step(0);
        s->square_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        if (o.momentum() > 0) s->momentum_buffer(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        if (o.centered()) s->grad_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        slot = std::move(s);
      }
      auto& s = static_cast<torch::optim::RMSpropParamState&>(*slot);
      s.step(s.step() + 1);
      rmsprop_kernel(p.data_ptr<float>(), g.data_ptr<float>(), s.square_avg().data_ptr<float>(),
                     o.centered() ? s.grad_avg().data_ptr<float>() : nullptr,
                     o.momentum() > 0 ? s.momentum_buffer().data_ptr<float>() : nullptr, p.numel(),
                     static_cast<float>(o.alpha()), static_cast<float>(o.lr()), static_cast<float>(o.eps()),
                     static_cast<float>(o.momentum()), static_cast<float>(o.weight_decay()));
    }
  }
  return loss;
}

torch::Tensor FusedAdam::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const auto& g = p.grad();
      check_fusable("FusedAdam", p, g);
      if (o.amsgrad()) throw std::logic_error("FusedAdam: amsgrad is not fused");
      auto& slot = state_[c10::guts::to_string(p.unsafeGetTensorImpl())];
      if (!slot) {
        auto s = std::make_unique<torch::optim::AdamParamState>();
        s->step(0);
        s->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        s->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        slot = std::move(s);
      }
      auto& s = static_cast<torch::optim::AdamParamState&>(*slot);
      s.step(s.step() + 1);
      const auto [beta1, beta2] = o.betas();
      const double bc1 = 1.0 - std::pow(beta1, static_cast<double>(s.step()));
      const double bc2 = 1.0 - std::pow(beta2, static_cast<double>(s.step()));
      adam_kernel(p.data_ptr<float>(), g.data_ptr<float>(), s.exp_avg().data_ptr<float>(),
                  s.exp_avg_sq().data_ptr<float>(), p.numel(), static_cast<float>(beta1),
                  static_cast<float>(beta2), static_cast<float>(o.lr() / bc1),
                  static_cast<float>(1.0 / std::sqrt(bc2)), static_cast<float>(o.eps()),
                  static_cast<float>(o.weight_decay()));
    }
  }
  return loss;
}

double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  double sum_sq = 0.0;
  for (const auto& p : params) {
    const auto& g = p.grad();
    if (!g.defined()) continue;
    if (fusable(g)) {
      const float* d = g.data_ptr<float>();
      float partial = 0.0f;  // float within a tensor so the loop vectorises; double across tensors
      const std::int64_t n = g.numel();
#pragma omp simd reduction(+ : partial)
      for (std::int64_t i = 0; i < n; ++i) partial += d[i] * d[i];
      sum_sq += partial;
    } else {
      sum_sq += g.pow(2).sum().item<double>();
    }
  }
  const double norm = std::sqrt(sum_sq);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    torch::NoGradGuard no_grad;
    for (const auto& p : params) {
      if (p.grad().defined()) p.grad().mul_(coef);
    }
  }
  return norm;
}

std::vector<torch::Tensor> optimizer_params(torch::optim::Optimizer& optimizer) {
  std::vector<torch::Tensor> params;
  for (auto& group : optimizer.param_groups()) {
    for (auto& p : group.params()) params.push_back(p);
  }
  return params;
}

double backward(torch::optim::Optimizer& optimizer, const torch::Tensor& loss) {
  for (auto& group : optimizer.param_groups()) {
    for (auto& p : group.params()) p.mutable_grad().reset();
  }
  loss.backward();
  return loss.item<double>();
}

void clip_and_step(torch::optim::Optimizer& optimizer, double max_grad_norm) {
  if (max_grad_norm > 0) clip_grad_norm(optimizer_params(optimizer), max_grad_norm);
  optimizer.step();
}

void move_state(torch::optim::Optimizer& optimizer, c10::Device device) {
  // Through LibTorch's own serialisation with a map location: it knows every optimizer's state.
  torch::serialize::OutputArchive out;
  optimizer.save(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  std::istringstream in_bytes(bytes.str());
  torch::serialize::InputArchive in;
  in.load_from(in_bytes, device);
  optimizer.load(in);
}

double gradient_step(torch::optim::Optimizer& optimizer, const torch::Tensor& loss, double max_grad_norm) {
  const double value = backward(optimizer, loss);
  clip_and_step(optimizer, max_grad_norm);
  return value;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<torch::Tensor>& params,
                                                        const OptimizerOptions& o) {
  // The fused kernels take contiguous float32 CPU tensors; anything else (a float64 or GPU model)
  // gets LibTorch's class, with the same rule and state.
  const bool fused = std::all_of(params.begin(), params.end(), fusable);
  if (o.name == "adam") {
    const auto options = torch::optim::AdamOptions(o.learning_rate)
                             .eps(o.eps)
                             .betas({o.beta1, o.beta2})
                             .weight_decay(o.weight_decay);
    if (fused) return std::make_unique<FusedAdam>(params, options);
    return std::make_unique<torch::optim::Adam>(params, options);
  }
  if (o.name == "adamw") {
    return std::make_unique<torch::optim::AdamW>(params, torch::optim::AdamWOptions(o.learning_rate)
                                                             .eps(o.eps)
                                                             .betas({o.beta1, o.beta2})
                                                             .weight_decay(o.weight_decay));
  }
  if (o.name == "adagrad") {
    return std::make_unique<torch::optim::Adagrad>(
        params, torch::optim::AdagradOptions(o.learning_rate)
                    .eps(o.eps)
                    .weight_decay(o.weight_decay)
                    .initial_accumulator_value(o.initial_accumulator_value));
  }
  if (o.name == "rmsprop") {
    const auto options = torch::optim::RMSpropOptions(o.learning_rate)
                             .alpha(o.alpha)
                             .eps(o.eps)
                             .momentum(o.momentum)
                             .centered(o.centered)
                             .weight_decay(o.weight_decay);
    if (fused) return std::make_unique<FusedRMSprop>(params, options);
    return std::make_unique<torch::optim::RMSprop>(params, options);
  }
  if (o.name == "sgd") {
    return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(o.learning_rate)
                                                           .momentum(o.momentum)
                                                           .nesterov(o.nesterov)
                                                           .weight_decay(o.weight_decay));
  }
  throw Error("unknown optimizer '" + o.name + "', expected adam, adamw, rmsprop, sgd or adagrad");
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double learning_rate) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(learning_rate);
}

}  // namespace dojo::nn
