// The one interface every agent implements (one level deep; shared machinery is composed, not
// inherited), and the typed callbacks a training loop reports to.
#pragma once
#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/export.h"
#include "envs/env.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {
class CheckpointWriter;
class CheckpointReader;
}  // namespace dojo::core

namespace dojo::rl {

class Agent;

// What an agent records while it learns (SB3's logger.record): any key, the latest value of each —
// DQN's ε and TD loss, PPO's policy loss and approximate KL. metrics.csv gets a column per key.
class Logger {
 public:
  void record(const std::string& key, double value) { values_[key] = value; }
  void record(const std::map<std::string, double>& values) {
    for (const auto& [k, v] : values) values_[k] = v;
  }
  // NaN when the key was never recorded.
  double get(const std::string& key) const {
    const auto it = values_.find(key);
    return it == values_.end() ? std::nan("") : it->second;
  }
  const std::map<std::string, double>& values() const { return values_; }

 private:
  std::map<std::string, double> values_;
};

// What a callback sees after each environment step.
struct StepInfo {
  std::int64_t step = 0;   // env steps so far (gradient steps for offline agents), this one included
  std::int64_t total = 0;  // the step count training runs to
  const envs::StepResult* result = nullptr;  // null for offline agents (no env)
  const Logger* logger = nullptr;            // the agent's recorded values
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_start(Agent&, std::int64_t /*total*/) {}
  // Returning false stops training (SB3's contract).
  virtual bool on_step(Agent&, const StepInfo&) { return true; }
  virtual void on_end(Agent&) {}
};

class CallbackList final : public Callback {
 public:
  CallbackList() = default;
  explicit CallbackList(std::vector<std::shared_ptr<Callback>> callbacks)
      : callbacks_(std::move(callbacks)) {}
  void add(std::shared_ptr<Callback> c) { callbacks_.push_back(std::move(c)); }
  void on_start(Agent& a, std::int64_t total) override;
  bool on_step(Agent& a, const StepInfo& info) override;
  void on_end(Agent& a) override;

 private:
  std::vector<std::shared_ptr<Callback>> callbacks_;
};

// Gradients between backward and the optimizer step: the place for an all-reduce across processes
// or a gradient statistic. Gets the parameters whose gradients are about to be applied.
using GradientHook = std::function<void(const std::vector<torch::Tensor>& params)>;

class Agent {
 public:
  virtual ~Agent() = default;
  virtual std::string algo() const = 0;
  // Trains until num_timesteps() reaches total_timesteps (counted over the whole run, so a resumed
  // agent continues its count). Schedules (ε, learning rate, clip range) run over the horizon of the
  // first call, kept in checkpoints: a resumed run with more steps continues them where they were
  // instead of stretching them over the new total.
  virtual void learn(std::int64_t total_timesteps, Callback& callback) = 0;
  // Actions for a batch of observations [B, *obs_shape] -> [B, *action_shape] (batched search,
  // vector envs, serving).
  virtual torch::Tensor act_batch(const torch::Tensor& obs, bool deterministic = true) = 0;
  // One action for one observation.
  virtual torch::Tensor act(const torch::Tensor& obs, bool deterministic = true) {
    return act_batch(obs.unsqueeze(0), deterministic)[0];
  }
  std::int64_t num_timesteps() const { return num_timesteps_; }
  // What a progress bar counts toward learn(total_timesteps): env steps by default; on-policy agents
  // round the total up to whole rollouts (they stop only between them), REINFORCE counts iterations.
  struct Progress {
    std::int64_t done = 0, total = 0;
    std::string unit = "steps";
  };
  virtual Progress progress(std::int64_t total_timesteps) const { return {num_timesteps_, total_timesteps}; }
  const Logger& logger() const { return logger_; }
  // Where the networks, their optimizers and each update's minibatch live (the options' `device`);
  // envs, replay and rollouts stay on the CPU (core/device.h).
  c10::Device device() const { return device_; }
  // Called on every update's gradients before they are clipped and applied.
  void set_gradient_hook(GradientHook hook) { gradient_hook_ = std::move(hook); }

  // A checkpoint holds the algorithm, its options, networks, optimizers, step count, schedule horizon
  // and generator state (save_state adds the agent's own); `extra` adds run bookkeeping.
  void save(const std::filesystem::path& path, const std::map<std::string, double>& extra = {}) const;
  // Returns the `extra` values saved with the checkpoint. All or nothing: a checkpoint that does not
  // fit (another algorithm or architecture, a missing or corrupt piece) throws dojo::Error and leaves
  // the agent exactly as it was.
  std::map<std::string, double> load(const std::filesystem::path& path);

 protected:
  explicit Agent(std::uint64_t rng_seed) : rng_(rng_seed) {}
  // The agent's own pieces of a checkpoint: options, networks, optimizers, counters.
  virtual void save_state(core::CheckpointWriter& w) const = 0;
  virtual void load_state(core::CheckpointReader& r) = 0;
  // One optimizer step on `loss`: zero grads, backward, the gradient hook, clipping, step.
  double gradient_step(torch::optim::Optimizer& optimizer, const torch::Tensor& loss, double max_grad_norm);
  // Data parallel (DD-PPO): the same step with the gradients first averaged over the process group's
  // ranks, weighted by this rank's `samples` of all ranks' `total_samples`; an undefined `loss` (no
  // samples here this time) joins with zero gradients. Without a group it is the step above.
  double gradient_step(torch::optim::Optimizer& optimizer, const torch::Tensor& loss, double max_grad_norm,
                       std::int64_t samples, std::int64_t total_samples);
  std::int64_t horizon(std::int64_t total_timesteps);  // schedules' horizon (see learn)

  Logger logger_;
  std::mt19937_64 rng_;  // the agent's own draws: exploration, sampling, minibatch order
  std::int64_t num_timesteps_ = 0;
  std::int64_t schedule_horizon_ = 0;  // 0 until the first learn()
  c10::Device device_ = c10::kCPU;     // set from the options before the networks are built

 private:
  void write(core::CheckpointWriter& w, const std::map<std::string, double>& extra) const;
  std::map<std::string, double> read(core::CheckpointReader& r, const std::string& where);
  GradientHook gradient_hook_;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
