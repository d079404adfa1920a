#include "rl/agent.h"

#include <fmt/format.h>

#include <sstream>

#include "core/checkpoint.h"
#include "core/distributed.h"
#include "core/error.h"
#include "nn/optim.h"

namespace dojo::rl {

void CallbackList::on_start(Agent& a, std::int64_t total) {
  for (auto& c : callbacks_) c->on_start(a, total);
}

bool CallbackList::on_step(Agent& a, const StepInfo& info) {
  bool go_on = true;
  for (auto& c : callbacks_) go_on = c->on_step(a, info) && go_on;
  return go_on;
}

void CallbackList::on_end(Agent& a) {
  for (auto& c : callbacks_) c->on_end(a);
}

double Agent::gradient_step(torch::optim::Optimizer& optimizer, const torch::Tensor& loss,
                            double max_grad_norm) {
  const double value = nn::backward(optimizer, loss);
  if (gradient_hook_) gradient_hook_(nn::optimizer_params(optimizer));
  nn::clip_and_step(optimizer, max_grad_norm);
  return value;
}

double Agent::gradient_step(torch::optim::Optimizer& optimizer, const torch::Tensor& loss,
                            double max_grad_norm, std::int64_t samples, std::int64_t total_samples) {
  double value = 0.0;
  if (loss.defined()) {
    value = nn::backward(optimizer, loss);
  } else {
    optimizer.zero_grad();  // undefined gradients: average_gradients sends zeros for them
  }
  core::average_gradients(nn::optimizer_params(optimizer), samples, total_samples);
  if (gradient_hook_) gradient_hook_(nn::optimizer_params(optimizer));
  nn::clip_and_step(optimizer, max_grad_norm);
  return value;
}

std::int64_t Agent::horizon(std::int64_t total_timesteps) {
  if (schedule_horizon_ == 0) schedule_horizon_ = total_timesteps;
  return schedule_horizon_;
}

void Agent::write(core::CheckpointWriter& w, const std::map<std::string, double>& extra) const {
  w.put("algo", algo());
  save_state(w);
  w.put("num_timesteps", num_timesteps_);
  w.put("schedule_horizon", schedule_horizon_);
  std::ostringstream state;
  state << rng_;
  w.put("rng", state.str());
  std::string keys;
  for (const auto& [k, v] : extra) {
    w.put("extra/" + k, v);
    keys += k + "\n";
  }
  w.put("extra_keys", keys);
}

std::map<std::string, double> Agent::read(core::CheckpointReader& r, const std::string& where) {
  const auto found = r.get_string("algo");
  if (found != algo())
    throw Error("checkpoint '" + where + "' holds a " + found + " agent: expected " + algo());
  load_state(r);
  num_timesteps_ = r.get_int("num_timesteps");
  schedule_horizon_ = r.get_int("schedule_horizon");
  std::istringstream state(r.get_string("rng"));
  state >> rng_;
  if (!state)
    throw Error("checkpoint '" + where + "' has a corrupt generator state: expected a file written by dojo");
  std::map<std::string, double> extra;
  std::istringstream keys(r.get_string("extra_keys"));
  for (std::string k; std::getline(keys, k);) extra[k] = r.get_double("extra/" + k);
  return extra;
}

void Agent::save(const std::filesystem::path& path, const std::map<std::string, double>& extra) const {
  core::CheckpointWriter w;
  write(w, extra);
  w.save(path);
}

std::map<std::string, double> Agent::load(const std::filesystem::path& path) {
  core::CheckpointReader r(path,
                           device_);  // a missing, truncated or foreign file fails before anything changes
  // Loading changes modules and optimizers piece by piece; a piece that does not fit is found only
  // when its turn comes. Keep the agent's state in memory and put it back if any piece fails.
  core::CheckpointWriter snapshot;
  write(snapshot, {});
  const auto saved = snapshot.bytes();
  try {
    return read(r, path.string());
  } catch (...) {
    core::CheckpointReader back(saved, "the agent's state before loading", device_);
    read(back, "the agent's state before loading");
    throw;
  }
}

}  // namespace dojo::rl
