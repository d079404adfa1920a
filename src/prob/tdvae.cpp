#include "prob/tdvae.h"

#include <torch/torch.h>

#include "core/error.h"

namespace dojo::prob {

namespace {
using Tensors = std::vector<torch::Tensor>;

}  // namespace

std::vector<torch::Tensor> TdVaeImpl::DBlock::operator()(const torch::Tensor& x) {
  auto h = torch::tanh(gate_a(x)) * torch::sigmoid(gate_b(x));
  return {loc(h), torch::exp(log_scale(h))};
}

TdVaeImpl::DBlock TdVaeImpl::d_block(const std::string& name, std::int64_t in) {
  DBlock d;
  d.gate_a = register_module(name + "_a", torch::nn::Linear(in, o_.hidden));
  d.gate_b = register_module(name + "_b", torch::nn::Linear(in, o_.hidden));
  d.loc = register_module(name + "_loc", torch::nn::Linear(o_.hidden, o_.z_dim));
  d.log_scale = register_module(name + "_log_scale", torch::nn::Linear(o_.hidden, o_.z_dim));
  return d;
}

TdVaeImpl::TdVaeImpl(TdVaeOptions o) : o_(o) {
  if (o_.x_dim < 1 || o_.features < 1 || o_.belief < 1 || o_.z_dim < 1 || o_.hidden < 1 || o_.max_jump < 1) {
    throw Error("TD-VAE: every size and max_jump must be >= 1");
  }
  using torch::nn::Linear;
  frame_ =
      register_module("frame", torch::nn::Sequential(Linear(o_.x_dim, o_.features), torch::nn::ReLU(),
                                                     Linear(o_.features, o_.features), torch::nn::ReLU()));
  lstm_ = register_module("belief", torch::nn::LSTM(torch::nn::LSTMOptions(o_.features, o_.belief)));
  b_to_z_ = d_block("b_to_z", o_.belief);
  smoothing_ = d_block("smoothing", 2 * o_.belief + o_.z_dim);
  transition_block_ = d_block("transition", o_.z_dim + 1);
  decode_ =
      register_module("decode", torch::nn::Sequential(Linear(o_.z_dim, o_.features), torch::nn::ReLU(),
                                                      Linear(o_.features, o_.features), torch::nn::ReLU(),
                                                      Linear(o_.features, o_.x_dim)));

  // The distributions hold this module through a non-owning pointer: the module owns them.
  auto self = std::shared_ptr<torch::nn::Module>(std::shared_ptr<torch::nn::Module>{}, this);
  const auto b = o_.belief;
  // The belief pair (b_t1, b_t1+δ) for every t1, from one pass of the LSTM over the sequence.
  belief_ =
      Deterministic(Network(
                        self,
                        [this](const Tensors& v) {
                          const auto& xs = v[0];
                          const auto& jump = v[1];
                          auto all = beliefs(xs);
                          const auto pairs = xs.size(0) - o_.max_jump;
                          auto t2 = torch::arange(pairs, jump.options()).unsqueeze(1) + jump.unsqueeze(0);
                          auto b2 = all.gather(0, t2.unsqueeze(-1).expand({pairs, xs.size(1), o_.belief}));
                          return Tensors{torch::cat({all.narrow(0, 0, pairs), b2}, -1)};
                        },
                        2),
                    {.var = {"bb"}, .cond_var = {"xs", "jump"}, .name = "f"});
  p_b1_ = Normal(Network(
                     self, [this, b](const Tensors& v) { return b_to_z_(v[0].narrow(-1, 0, b)); }, 1),
                 {.var = {"z1"}, .cond_var = {"bb"}});
  p_b2_ = Normal(Network(
                     self, [this, b](const Tensors& v) { return b_to_z_(v[0].narrow(-1, b, b)); }, 1),
                 {.var = {"z2"}, .cond_var = {"bb"}});
  q_ = Normal(Network(
                  self,
                  [this](const Tensors& v) {
                    return smoothing_(torch::cat({v[1], v[0]}, -1));
                  },
                  2),
              {.var = {"z1"}, .cond_var = {"z2", "bb"}, .name = "q"});
  transition_ = Normal(Network(
                           self,
                           [this](const Tensors& v) {
                             // A residual step: the block moves z1 rather than rebuilding it.
                             auto params = transition_block_(torch::cat({v[0], v[1]}, -1));
                             params[0] = v[0] + params[0];
                             return params;
                           },
                           2),
                       {.var = {"z2"}, .cond_var = {"z1", "dt"}});
  decoder_ = Bernoulli(Network(
                           self, [this](const Tensors& v) { return Tensors{decode_->forward(v[0])}; }, 1),
                       {.var = {"x2"}, .cond_var = {"z2"}});

  const auto step =
      E(p_b2_, KL(q_, p_b1_) + E(q_, LogProb(p_b2_) - LogProb(transition_)) - LogProb(decoder_));
  loss_ = E(belief_, IterativeLoss(step, {.series_var = {"bb", "x2", "dt"}})).mean();
}

torch::Tensor TdVaeImpl::beliefs(const torch::Tensor& xs) {
  if (xs.dim() != 3 || xs.size(2) != o_.x_dim) {
    throw Error("TD-VAE: sequences " + c10::str(xs.sizes()) + ": expected [T, batch, " +
                std::to_string(o_.x_dim) + "]");
  }
  auto features = frame_->forward(xs.reshape({-1, o_.x_dim})).view({xs.size(0), xs.size(1), o_.features});
  return std::get<0>(lstm_->forward(features));
}

Dict TdVaeImpl::batch(const torch::Tensor& xs) const {
  if (xs.dim() != 3 || xs.size(2) != o_.x_dim || xs.size(0) <= o_.max_jump) {
    throw Error("TD-VAE: sequences " + c10::str(xs.sizes()) + ": expected [T, batch, " +
                std::to_string(o_.x_dim) + "] with T > max_jump " + std::to_string(o_.max_jump));
  }
  const auto n = xs.size(1), pairs = xs.size(0) - o_.max_jump;
  auto jump = torch::randint(1, o_.max_jump + 1, {n}, torch::kLong);
  auto t2 = torch::arange(pairs, torch::kLong).unsqueeze(1) + jump.unsqueeze(0);  // [pairs, n]
  auto x2 = xs.gather(0, t2.unsqueeze(-1).expand({pairs, n, o_.x_dim}));
  auto dt =
      (jump.to(xs.scalar_type()) / static_cast<double>(o_.max_jump)).view({1, n, 1}).expand({pairs, n, 1});
  return {{"xs", xs}, {"jump", jump}, {"x2", x2}, {"dt", dt.contiguous()}};
}

torch::Tensor TdVaeImpl::predict(const torch::Tensor& xs, std::int64_t horizon, bool jumpy) {
  if (horizon < 1 || (jumpy && horizon > o_.max_jump)) {
    throw Error("TD-VAE: horizon " + std::to_string(horizon) + ": expected 1.." +
                (jumpy ? std::to_string(o_.max_jump) + " for jumpy predictions" : std::string("")));
  }
  torch::NoGradGuard no_grad;
  const auto b_t = beliefs(xs)[xs.size(0) - 1];
  const auto n = b_t.size(0);
  // p_B reads the belief of t1 from the first half of a pair.
  auto z_t = p_b1_->sample({{"bb", torch::cat({b_t, b_t}, -1)}})["z1"];
  Tensors frames;
  auto z = z_t;
  for (std::int64_t k = 1; k <= horizon; ++k) {
    const double delta = jumpy ? static_cast<double>(k) : 1.0;
    auto dt = torch::full({n, 1}, delta / static_cast<double>(o_.max_jump), z.options());
    auto next = transition_->sample({{"z1", jumpy ? z_t : z}, {"dt", dt}})["z2"];
    frames.push_back(torch::sigmoid(decode_->forward(next)));
    z = next;
  }
  return torch::stack(frames);
}

std::pair<torch::Tensor, torch::Tensor> shifting_sequences(const torch::Tensor& images, std::int64_t steps) {
  if (images.dim() != 3 || steps < 1) {
    throw Error("shifting_sequences: images " + c10::str(images.sizes()) + " and " + std::to_string(steps) +
                " steps: expected [N, H, W] and steps >= 1");
  }
  const auto n = images.size(0), h = images.size(1), w = images.size(2);
  auto direction = torch::randint(0, 2, {n}, torch::kLong) * 2 - 1;
  // Each sequence starts at a random horizontal offset, so where an item stands says nothing of the
  // way it moves; then every column moves one pixel per step (the last wraps to the first).
  auto offset = torch::randint(0, w, {n}, torch::kLong);
  auto columns = torch::arange(w, torch::kLong).unsqueeze(0);
  std::vector<torch::Tensor> frames;
  for (std::int64_t t = 0; t < steps; ++t) {
    auto shift = (offset + direction * t).unsqueeze(1);
    auto source = (columns - shift).remainder(w);  // frame column c shows image column c − shift
    frames.push_back(images.gather(2, source.view({n, 1, w}).expand({n, h, w})).reshape({n, -1}));
  }
  return {torch::stack(frames), direction};
}

}  // namespace dojo::prob
