#include "envs/wrappers.h"

#include "core/error.h"

namespace dojo::envs {

Wrapper::Wrapper(std::unique_ptr<Env> env) : env_(std::move(env)) {
  if (!env_) throw std::invalid_argument("Wrapper: null environment");
}

Env& Wrapper::unwrapped() {
  Env* e = env_.get();
  while (auto* w = dynamic_cast<Wrapper*>(e)) e = w->env_.get();
  return *e;
}

TimeLimit::TimeLimit(std::unique_ptr<Env> env, std::int64_t max_episode_steps)
    : Wrapper(std::move(env)), max_steps_(max_episode_steps) {
  if (max_episode_steps <= 0) {
    throw Error("TimeLimit: max_episode_steps = " + std::to_string(max_episode_steps) + ", expected > 0");
  }
}

ResetResult TimeLimit::reset(std::optional<std::uint64_t> seed) {
  elapsed_ = 0;
  return env_->reset(seed);
}

StepResult TimeLimit::step(const torch::Tensor& action) {
  auto r = env_->step(action);
  if (++elapsed_ >= max_steps_) r.truncated = true;
  return r;
}

ResetResult OrderEnforcing::reset(std::optional<std::uint64_t> seed) {
  has_reset_ = true;
  return env_->reset(seed);
}

StepResult OrderEnforcing::step(const torch::Tensor& action) {
  if (!has_reset_) throw Error(env_->name() + ": step() called before reset(); expected reset() first");
  return env_->step(action);
}

ResetResult RecordEpisodeStatistics::reset(std::optional<std::uint64_t> seed) {
  return_ = 0.0;
  length_ = 0;
  start_ = std::chrono::steady_clock::now();
  return env_->reset(seed);
}

StepResult RecordEpisodeStatistics::step(const torch::Tensor& action) {
  auto r = env_->step(action);
  return_ += r.reward;
  ++length_;
  if (r.done()) {
    r.info["episode_return"] = return_;
    r.info["episode_length"] = static_cast<double>(length_);
    r.info["episode_time"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  return r;
}

}  // namespace dojo::envs
