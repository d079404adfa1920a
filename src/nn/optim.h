// Optimizer plumbing shared by every model and agent: optimizers by name, a fused Adam, a fused
// gradient-norm clip and the one gradient step (clear, backward, clip, step) they all take.
#pragma once
#include <torch/optim/adam.h>
#include <torch/optim/optimizer.h>
#include <torch/optim/rmsprop.h>

#include <memory>
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn {

struct OptimizerOptions {
  std::string name = "adam";  // adam | adamw | rmsprop | sgd | adagrad
  double learning_rate = 1e-3;
  double eps = 1e-8;                       // Adam's, RMSprop's and Adagrad's epsilon
  double alpha = 0.99;                     // RMSprop smoothing constant
  double momentum = 0.0;                   // RMSprop and SGD
  bool centered = false;                   // RMSprop
  bool nesterov = false;                   // SGD
  double beta1 = 0.9, beta2 = 0.999;       // Adam, AdamW
  double weight_decay = 0.0;               // AdamW (decoupled), the others as an L2 term
  double initial_accumulator_value = 0.0;  // Adagrad
};

// Throws dojo::Error for an unknown name. "adam" gives a FusedAdam and "rmsprop" a FusedRMSprop when
// every parameter is a contiguous float32 CPU tensor, LibTorch's Adam and RMSprop otherwise.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<torch::Tensor>& params,
                                                        const OptimizerOptions& options);
void set_learning_rate(torch::optim::Optimizer& optimizer, double learning_rate);

// torch::optim::Adam's update rule and state layout (checkpoints load into either), applied in one
// pass over each contiguous float32 CPU parameter. LibTorch 1.13's Adam makes about eight tensor
// passes per parameter, each dispatched separately; for the small networks of RL that was a third of
// a DQN run (measured: 252 µs of a 770 µs update for a 4-256-256-2 MLP). Other tensors (double,
// strided, on a GPU) and amsgrad are a std::logic_error.
class FusedAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

// torch::optim::RMSprop's update rule (plain or centred, with or without momentum) and state layout,
// in one pass per parameter, for the same reason: the MinAtar and Nature DQN presets train with
// centred RMSprop, whose LibTorch step dispatches eight tensor operations per parameter. The same
// restrictions as FusedAdam's.
class FusedRMSprop : public torch::optim::RMSprop {
 public:
  using torch::optim::RMSprop::RMSprop;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

// Scales gradients so their global L2 norm is at most max_norm; returns the norm before clipping.
// One pass to measure and, only when clipping is needed, one to scale (LibTorch's always scales).
double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

// gradient_step in its two halves, so that something (an all-reduce, a statistic) can run on the
// gradients in between:
// zero grads (by dropping them, so backward writes fresh ones instead of adding), then backward.
// Returns the loss value.
double backward(torch::optim::Optimizer& optimizer, const torch::Tensor& loss);
// Clip to max_grad_norm when it is > 0, then step.
void clip_and_step(torch::optim::Optimizer& optimizer, double max_grad_norm);
// Every parameter the optimizer updates, group by group.
std::vector<torch::Tensor> optimizer_params(torch::optim::Optimizer& optimizer);
// Moves the optimizer's state (Adam's moments, RMSprop's averages) to `device`, after its parameters
// were moved there with Module::to (which keeps them the same tensors).
void move_state(torch::optim::Optimizer& optimizer, c10::Device device);
// backward, then clip_and_step. Returns the loss value.
double gradient_step(torch::optim::Optimizer& optimizer, const torch::Tensor& loss, double max_grad_norm);

}  // namespace dojo::nn

DOJO_PUBLIC_END
