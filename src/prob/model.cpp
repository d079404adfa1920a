#include "prob/model.h"

#include <torch/torch.h>

#include <set>

#include "core/checkpoint.h"
#include "core/device.h"
#include "core/distributed.h"
#include "core/error.h"

namespace dojo::prob {

Model::Model(Loss loss, std::vector<DistPtr> distributions, nn::Optimizer optimizer, double clip_grad_norm)
    : loss_(std::move(loss)), distributions_(std::move(distributions)), clip_(clip_grad_norm) {
  // Distributions may share a network (a classifier seen as q(y|x) and as its relaxation): each weight
  // is optimised once.
  std::set<const void*> seen;
  for (const auto& d : distributions_) {
    for (const auto& p : d->parameters()) {
      if (p.requires_grad() && seen.insert(p.unsafeGetTensorImpl()).second) params_.push_back(p);
    }
  }
  if (params_.empty()) throw Error("prob::Model: the distributions have no weights to train");
  optimizer_ = nn::make_optimizer(params_, optimizer.options);
  core::broadcast_tensors(params_);  // data parallel: every rank starts from rank 0's weights
}

namespace {

Dict on(const Dict& batch, c10::Device device) {
  Dict out;
  for (const auto& [k, v] : batch) out[k] = v.to(device);
  return out;
}

}  // namespace

void Model::to(const std::string& device) { to(core::device(device)); }

void Model::to(c10::Device device) {
  for (const auto& d : distributions_) d->to(device);
  nn::move_state(*optimizer_, device);
  device_ = device;
}

double Model::train(const Dict& batch) {
  for (const auto& d : distributions_) d->train(true);
  auto value = loss_.eval(on(batch, device_));
  if (value.dim() != 0)
    throw Error("prob::Model: the loss " + loss_.str() + " is not a scalar; take mean() or sum()");
  // Data parallel: each rank's batch is its share of one global batch (equal shares), so the
  // gradients' mean over ranks is the global batch's; the value returned is the mean too.
  const double local = nn::backward(*optimizer_, value);
  const int world = core::dist_world_size();
  core::average_gradients(params_, 1, world);
  nn::clip_and_step(*optimizer_, clip_);
  if (world == 1) return local;
  return core::process_group()->allreduce_sum({local})[0] / world;
}

double Model::test(const Dict& batch) {
  for (const auto& d : distributions_) d->train(false);
  torch::NoGradGuard no_grad;
  return loss_.eval(on(batch, device_)).item<double>();
}

void Model::save(const std::filesystem::path& path) const {
  core::CheckpointWriter w;
  put(w);
  w.save(path);
}

void Model::put(core::CheckpointWriter& w) const {
  for (std::size_t i = 0; i < params_.size(); ++i) w.put("param/" + std::to_string(i), params_[i]);
  w.put("optimizer", *optimizer_);
}

void Model::load(const std::filesystem::path& path) {
  core::CheckpointReader r(path, device_);
  get(r);
}

void Model::get(core::CheckpointReader& r) {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto t = r.get_tensor("param/" + std::to_string(i));
    if (t.sizes() != params_[i].sizes()) {
      throw Error("'" + r.name() + "': weight " + std::to_string(i) + " has shape " + c10::str(t.sizes()) +
                  ", expected " + c10::str(params_[i].sizes()));
    }
    params_[i].copy_(t);
  }
  r.get("optimizer", *optimizer_);
}

}  // namespace dojo::prob
