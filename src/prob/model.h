// prob::Model (Pixyz's Model): a loss, the distributions whose networks it trains, an optimizer.
#pragma once
#include <filesystem>
#include <memory>
#include <vector>

#include "core/export.h"
#include "nn/model.h"
#include "prob/loss.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {
class CheckpointWriter;
class CheckpointReader;
}  // namespace dojo::core

namespace dojo::prob {

class Model {
 public:
  Model(Loss loss, std::vector<DistPtr> distributions, nn::Optimizer optimizer = "adam",
        double clip_grad_norm = 0.0);
  // One gradient step on the loss of this batch (networks in training mode); returns its value.
  double train(const Dict& batch);
  // The loss of this batch without gradients, networks in inference mode (dropout off).
  double test(const Dict& batch);
  // Moves the distributions' weights and the optimizer's state to "cpu", "cuda", "cuda:N" or
  // "auto" (core/device.h); train and test then move each batch there.
  void to(const std::string& device);
  void to(c10::Device device);
  c10::Device device() const { return device_; }
  const Loss& loss() const { return loss_; }
  void save(const std::filesystem::path& path) const;
  void load(const std::filesystem::path& path);
  // The same inside a larger checkpoint (a training run's, with its own progress beside it).
  void put(core::CheckpointWriter& w) const;
  void get(core::CheckpointReader& r);

 private:
  Loss loss_;
  std::vector<DistPtr> distributions_;
  std::vector<torch::Tensor> params_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  double clip_;
  c10::Device device_ = c10::kCPU;
};

}  // namespace dojo::prob

DOJO_PUBLIC_END
