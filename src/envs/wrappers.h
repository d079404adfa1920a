// Wrappers change one thing each about an environment and forward the rest (gymnasium/wrappers).
#pragma once
#include <chrono>
#include <memory>

#include "core/export.h"
#include "envs/env.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs {

class Wrapper : public Env {
 public:
  explicit Wrapper(std::unique_ptr<Env> env);
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override { return env_->reset(seed); }
  using Env::step;
  StepResult step(const torch::Tensor& action) override { return env_->step(action); }
  const Space& action_space() const override { return env_->action_space(); }
  const Space& observation_space() const override { return env_->observation_space(); }
  torch::Tensor render() const override { return env_->render(); }
  std::vector<std::string> action_meanings() const override { return env_->action_meanings(); }
  std::string id() const override { return env_->id(); }
  Env& unwrapped();

 protected:
  std::string wrap_name(const std::string& self) const { return self + "<" + env_->name() + ">"; }
  std::unique_ptr<Env> env_;
};

// Truncates an episode after max_episode_steps steps (truncated = true, terminated untouched).
class TimeLimit final : public Wrapper {
 public:
  TimeLimit(std::unique_ptr<Env> env, std::int64_t max_episode_steps);
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  std::string name() const override { return wrap_name("TimeLimit"); }
  std::int64_t max_episode_steps() const { return max_steps_; }

 private:
  std::int64_t max_steps_;
  std::int64_t elapsed_ = 0;
};

// Refuses step() before the first reset(), as Gymnasium's OrderEnforcing does.
class OrderEnforcing final : public Wrapper {
 public:
  using Wrapper::Wrapper;
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  std::string name() const override { return wrap_name("OrderEnforcing"); }

 private:
  bool has_reset_ = false;
};

// At the end of an episode adds info["episode_return"], info["episode_length"] and
// info["episode_time"] (seconds since the episode's reset).
class RecordEpisodeStatistics final : public Wrapper {
 public:
  using Wrapper::Wrapper;
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  std::string name() const override { return wrap_name("RecordEpisodeStatistics"); }

 private:
  double return_ = 0.0;
  std::int64_t length_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace dojo::envs

DOJO_PUBLIC_END
