#include "rl/bcq.h"

#include <torch/torch.h>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/seed.h"
#include "nn/mlp.h"
#include "nn/optim.h"
#include "rl/loops.h"
#include "rl/networks.h"

namespace dojo::rl {

namespace {
constexpr double kEncoderLogStdMin = -4.0,
                 kEncoderLogStdMax = 15.0;  // the encoder's σ bounds (the paper's code)
constexpr double kLatentClip = 0.5;         // prior samples of z are clipped to ±0.5
}  // namespace

ActionVAEImpl::ActionVAEImpl(std::int64_t obs_dim, std::int64_t action_dim,
                             const std::vector<std::int64_t>& arch)
    : encoder(register_module("encoder", nn::mlp_body(obs_dim + action_dim, arch))),
      decoder(register_module("decoder", nn::mlp(obs_dim + 2 * action_dim, arch, action_dim))),
      mean(register_module("mean", torch::nn::Linear(arch.back(), 2 * action_dim))),
      log_std(register_module("log_std", torch::nn::Linear(arch.back(), 2 * action_dim))),
      latent_dim(2 * action_dim) {}

ActionVAEImpl::Out ActionVAEImpl::forward(const torch::Tensor& obs, const torch::Tensor& action,
                                          const torch::Tensor& noise) {
  const auto h = encoder->forward(torch::cat({obs, action}, -1));
  Out o;
  o.mean = mean->forward(h);
  o.log_std = torch::clamp(log_std->forward(h), kEncoderLogStdMin, kEncoderLogStdMax);
  o.reconstruction = decode(obs, o.mean + o.log_std.exp() * noise);
  return o;
}

torch::Tensor ActionVAEImpl::decode(const torch::Tensor& obs, const torch::Tensor& z) {
  return torch::tanh(decoder->forward(torch::cat({obs, z}, -1)));
}

PerturbationImpl::PerturbationImpl(std::int64_t obs_dim, std::int64_t action_dim,
                                   const std::vector<std::int64_t>& arch, double phi_)
    : net(register_module("net", nn::mlp(obs_dim + action_dim, arch, action_dim))), phi(phi_) {}

torch::Tensor PerturbationImpl::forward(const torch::Tensor& obs, const torch::Tensor& action) {
  return torch::clamp(action + phi * torch::tanh(net->forward(torch::cat({obs, action}, -1))), -1.0, 1.0);
}

void BCQ::check_env(const BCQOptions& options, const envs::Env& env) {
  OfflineData::check("bcq", options.dataset(), env);
}

BCQ::BCQ(envs::EnvFactory env, BCQOptions options, std::uint64_t seed)
    : OfflineAgent(checked_env<BCQ>(env, options), options.dataset(), options.device(), options.batch_size(),
                   seed),
      opts_(std::move(options)) {
  const auto s = data_.obs_dim(), a = data_.action_dim();
  core::with_seed(core::derive_seed(seed, "network"), [&] {
    vae_ = ActionVAE(s, a, opts_.vae_arch());
    actor_ = Perturbation(s, a, opts_.net_arch(), opts_.phi());
    actor_target_ = Perturbation(s, a, opts_.net_arch(), opts_.phi());
    q_ = QEnsemble(s, a, opts_.net_arch(), 2);
    q_target_ = QEnsemble(s, a, opts_.net_arch(), 2);
  });
  for (torch::nn::Module* m :
       {static_cast<torch::nn::Module*>(vae_.get()), static_cast<torch::nn::Module*>(actor_.get()),
        static_cast<torch::nn::Module*>(actor_target_.get()), static_cast<torch::nn::Module*>(q_.get()),
        static_cast<torch::nn::Module*>(q_target_.get())})
    m->to(device_);
  init_target(*actor_target_, *actor_);
  init_target(*q_target_, *q_);
  vae_optimizer_ = adam(vae_->parameters(), opts_.learning_rate());
  actor_optimizer_ = adam(actor_->parameters(), opts_.learning_rate());
  q_optimizer_ = adam(q_->parameters(), opts_.learning_rate());
}

torch::Tensor BCQ::sample_actions(const torch::Tensor& obs, std::int64_t n) {
  const auto z =
      torch::clamp(standard_normal({n, obs.size(0), vae_->latent_dim}, rng_), -kLatentClip, kLatentClip);
  return vae_->decode(repeat_obs(obs, n), z.to(obs.device()));
}

torch::Tensor BCQ::act_batch(const torch::Tensor& obs, bool) {
  torch::NoGradGuard no_grad;
  const auto o = obs.to(device_, torch::kFloat32);
  const auto n = opts_.n_action_samples();
  const auto obs_n = repeat_obs(o, n);
  const auto candidates = actor_->forward(obs_n, sample_actions(o, n));  // [n, B, A]
  const auto best = q_->forward(obs_n, candidates)[0].argmax(0);         // [B], by Q_1
  const auto idx = best.view({1, -1, 1}).expand({1, o.size(0), candidates.size(2)});
  return data_.scaler().to_env(candidates.gather(0, idx)[0].cpu());
}

std::map<std::string, double> BCQ::update(const Batch& batch) {
  const auto b = batch.to(device_);
  std::map<std::string, double> out;

  // G: reconstruction + ½ KL to the prior.
  const auto noise = standard_normal(b.action.sizes().vec(), rng_);
  const auto g = vae_->forward(
      b.obs, b.action, torch::cat({noise, standard_normal(b.action.sizes().vec(), rng_)}, -1).to(device_));
  const auto kl = -0.5 * (1.0 + 2.0 * g.log_std - g.mean.pow(2) - (2.0 * g.log_std).exp()).mean();
  out["vae_loss"] =
      gradient_step(*vae_optimizer_, torch::mse_loss(g.reconstruction, b.action) + 0.5 * kl, 0.0);

  // Q: the best of n perturbed samples at s' under the soft clipped double Q.
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    const auto n = opts_.n_target_samples();
    const auto obs_n = repeat_obs(b.next_obs, n);
    const auto next = actor_target_->forward(obs_n, sample_actions(b.next_obs, n));
    const auto mixed = ensemble_mix(q_target_->forward(obs_n, next), opts_.ensemble_lambda());  // [n, B]
    y = b.reward + opts_.gamma() * (1.0 - b.terminated) * std::get<0>(mixed.max(0));
  }
  const auto qs = q_->forward(b.obs, b.action);
  out["q_loss"] = gradient_step(*q_optimizer_, (qs - y.unsqueeze(0)).pow(2).mean(1).sum(), 0.0);

  // ξ: maximise Q_1 at the perturbed VAE sample.
  {
    torch::Tensor sampled;
    {
      torch::NoGradGuard no_grad;
      sampled = sample_actions(b.obs, 1)[0];
    }
    FrozenParameters frozen(*q_);
    const auto perturbed = actor_->forward(b.obs, sampled);
    out["actor_loss"] = gradient_step(*actor_optimizer_, -q_->forward(b.obs, perturbed)[0].mean(), 0.0);
  }

  soft_update(*q_target_, *q_, opts_.tau());
  soft_update(*actor_target_, *actor_, opts_.tau());
  out["q_mean"] = qs.detach().mean().item<double>();
  return out;
}

std::string BCQ::options_yaml() const { return core::options_yaml(opts_); }

void BCQ::checkpoint_parts(core::CheckpointParts& parts) {
  parts.add("vae", *vae_).add("actor", *actor_).add("actor_target", *actor_target_);
  parts.add("q", *q_).add("q_target", *q_target_);
  parts.add("vae_optimizer", *vae_optimizer_).add("actor_optimizer", *actor_optimizer_);
  parts.add("q_optimizer", *q_optimizer_);
}

}  // namespace dojo::rl
