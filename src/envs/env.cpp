#include "envs/env.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace dojo::envs {

namespace {
std::string holds(const std::variant<double, std::string, torch::Tensor>& v) {
  if (std::holds_alternative<double>(v)) return "a number";
  if (std::holds_alternative<std::string>(v)) return "a string";
  return "a tensor";
}
}  // namespace

double InfoValue::number() const {
  if (!is_number()) throw Error("info value holds " + holds(value_) + ": expected a number");
  return std::get<double>(value_);
}

const std::string& InfoValue::str() const {
  if (!is_string()) throw Error("info value holds " + holds(value_) + ": expected a string");
  return std::get<std::string>(value_);
}

const torch::Tensor& InfoValue::tensor() const {
  if (!is_tensor()) throw Error("info value holds " + holds(value_) + ": expected a tensor");
  return std::get<torch::Tensor>(value_);
}

torch::Tensor action_mask(const Info& info) {
  const auto it = info.find("action_mask");
  if (it == info.end()) return {};
  const auto& m = it->second.tensor();
  if (m.scalar_type() != torch::kBool || m.dim() != 1)
    throw Error("info[\"action_mask\"] is " + c10::str(m.sizes()) + " " +
                std::string(c10::toString(m.scalar_type())) +
                ": expected a 1-d bool tensor, one flag per action");
  return m;
}

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

std::vector<double> Env::box_action(const torch::Tensor& action) const {
  const auto* box = std::get_if<Box>(&action_space());
  if (!box) throw Error(name() + ": expected a Box action space, not " + to_string(action_space()));
  if (action.numel() != box->numel() || action.dtype() == torch::kBool) check_action(action);
  const auto flat = action.to(torch::kFloat32).to(torch::kDouble).contiguous();
  std::vector<double> values(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
  if (!std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); })) {
    throw Error(fmt::format("{}: action [{}] has a non-finite value: expected numbers in {}", name(),
                            fmt::join(values, ", "), to_string(action_space())));
  }
  return values;
}

torch::Tensor float_obs(std::initializer_list<double> values) {
  auto t = torch::empty({static_cast<std::int64_t>(values.size())}, torch::kFloat32);
  float* p = t.data_ptr<float>();
  for (double v : values) *p++ = static_cast<float>(v);
  return t;
}

}  // namespace dojo::envs
