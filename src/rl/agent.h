// The one interface every agent implements (one level deep; shared machinery is composed, not
// inherited), and the typed callbacks a training loop reports to.
#pragma once
#include <torch/types.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "envs/env.h"

namespace dojo::core {
class CheckpointWriter;
class CheckpointReader;
}  // namespace dojo::core

namespace dojo::rl {

class Agent;

// What a callback sees after each environment step.
struct StepInfo {
  std::int64_t step = 0;   // env steps so far, this one included
  std::int64_t total = 0;  // the step count training runs to
  const envs::StepResult* result = nullptr;
  double exploration = std::nan("");  // ε for DQN; NaN for agents without ε-greedy exploration
  const std::map<std::string, double>* train_metrics = nullptr;  // of the last update (empty before)
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

class Agent {
 public:
  virtual ~Agent() = default;
  virtual std::string algo() const = 0;
  // Trains until num_timesteps() reaches total_timesteps (counted over the whole run, so a resumed
  // agent continues its count).
  virtual void learn(std::int64_t total_timesteps, Callback& callback) = 0;
  // One action for one observation.
  virtual torch::Tensor act(const torch::Tensor& obs, bool deterministic = true) = 0;
  virtual std::int64_t num_timesteps() const = 0;
  // Checkpoints hold networks, optimizer, step count and RNG state; `extra` adds run bookkeeping.
  virtual void save(const std::filesystem::path& path,
                    const std::map<std::string, double>& extra = {}) const = 0;
  // Returns the `extra` values saved with the checkpoint.
  virtual std::map<std::string, double> load(const std::filesystem::path& path) = 0;
};

// Checkpoint pieces every agent shares: the generator's state and the run's `extra` values, and the
// check that a checkpoint holds the expected algorithm.
void put_agent_state(core::CheckpointWriter& w, const std::mt19937_64& rng,
                     const std::map<std::string, double>& extra);
std::map<std::string, double> get_agent_state(core::CheckpointReader& r, std::mt19937_64& rng);
void require_algo(core::CheckpointReader& r, const std::filesystem::path& path, const std::string& algo);

}  // namespace dojo::rl
