#include "envs/env.h"

#include <torch/torch.h>

#include "core/error.h"

namespace dojo::envs {

StepResult Env::step(std::int64_t action) { return step(torch::scalar_tensor(action, torch::kLong)); }

void Env::seed_rng(std::optional<std::uint64_t> seed) {
  if (seed) {
    rng_.seed(*seed);
    seeded_ = true;
  } else if (!seeded_) {
    std::random_device entropy;
    rng_.seed((static_cast<std::uint64_t>(entropy()) << 32) | entropy());
    seeded_ = true;
  }
}

void Env::check_action(const torch::Tensor& action) const {
  if (!contains(action_space(), action)) {
    std::string shown;
    if (action.numel() == 1)
      shown = std::to_string(action.item<double>());
    else
      shown = "tensor of shape " + std::string(c10::str(action.sizes()));
    throw Error(name() + ": action " + shown + " is not in " + to_string(action_space()));
  }
}

torch::Tensor float_obs(std::initializer_list<double> values) {
  auto t = torch::empty({static_cast<std::int64_t>(values.size())}, torch::kFloat32);
  float* p = t.data_ptr<float>();
  for (double v : values) *p++ = static_cast<float>(v);
  return t;
}

}  // namespace dojo::envs
