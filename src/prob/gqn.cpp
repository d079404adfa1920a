#include "prob/gqn.h"

#include <torch/torch.h>

#include "core/error.h"

namespace dojo::prob {

namespace {
using Tensors = std::vector<torch::Tensor>;
using torch::nn::Conv2d;
using torch::nn::Conv2dOptions;

std::string shape(const torch::Tensor& t) { return std::string(c10::str(t.sizes())); }
}  // namespace

GqnImpl::GqnImpl(GqnOptions o) : o_(o) {
  if (o_.image_size < 4 || o_.image_size % 4 != 0) {
    throw Error("GQN: image_size " + std::to_string(o_.image_size) + ": expected a multiple of 4");
  }
  if (o_.pose_dim < 1 || o_.r_channels < 1 || o_.hidden < 1 || o_.z_channels < 1 || o_.u_channels < 1 ||
      o_.steps < 1) {
    throw Error("GQN: every size and steps must be >= 1");
  }
  cell_ = o_.image_size / 4;
  const auto r = o_.r_channels, h = o_.hidden, p = o_.pose_dim;
  // Representation: two stride-2 convolutions to S/4, then the pose joins every cell (GQN's "tower").
  repr_a_ = register_module(
      "repr_a", torch::nn::Sequential(Conv2d(Conv2dOptions(3, 32, 2).stride(2)), torch::nn::ReLU(),
                                      Conv2d(Conv2dOptions(32, 32, 3).padding(1)), torch::nn::ReLU(),
                                      Conv2d(Conv2dOptions(32, r, 2).stride(2)), torch::nn::ReLU()));
  repr_b_ =
      register_module("repr_b", torch::nn::Sequential(Conv2d(Conv2dOptions(r + p, r, 3).padding(1)),
                                                      torch::nn::ReLU(), Conv2d(Conv2dOptions(r, r, 1))));
  read_query_ = register_module("read_query", Conv2d(Conv2dOptions(3, 16, 4).stride(4)));
  inference_gates_ =
      register_module("inference", Conv2d(Conv2dOptions(16 + p + r + h + h, 4 * h, 3).padding(1)));
  generator_gates_ =
      register_module("generator", Conv2d(Conv2dOptions(p + r + o_.z_channels + h, 4 * h, 3).padding(1)));
  q_head_ = register_module("q", Conv2d(Conv2dOptions(h, 2 * o_.z_channels, 3).padding(1)));
  prior_head_ = register_module("prior", Conv2d(Conv2dOptions(h, 2 * o_.z_channels, 3).padding(1)));
  write_ = register_module(
      "write", torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(h, o_.u_channels, 4).stride(4)));
  eta_ = register_module("eta", Conv2d(Conv2dOptions(o_.u_channels, 3, 1)));

  // The distributions hold this module through a non-owning pointer: the module owns them.
  auto self = std::shared_ptr<torch::nn::Module>(std::shared_ptr<torch::nn::Module>{}, this);
  representation_ =
      Deterministic(Network(
                        self, [this](const Tensors& v) { return Tensors{represent(v[0], v[1])}; }, 2),
                    {.var = {"r"}, .cond_var = {"x_ctx", "v_ctx"}, .name = "f"});
  inference_ =
      Deterministic(Network(
                        self,
                        [this](const Tensors& v) {
                          const auto &x_q = v[0], &v_q = v[1], &rep = v[2], &s_q = v[3], &s_g = v[4];
                          auto in = torch::cat(
                              {read_query_(x_q), broadcast_pose(v_q), rep, s_g.narrow(1, 0, o_.hidden)}, 1);
                          return Tensors{conv_lstm(inference_gates_, in, s_q)};
                        },
                        5),
                    {.var = {"s_q_next"}, .cond_var = {"x_q", "v_q", "r", "s_q", "s_g"}, .name = "f_q"});
  q_ = Normal(Network(
                  self, [this](const Tensors& v) { return normal_params(q_head_, v[0]); }, 1),
              {.var = {"z"}, .cond_var = {"s_q_next"}, .name = "q"});
  prior_ = Normal(Network(
                      self, [this](const Tensors& v) { return normal_params(prior_head_, v[0]); }, 1),
                  {.var = {"z"}, .cond_var = {"s_g"}, .name = "pi"});
  generator_ = Deterministic(Network(
                                 self,
                                 [this](const Tensors& v) {
                                   const auto &z = v[0], &v_q = v[1], &rep = v[2], &s_g = v[3];
                                   auto in = torch::cat({broadcast_pose(v_q), rep, z}, 1);
                                   return Tensors{conv_lstm(generator_gates_, in, s_g)};
                                 },
                                 4),
                             {.var = {"s_g_next"}, .cond_var = {"z", "v_q", "r", "s_g"}, .name = "f_g"});
  canvas_ = Deterministic(
      Network(
          self, [this](const Tensors& v) { return Tensors{v[0] + write_(v[1].narrow(1, 0, o_.hidden))}; }, 2),
      {.var = {"u_next"}, .cond_var = {"u", "s_g_next"}, .name = "f_u"});
  p_ = Normal(Network(
                  self,
                  [this](const Tensors& v) {
                    auto mean = torch::sigmoid(eta_(v[0]));
                    return Tensors{mean, torch::full_like(mean, sigma_)};
                  },
                  1),
              {.var = {"x_q"}, .cond_var = {"u"}});

