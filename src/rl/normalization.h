// Running normalisation of observations and rewards (SB3's VecNormalize, Gymnasium's
// NormalizeObservation/NormalizeReward): statistics updated from what the agent sees during training,
// frozen for evaluation, and saved in the agent's checkpoint so a loaded agent sees inputs as it did.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <string>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {
class CheckpointWriter;
class CheckpointReader;
}  // namespace dojo::core

namespace dojo::rl {

// Mean and variance of a stream of [B, *shape] batches (Chan et al.'s parallel update), in float64.
class RunningMeanStd {
 public:
  explicit RunningMeanStd(std::vector<std::int64_t> shape = {}, double epsilon = 1e-4);
  void update(const torch::Tensor& batch);  // [B, *shape]
  // Data parallel (DD-PPO): every update merges the batches of all ranks of the process group
  // (core/distributed.h), so all ranks keep the statistics of the union. Every rank must then update
  // in step with the others.
  void share_across_ranks(bool shared) { shared_ = shared; }
  const torch::Tensor& mean() const { return mean_; }
  const torch::Tensor& var() const { return var_; }
  double count() const { return count_; }
  void save(core::CheckpointWriter& w, const std::string& key) const;
  void load(core::CheckpointReader& r, const std::string& key);

 private:
  torch::Tensor mean_, var_;
  double count_;
  bool shared_ = false;
};

// Observations: (x − mean) / √(var + 1e−8), clipped to ±clip. Rewards: divided by the standard
// deviation of the discounted return (r_t / √(var(G) + 1e−8), G_t = γ G_{t−1} + r_t, reset at an
// episode's end), clipped to ±clip.
class Normalizer {
 public:
  Normalizer(std::vector<std::int64_t> obs_shape, std::int64_t n_envs, bool observations, bool rewards,
             double gamma, double clip_obs = 10.0, double clip_reward = 10.0);

  // Updates the statistics from a batch of observations [N, *shape] when `update`, then normalises.
  torch::Tensor observations(const torch::Tensor& obs, bool update);
  // rewards [N] and the envs whose episode ended at this step ([N] bool); updates and normalises.
  torch::Tensor rewards(const torch::Tensor& rewards, const torch::Tensor& done);

  bool enabled() const { return observations_ || rewards_; }
  // Statistics merged over the ranks of the process group at every update (RunningMeanStd).
  void share_across_ranks(bool shared) {
    obs_rms_.share_across_ranks(shared);
    ret_rms_.share_across_ranks(shared);
  }
  const RunningMeanStd& obs_stats() const { return obs_rms_; }
  const RunningMeanStd& return_stats() const { return ret_rms_; }
  // Keys obs_rms and ret_rms, after `prefix` (a second normaliser in one checkpoint).
  void save(core::CheckpointWriter& w, const std::string& prefix = "") const;
  void load(core::CheckpointReader& r, const std::string& prefix = "");

 private:
  bool observations_, rewards_;
  double gamma_, clip_obs_, clip_reward_;
  RunningMeanStd obs_rms_, ret_rms_;
  torch::Tensor returns_;  // [N] discounted returns so far
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
