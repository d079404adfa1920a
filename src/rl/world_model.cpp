#include "rl/world_model.h"

#include <torch/nn/functional/pooling.h>
#include <torch/torch.h>

#include <cmath>
#include <numbers>

#include "core/error.h"
#include "prob/loss.h"

namespace dojo::rl {

namespace {

// −log N(x; μ, √½) = (x − μ)² + ½ log π per pixel: the constant that separates the reconstruction
// likelihood from the paper's squared error.
const double kPixelConstant = 0.5 * std::log(std::numbers::pi);
const double kPixelScale = std::sqrt(0.5);

}  // namespace

torch::Tensor world_model_frame(const torch::Tensor& observation) {
  const bool single = observation.dim() == 3;
  const auto batch = single ? observation.unsqueeze(0) : observation;
  if (batch.dim() != 4 || batch.size(1) != 96 || batch.size(2) != 96 || batch.size(3) != 3 ||
      batch.scalar_type() != torch::kUInt8)
    throw Error("world model frame: expected uint8 [96, 96, 3] CarRacing observations, got " +
                std::string(c10::str(observation.sizes())) + " " +
                std::string(c10::toString(observation.scalar_type())));
  torch::NoGradGuard no_grad;
  auto x = batch.narrow(1, 0, 84).permute({0, 3, 1, 2}).to(torch::kFloat32);
  x = torch::adaptive_avg_pool2d(x, {ConvVaeImpl::kSize, ConvVaeImpl::kSize});
  auto out = x.round().clamp(0, 255).to(torch::kUInt8).permute({0, 2, 3, 1}).contiguous();
  return single ? out.squeeze(0) : out;
}

// ---------------------------------------------------------------------------------------------- V
ConvVaeImpl::ConvVaeImpl(std::int64_t z_size, std::int64_t channels, bool squash)
    : z_size_(z_size), channels_(channels), squash_(squash) {
  if (z_size < 1) throw Error("ConvVae: z_size " + std::to_string(z_size) + ": expected >= 1");
  if (channels < 1) throw Error("ConvVae: channels " + std::to_string(channels) + ": expected >= 1");
  using torch::nn::Conv2dOptions;
  using torch::nn::ConvTranspose2dOptions;
  enc1_ = register_module("enc1", torch::nn::Conv2d(Conv2dOptions(channels, 32, 4).stride(2)));
  enc2_ = register_module("enc2", torch::nn::Conv2d(Conv2dOptions(32, 64, 4).stride(2)));
  enc3_ = register_module("enc3", torch::nn::Conv2d(Conv2dOptions(64, 128, 4).stride(2)));
  enc4_ = register_module("enc4", torch::nn::Conv2d(Conv2dOptions(128, 256, 4).stride(2)));
  mu_ = register_module("mu", torch::nn::Linear(1024, z_size));
  log_var_ = register_module("log_var", torch::nn::Linear(1024, z_size));
  dense_ = register_module("dense", torch::nn::Linear(z_size, 1024));
  // A 5 × 5 transposed convolution of a 1 × 1 map: each output pixel is a linear map of the 1024 inputs.
  dec1_ = register_module("dec1", torch::nn::Linear(1024, 128 * 5 * 5));
  dec2_ = register_module("dec2", torch::nn::ConvTranspose2d(ConvTranspose2dOptions(128, 64, 5).stride(2)));
  dec3_ = register_module("dec3", torch::nn::ConvTranspose2d(ConvTranspose2dOptions(64, 32, 6).stride(2)));
  dec4_ =
      register_module("dec4", torch::nn::ConvTranspose2d(ConvTranspose2dOptions(32, channels, 6).stride(2)));

  use_channels_last();

  // The distributions hold the module through a non-owning pointer: the module owns them.
  auto self = std::shared_ptr<torch::nn::Module>(std::shared_ptr<torch::nn::Module>{}, this);
  q_ = prob::Normal(prob::Network(
                        self, [this](const auto& xs) { return encode_params(xs[0]); }, 1),
                    {.var = {"z"}, .cond_var = {"x"}, .name = "q"});
  p_ = prob::Normal(prob::Network(
                        self, [this](const auto& zs) { return decode_params(zs[0]); }, 1),
                    {.var = {"x"}, .cond_var = {"z"}, .name = "p"});
  prior_ = prob::Normal(torch::zeros({z_size}), torch::ones({z_size}), {.var = {"z"}, .name = "p_prior"});
}

void ConvVaeImpl::use_channels_last() {
  torch::NoGradGuard no_grad;
  for (auto& p : parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
}

std::vector<torch::Tensor> ConvVaeImpl::encode_params(const torch::Tensor& x) {
  auto h = torch::relu(enc1_(x));
  h = torch::relu(enc2_(h));
  h = torch::relu(enc3_(h));
  h = torch::relu(enc4_(h)).flatten(1);
  return {mu_(h), torch::exp(0.5 * log_var_(h))};
}

std::vector<torch::Tensor> ConvVaeImpl::decode_params(const torch::Tensor& z) {
  auto h = torch::relu(dec1_(dense_(z))).view({-1, 128, 5, 5}).contiguous(at::MemoryFormat::ChannelsLast);
  h = torch::relu(dec2_(h));
  h = torch::relu(dec3_(h));
  auto loc = squash_ ? torch::sigmoid(dec4_(h)) : dec4_(h);
  return {loc, torch::full({1, 1, 1, 1}, kPixelScale, loc.options()).expand_as(loc)};
}

torch::Tensor ConvVaeImpl::pixels(const torch::Tensor& frames) {
  if (frames.dim() != 4 || frames.size(1) != kSize || frames.size(2) != kSize)
    throw Error("ConvVae: frames " + std::string(c10::str(frames.sizes())) +
                ": expected [N, 64, 64, channels] uint8");
  // NHWC in memory already: the permuted view is the channels-last layout of [N, 3, 64, 64].
  return frames.permute({0, 3, 1, 2})
      .to(torch::kFloat32)
      .div(255.0)
      .contiguous(at::MemoryFormat::ChannelsLast);
}

torch::Tensor ConvVaeImpl::input(const torch::Tensor& frames) const {
  if (frames.dim() == 4 && frames.size(3) != channels_)
    throw Error("ConvVae: frames " + std::string(c10::str(frames.sizes())) + ": expected [N, 64, 64, " +
                std::to_string(channels_) + "] uint8");
  return pixels(frames);
}

torch::Tensor ConvVaeImpl::frames(const torch::Tensor& pixels) {
  return pixels.mul(255.0).round().clamp(0, 255).to(torch::kUInt8).permute({0, 2, 3, 1}).contiguous();
}

ConvVaeImpl::Losses ConvVaeImpl::losses(const torch::Tensor& frames, double kl_floor) {
  const auto x = input(frames);
  // The ELBO's two terms with one reparameterised draw: E_q[−log p(x|z)] and D_KL[q(z|x) || p(z)].
  const auto qp = q_->params({{"x", x}});
  const auto z = q_->sample_from(qp, /*reparam=*/true);
  const auto pp = p_->params({{"z", z}});
  const auto nll = -p_->log_prob_from(pp, x).sum({1, 2, 3});
  const auto kl = prob::kl_divergence(*q_, qp, *prior_, prior_->params({}, x.size(0)));  // [N]
  const double pixel_count = static_cast<double>(x[0].numel());
  Losses l;
  l.reconstruction = nll.mean() - pixel_count * kPixelConstant;
  l.kl = kl.mean();
  // The free-bits floor, per frame as in the paper's code: no gradient pushes KL below kl_floor.
  l.total = l.reconstruction + torch::clamp_min(kl, kl_floor).mean();
  return l;
}

std::pair<torch::Tensor, torch::Tensor> ConvVaeImpl::encode(const torch::Tensor& frames) {
  torch::NoGradGuard no_grad;
  auto p = encode_params(input(frames));
  return {p[0], p[1]};
}

torch::Tensor ConvVaeImpl::decode(const torch::Tensor& z) {
  torch::NoGradGuard no_grad;
  return frames(decode_params(z)[0]);
}

// ---------------------------------------------------------------------------------------------- M
MdnRnnImpl::MdnRnnImpl(MdnRnnOptions options) : o_(options) {
  if (o_.z_size < 1 || o_.action_size < 1 || o_.hidden < 1 || o_.mixtures < 1)
    throw Error("MdnRnn: z_size, action_size, hidden and mixtures must be >= 1");
  lstm_ = register_module(
      "lstm",
      torch::nn::LSTM(torch::nn::LSTMOptions(o_.z_size + o_.action_size, o_.hidden).batch_first(true)));
  // Per latent dimension and component: logit, mean, log σ; then the reward and the end's logit.
  head_ = register_module("head", torch::nn::Linear(o_.hidden, 3 * o_.z_size * o_.mixtures + 2));
}

MdnRnnImpl::State MdnRnnImpl::initial_state(std::int64_t n) const {
  auto zeros = torch::zeros({1, n, o_.hidden});
  return {zeros, zeros.clone()};
}

MdnRnnImpl::Output MdnRnnImpl::forward(const torch::Tensor& z, const torch::Tensor& a, const State& state) {
  const auto input = torch::cat({z, a}, -1);
  const auto [hidden, next] =
      std::get<0>(state).defined() ? lstm_->forward(input, state) : lstm_->forward(input);
  const auto y = head_(hidden);
  const auto zk = o_.z_size * o_.mixtures;
  auto shape = hidden.sizes().vec();
  shape.back() = o_.z_size;
  shape.push_back(o_.mixtures);
  Output out;
  out.logits = y.narrow(-1, 0, zk).reshape(shape);
  out.loc = y.narrow(-1, zk, zk).reshape(shape);
  // Bounded so that a confident component cannot make the likelihood blow up.
  out.log_scale = y.narrow(-1, 2 * zk, zk).reshape(shape).clamp(-7.0, 3.0);
  out.reward = y.select(-1, 3 * zk);
  out.done_logit = y.select(-1, 3 * zk + 1);
  out.hidden = hidden;
  out.state = next;
  return out;
}

MdnRnnImpl::Output MdnRnnImpl::step(const torch::Tensor& z, const torch::Tensor& a, const State& state) {
  auto out = forward(z.unsqueeze(1), a.unsqueeze(1), state);
  for (auto* t : {&out.logits, &out.loc, &out.log_scale, &out.reward, &out.done_logit, &out.hidden})
    *t = t->squeeze(1);
  return out;
}

prob::DistPtr MdnRnnImpl::next_latent(const Output& out, double temperature) const {
  if (!(temperature > 0))
    throw Error("MdnRnn: temperature " + std::to_string(temperature) + ": expected > 0");
  return prob::MixtureOfNormal(torch::softmax(out.logits / temperature, -1), out.loc.unsqueeze(-1),
                               (out.log_scale.exp() * std::sqrt(temperature)).unsqueeze(-1),
                               {.var = {"z_next"}, .name = "p_M"});
}

torch::Tensor MdnRnnImpl::latent_nll(const Output& out, const torch::Tensor& z_next,
                                     const torch::Tensor& mask) const {
  // log Σ_k π_k N(z; μ_k, σ_k) per dimension, with log π from log_softmax for accuracy.
  const auto x = z_next.unsqueeze(-1);
  const auto comp = -(x - out.loc).square() / (2 * (2 * out.log_scale).exp()) - out.log_scale -
                    0.5 * std::log(2 * std::numbers::pi);
  const auto log_p = torch::logsumexp(torch::log_softmax(out.logits, -1) + comp, -1);  // [N, T, z]
  const auto m = mask.unsqueeze(-1).to(log_p.dtype());
  return -(log_p * m).sum() / (m.sum() * static_cast<double>(o_.z_size)).clamp_min(1.0);
}

torch::Tensor MdnRnnImpl::sample_latent(const Output& out, double temperature,
                                        c10::optional<torch::Generator> gen) const {
  if (!(temperature > 0))
    throw Error("MdnRnn: temperature " + std::to_string(temperature) + ": expected > 0");
  torch::NoGradGuard no_grad;
  // A component per dimension from softmax(logits / τ), then its Normal with σ·√τ.
  const auto probs = torch::softmax(out.logits / temperature, -1);
  const auto k = torch::multinomial(probs.reshape({-1, o_.mixtures}), 1, true, gen)
                     .view(probs.sizes().slice(0, probs.dim() - 1));
  const auto pick = [&](const torch::Tensor& t) { return t.gather(-1, k.unsqueeze(-1)).squeeze(-1); };
  const auto loc = pick(out.loc);
  const auto scale = pick(out.log_scale).exp() * std::sqrt(temperature);
  return loc + scale * at::randn(loc.sizes(), gen, loc.options());
}

// ---------------------------------------------------------------------------------------------- C
std::int64_t controller_parameters(std::int64_t features, std::int64_t action_size) {
  return action_size * features + action_size;
}

torch::Tensor controller_output(const torch::Tensor& params, const torch::Tensor& features,
                                std::int64_t action_size) {
  const auto p = params.size(0), f = features.size(1);
  if (params.size(1) != controller_parameters(f, action_size))
    throw Error("controller: " + std::to_string(params.size(1)) + " parameters: expected " +
                std::to_string(controller_parameters(f, action_size)) + " for " + std::to_string(f) +
                " features and " + std::to_string(action_size) + " actions");
  const auto w = params.narrow(1, 0, action_size * f).view({p, action_size, f});
  const auto b = params.narrow(1, action_size * f, action_size);
  return torch::tanh(torch::bmm(w, features.unsqueeze(-1)).squeeze(-1) + b);
}

torch::Tensor car_controls(const torch::Tensor& a) {
  return torch::stack({a.select(1, 0), (a.select(1, 1) + 1) / 2, a.select(1, 2).clamp_min(0)}, 1);
}

// ---------------------------------------------------------------------------------------------- dream
DreamEnv::DreamEnv(MdnRnn mdn, torch::Tensor start_latents, double temperature, ConvVae vae)
    : mdn_(std::move(mdn)),
      vae_(std::move(vae)),
      starts_(std::move(start_latents)),
      temperature_(temperature),
      action_space_(envs::Box({-1.0, 0.0, 0.0}, {1.0, 1.0, 1.0}, {3})),
      observation_space_(envs::Box(-std::numeric_limits<float>::infinity(),
                                   std::numeric_limits<float>::infinity(),
                                   {mdn_->options().z_size + mdn_->options().hidden})) {
  if (!(temperature > 0)) throw Error("dream: temperature " + std::to_string(temperature) + ": expected > 0");
  if (starts_.dim() != 2 || starts_.size(0) < 1 || starts_.size(1) != mdn_->options().z_size)
    throw Error("dream: start latents " + std::string(c10::str(starts_.sizes())) + ": expected [S, " +
                std::to_string(mdn_->options().z_size) + "]");
  if (mdn_->options().action_size != 3)
    throw Error("dream: M takes " + std::to_string(mdn_->options().action_size) +
                " actions: expected 3 (the car's)");
}

envs::ResetResult DreamEnv::reset(std::optional<std::uint64_t> seed) {
  seed_rng(seed);
  gen_ = at::make_generator<at::CPUGeneratorImpl>(rng()());
  std::uniform_int_distribution<std::int64_t> pick(0, starts_.size(0) - 1);
  z_ = starts_[pick(rng())].unsqueeze(0).clone();
  state_ = mdn_->initial_state(1);
  return {torch::cat({z_[0], std::get<0>(state_)[0][0]}), {}};
}

envs::StepResult DreamEnv::step(const torch::Tensor& action) {
  if (!z_.defined()) throw Error("Dream: step() before reset()");
  check_action(action);
  torch::NoGradGuard no_grad;
  const auto out = mdn_->step(z_, action.to(torch::kFloat32).view({1, 3}), state_);
  z_ = mdn_->sample_latent(out, temperature_, gen_);
  state_ = out.state;
  envs::StepResult r;
  r.obs = torch::cat({z_[0], out.hidden[0]});
  r.reward = out.reward.item<double>();
  r.terminated = out.done_logit.item<double>() > 0;
  return r;
}

torch::Tensor DreamEnv::render() const {
  if (!vae_ || !z_.defined()) return {};
  auto vae = vae_;  // the holder is const here, the module is not
  return vae->decode(z_)[0];
}

}  // namespace dojo::rl
