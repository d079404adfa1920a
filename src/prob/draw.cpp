#include "prob/draw.h"

#include <torch/torch.h>

#include "core/error.h"

namespace dojo::prob {

namespace {
using Tensors = std::vector<torch::Tensor>;
}

DrawImpl::DrawImpl(DrawOptions o) : o_(o) {
  if (o_.x_dim < 1 || o_.z_dim < 1 || o_.hidden < 1 || o_.steps < 1) {
    throw Error("DRAW: x_dim, z_dim, hidden and steps must be >= 1, got " + std::to_string(o_.x_dim) + ", " +
                std::to_string(o_.z_dim) + ", " + std::to_string(o_.hidden) + ", " +
                std::to_string(o_.steps));
  }
  const auto h = o_.hidden;
  // The encoder reads [x, x − σ(canvas)] (the paper's read without attention) and the decoder's last
  // state; the decoder reads z_t.
  enc_ = register_module("enc", torch::nn::LSTMCell(2 * o_.x_dim + h, h));
  dec_ = register_module("dec", torch::nn::LSTMCell(o_.z_dim, h));
  q_head_ = register_module("q", torch::nn::Linear(h, 2 * o_.z_dim));
  write_head_ = register_module("write", torch::nn::Linear(h, o_.x_dim));

  // The distributions hold this module through a non-owning pointer: the module owns them.
  auto self = std::shared_ptr<torch::nn::Module>(std::shared_ptr<torch::nn::Module>{}, this);
  encoder_ = Deterministic(
      Network(
          self,
          [this](const Tensors& v) {
            const auto &x = v[0], &canvas = v[1], &s_dec = v[2], &s_enc = v[3];
            auto read = torch::cat({x, x - torch::sigmoid(canvas), s_dec.narrow(1, 0, o_.hidden)}, 1);
            return Tensors{lstm_step(enc_, read, s_enc)};
          },
          4),
      {.var = {"s_enc_next"}, .cond_var = {"x", "canvas", "s_dec", "s_enc"}, .name = "f_enc"});
  // μ = W h and σ = exp(W h), as the paper's q.
  q_ = Normal(Network(
                  self,
                  [this](const Tensors& v) {
                    auto out = q_head_(v[0].narrow(1, 0, o_.hidden));
                    return Tensors{out.narrow(1, 0, o_.z_dim), torch::exp(out.narrow(1, o_.z_dim, o_.z_dim))};
                  },
                  1),
              {.var = {"z"}, .cond_var = {"s_enc_next"}, .name = "q"});
  decoder_ =
      Deterministic(Network(
                        self, [this](const Tensors& v) { return Tensors{lstm_step(dec_, v[0], v[1])}; }, 2),
                    {.var = {"s_dec_next"}, .cond_var = {"z", "s_dec"}, .name = "f_dec"});
  write_ = Deterministic(
      Network(
          self,
          [this](const Tensors& v) { return Tensors{v[0] + write_head_(v[1].narrow(1, 0, o_.hidden))}; }, 2),
      {.var = {"canvas_next"}, .cond_var = {"canvas", "s_dec_next"}, .name = "f_write"});
  prior_ = standard_normal({"z"}, {o_.z_dim});
  p_ = Bernoulli(Network(
                     self, [](const Tensors& v) { return Tensors{v[0]}; }, 1),
                 {.var = {"x"}, .cond_var = {"canvas"}});

  // One glimpse: draw the step's variables in order, pay the KL of its z. The canvas the steps leave is
  // carried out of the sum, so −log p(x|canvas) scores the final one.
  const auto step = write_ * decoder_ * q_ * encoder_;
  const auto glimpses = IterativeLoss(
      E(step, KL(q_, prior_)),
      {.max_iter = o_.steps,
       .update_value = {{"s_enc_next", "s_enc"}, {"s_dec_next", "s_dec"}, {"canvas_next", "canvas"}}});
  per_image_ = glimpses - LogProb(p_);
  loss_ = per_image_.mean();
}

torch::Tensor DrawImpl::lstm_step(torch::nn::LSTMCell& cell, const torch::Tensor& input,
                                  const torch::Tensor& state) const {
  auto [h, c] = cell->forward(input, std::make_tuple(state.narrow(1, 0, o_.hidden).contiguous(),
                                                     state.narrow(1, o_.hidden, o_.hidden).contiguous()));
  return torch::cat({h, c}, 1);
}

Dict DrawImpl::initial(const torch::Tensor& x) const {
  if (x.dim() != 2 || x.size(1) != o_.x_dim) {
    throw Error("DRAW: images " + std::string(c10::str(x.sizes())) + ": expected [batch, " +
                std::to_string(o_.x_dim) + "]");
  }
  const auto n = x.size(0);
  auto opts = x.options();
  return {{"x", x},
          {"canvas", torch::zeros({n, o_.x_dim}, opts)},
          {"s_enc", torch::zeros({n, 2 * o_.hidden}, opts)},
          {"s_dec", torch::zeros({n, 2 * o_.hidden}, opts)}};
}

torch::Tensor DrawImpl::negative_elbo(const torch::Tensor& x) const { return per_image_.eval(initial(x)); }

torch::Tensor DrawImpl::generate(std::int64_t n) const {
  if (n < 1) throw Error("DRAW: generate " + std::to_string(n) + " images: expected >= 1");
  torch::NoGradGuard no_grad;
  auto opts = write_head_->weight.options();
  Dict values{{"canvas", torch::zeros({n, o_.x_dim}, opts)},
              {"s_dec", torch::zeros({n, 2 * o_.hidden}, opts)}};
  const auto generator = write_ * decoder_ * prior_;
  Tensors canvases;
  for (std::int64_t t = 0; t < o_.steps; ++t) {
    auto drawn = generator->sample(values, {.batch_n = n});
    values["s_dec"] = drawn["s_dec_next"];
    values["canvas"] = drawn["canvas_next"];
    canvases.push_back(torch::sigmoid(values["canvas"]));
  }
  return torch::stack(canvases);
}

}  // namespace dojo::prob
