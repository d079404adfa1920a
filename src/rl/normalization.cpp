#include "rl/normalization.h"

#include <torch/torch.h>

#include "core/checkpoint.h"
#include "core/distributed.h"

namespace dojo::rl {

RunningMeanStd::RunningMeanStd(std::vector<std::int64_t> shape, double epsilon)
    : mean_(torch::zeros(shape, torch::kDouble)), var_(torch::ones(shape, torch::kDouble)), count_(epsilon) {}

void RunningMeanStd::update(const torch::Tensor& batch) {
  const auto x = batch.to(torch::kDouble);
  double n = static_cast<double>(x.size(0));
  auto batch_mean = x.mean(0), batch_var = x.var(0, /*unbiased=*/false);
  if (auto* group = core::process_group(); shared_ && group && group->size() > 1) {
    // The union of every rank's batch from its count, sum and sum of squares.
    const auto k = batch_mean.numel();
    std::vector<torch::Tensor> moments{torch::cat(
        {x.sum(0).reshape({-1}), (x * x).sum(0).reshape({-1}), torch::full({1}, n, torch::kDouble)})};
    group->allreduce_sum(moments);
    n = moments[0][2 * k].item<double>();
    batch_mean = (moments[0].slice(0, 0, k) / n).reshape(batch_mean.sizes());
    batch_var = (moments[0].slice(0, k, 2 * k) / n).reshape(batch_mean.sizes()) - batch_mean * batch_mean;
    batch_var.clamp_min_(0.0);
  }
  const double total = count_ + n;
  const auto delta = batch_mean - mean_;
  mean_ = mean_ + delta * (n / total);
  var_ = (var_ * count_ + batch_var * n + delta * delta * (count_ * n / total)) / total;
  count_ = total;
}

void RunningMeanStd::save(core::CheckpointWriter& w, const std::string& key) const {
  w.put(key + "/mean", mean_);
  w.put(key + "/var", var_);
  w.put(key + "/count", count_);
}

void RunningMeanStd::load(core::CheckpointReader& r, const std::string& key) {
  // Statistics live on the CPU with the observations they normalise, whatever device reads the file.
  mean_ = r.get_tensor(key + "/mean").cpu();
  var_ = r.get_tensor(key + "/var").cpu();
  count_ = r.get_double(key + "/count");
}

Normalizer::Normalizer(std::vector<std::int64_t> obs_shape, std::int64_t n_envs, bool observations,
                       bool rewards, double gamma, double clip_obs, double clip_reward)
    : observations_(observations),
      rewards_(rewards),
      gamma_(gamma),
      clip_obs_(clip_obs),
      clip_reward_(clip_reward),
      obs_rms_(std::move(obs_shape)),
      returns_(torch::zeros({n_envs}, torch::kDouble)) {}

torch::Tensor Normalizer::observations(const torch::Tensor& obs, bool update) {
  if (!observations_) return obs.to(torch::kFloat32);
  if (update) obs_rms_.update(obs);
  return ((obs.to(torch::kDouble) - obs_rms_.mean()) / torch::sqrt(obs_rms_.var() + 1e-8))
      .clamp(-clip_obs_, clip_obs_)
      .to(torch::kFloat32);
}

torch::Tensor Normalizer::rewards(const torch::Tensor& rewards, const torch::Tensor& done) {
  if (!rewards_) return rewards.to(torch::kFloat32);
  const auto r = rewards.to(torch::kDouble);
  returns_ = returns_ * gamma_ + r;
  ret_rms_.update(returns_);
  returns_ = torch::where(done, torch::zeros_like(returns_), returns_);
  return (r / torch::sqrt(ret_rms_.var() + 1e-8)).clamp(-clip_reward_, clip_reward_).to(torch::kFloat32);
}

void Normalizer::save(core::CheckpointWriter& w, const std::string& prefix) const {
  if (observations_) obs_rms_.save(w, prefix + "obs_rms");
  if (rewards_) ret_rms_.save(w, prefix + "ret_rms");
}

void Normalizer::load(core::CheckpointReader& r, const std::string& prefix) {
  if (observations_) obs_rms_.load(r, prefix + "obs_rms");
  if (rewards_) ret_rms_.load(r, prefix + "ret_rms");
}

}  // namespace dojo::rl
