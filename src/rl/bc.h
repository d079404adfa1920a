// Behaviour cloning: the dataset's policy fitted by maximum likelihood — a tanh-Gaussian π(a|s)
// trained to maximise log π(a|s) on the dataset's (s, a). The simplest offline baseline, and BRAC's
// behaviour model b (brac.h trains the same network the same way before it learns).
//
//   for each gradient step:  a minibatch (s, a) from the dataset
//     minimise −mean log π(a|s)
#pragma once
#include <torch/arg.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/export.h"
#include "core/options.h"
#include "envs/factory.h"
#include "rl/agent.h"
#include "rl/offline.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct BCOptions {
  TORCH_ARG(std::string, dataset) = "";     // a D4RL .hdf5 file or a Minari folder (--dataset)
  TORCH_ARG(double, learning_rate) = 5e-4;  // BRAC's behaviour model
  TORCH_ARG(std::int64_t, batch_size) = 256;
  TORCH_ARG(std::vector<std::int64_t>, net_arch) = std::vector<std::int64_t>{200, 200};
  TORCH_ARG(std::string, device) = "auto";
  // nll: the tanh-Gaussian's likelihood of the data's actions (BRAC's behaviour model); mse: squared
  // error of its mode, d3rlpy's deterministic BC, which actions clipped at ±1 do not pull outwards.
  TORCH_ARG(std::string, loss) = "nll";

 public:
  void validate() const { core::check_options(*this); }
  template <class F>
  void visit(F&& f) {
    f("dataset", dataset_);
    f("loss", loss_, core::one_of({"nll", "mse"}));
    f("learning_rate", learning_rate_, core::positive());
    f("batch_size", batch_size_, core::positive());
    f("net_arch", net_arch_, core::layer_sizes());
    f("device", device_, core::device_name());
  }
};

class BC final : public OfflineAgent {
 public:
  BC(envs::EnvFactory env, BCOptions options, std::uint64_t seed);
  static void check_env(const BCOptions& options, const envs::Env& env);

  std::string algo() const override { return "bc"; }
  // Deterministic: tanh(μ(s)); else a draw. Env units.
  torch::Tensor act_batch(const torch::Tensor& obs, bool deterministic = true) override;
  // One maximum-likelihood step on a minibatch (actions in [-1, 1]): {"bc_loss"}.
  std::map<std::string, double> update(const Batch& batch) override;
  TanhGaussianPolicy policy() const { return policy_; }

 private:
  std::string options_yaml() const override;
  void checkpoint_parts(core::CheckpointParts& parts) override;

  BCOptions opts_;
  TanhGaussianPolicy policy_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