  // Each step draws the cores' states and z_l in order and pays KL[q||π]; the canvas the steps leave
  // is scored by p(x_q|u) inside the expectation over r (where the steps' values live).
  const auto step = canvas_ * generator_ * q_ * inference_;
  const auto steps = IterativeLoss(
      E(step, KL(q_, prior_)),
      {.max_iter = o_.steps, .update_value = {{"s_q_next", "s_q"}, {"s_g_next", "s_g"}, {"u_next", "u"}}});
  loss_ = E(representation_, steps - LogProb(p_)).mean();
}

void GqnImpl::set_sigma(double sigma) {
  if (!(sigma > 0)) throw Error("GQN: sigma " + std::to_string(sigma) + ": expected > 0");
  sigma_ = sigma;
}

torch::Tensor GqnImpl::broadcast_pose(const torch::Tensor& v) const {
  return v.view({v.size(0), o_.pose_dim, 1, 1}).expand({v.size(0), o_.pose_dim, cell_, cell_});
}

torch::Tensor GqnImpl::represent(const torch::Tensor& x_ctx, const torch::Tensor& v_ctx) {
  const auto b = x_ctx.size(0), k = x_ctx.size(1);
  auto features = repr_a_->forward(x_ctx.reshape({b * k, 3, o_.image_size, o_.image_size}));
  auto r = repr_b_->forward(torch::cat({features, broadcast_pose(v_ctx.reshape({b * k, o_.pose_dim}))}, 1));
  // The scene is the sum of what each view says of it: any number of views, in any order.
  return r.view({b, k, o_.r_channels, cell_, cell_}).sum(1);
}

torch::Tensor GqnImpl::conv_lstm(torch::nn::Conv2d& gates, const torch::Tensor& input,
                                 const torch::Tensor& state) const {
  const auto h = state.narrow(1, 0, o_.hidden), c = state.narrow(1, o_.hidden, o_.hidden);
  auto g = gates(torch::cat({input, h}, 1)).chunk(4, 1);
  auto c_next = torch::sigmoid(g[1]) * c + torch::sigmoid(g[0]) * torch::tanh(g[2]);
  auto h_next = torch::sigmoid(g[3]) * torch::tanh(c_next);
  return torch::cat({h_next, c_next}, 1);
}

std::vector<torch::Tensor> GqnImpl::normal_params(torch::nn::Conv2d& head, const torch::Tensor& state) const {
  auto out = head(state.narrow(1, 0, o_.hidden)).chunk(2, 1);
  return {out[0], torch::nn::functional::softplus(out[1]) + 1e-4};
}

Dict GqnImpl::batch(const torch::Tensor& x_ctx, const torch::Tensor& v_ctx, const torch::Tensor& x_q,
                    const torch::Tensor& v_q) const {
  const auto s = o_.image_size;
  const bool ok = x_ctx.dim() == 5 && x_ctx.size(2) == 3 && x_ctx.size(3) == s && x_ctx.size(4) == s &&
                  v_ctx.dim() == 3 && v_ctx.size(0) == x_ctx.size(0) && v_ctx.size(1) == x_ctx.size(1) &&
                  v_ctx.size(2) == o_.pose_dim && x_q.dim() == 4 && x_q.size(0) == x_ctx.size(0) &&
                  x_q.size(1) == 3 && x_q.size(2) == s && x_q.size(3) == s && v_q.dim() == 2 &&
                  v_q.size(0) == x_ctx.size(0) && v_q.size(1) == o_.pose_dim;
  if (!ok) {
    throw Error("GQN: context " + shape(x_ctx) + " with poses " + shape(v_ctx) + ", query " + shape(x_q) +
                " with pose " + shape(v_q) +
                ": expected [B, K, 3, S, S], [B, K, P], [B, 3, S, S], [B, P] with S " + std::to_string(s) +
                " and P " + std::to_string(o_.pose_dim));
  }
  const auto n = x_ctx.size(0);
  auto opts = x_q.options();
  return {{"x_ctx", x_ctx},
          {"v_ctx", v_ctx},
          {"x_q", x_q},
          {"v_q", v_q},
          {"s_q", torch::zeros({n, 2 * o_.hidden, cell_, cell_}, opts)},
          {"s_g", torch::zeros({n, 2 * o_.hidden, cell_, cell_}, opts)},
          {"u", torch::zeros({n, o_.u_channels, s, s}, opts)}};
}

torch::Tensor GqnImpl::render(const torch::Tensor& x_ctx, const torch::Tensor& v_ctx,
                              const torch::Tensor& v_q, std::int64_t samples) {
  if (samples < 1) throw Error("GQN: render with " + std::to_string(samples) + " samples: expected >= 1");
  torch::NoGradGuard no_grad;
  auto values = batch(x_ctx, v_ctx, torch::zeros({x_ctx.size(0), 3, o_.image_size, o_.image_size}), v_q);
  values["r"] = represent(x_ctx, v_ctx);
  const auto generate = canvas_ * generator_ * prior_;
  torch::Tensor total;
  for (std::int64_t k = 0; k < samples; ++k) {
    auto v = values;
    for (std::int64_t l = 0; l < o_.steps; ++l) {
      auto drawn = generate->sample(v);
      v["s_g"] = drawn["s_g_next"];
      v["u"] = drawn["u_next"];
    }
    auto mean = p_->mean({{"u", v["u"]}});
    total = total.defined() ? total + mean : mean;
  }
  return total / static_cast<double>(samples);
}

}  // namespace dojo::prob
