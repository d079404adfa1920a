#include "envs/vector.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/seed.h"
#include "envs/registry.h"

namespace dojo::envs {

namespace {
std::vector<std::int64_t> batched(std::int64_t n, const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> out{n};
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}
}  // namespace

VectorEnv::VectorEnv(std::vector<std::unique_ptr<Env>> envs) : envs_(std::move(envs)) {
  if (envs_.empty()) throw Error("a vector env needs at least one env");
  const auto obs = to_string(envs_.front()->observation_space()),
             act = to_string(envs_.front()->action_space());
  for (const auto& e : envs_) {
    if (to_string(e->observation_space()) != obs || to_string(e->action_space()) != act) {
      throw Error("vector env: " + e->name() + " has spaces " + to_string(e->observation_space()) + ", " +
                  to_string(e->action_space()) + "; expected those of the first env, " + obs + ", " + act);
    }
  }
  const auto n = num_envs();
  const auto* box = std::get_if<Box>(&single_observation_space());
  const auto* discrete = std::get_if<Discrete>(&single_observation_space());
  if (box) {
    out_.obs = torch::zeros(batched(n, box->shape), box->dtype);
  } else if (discrete) {
    out_.obs = torch::zeros({n}, torch::kLong);
  } else {
    const auto& multi = std::get<MultiDiscrete>(single_observation_space());
    out_.obs = torch::zeros({n, static_cast<std::int64_t>(multi.nvec.size())}, torch::kLong);
  }
  obs_row_bytes_ = out_.obs[0].numel() * static_cast<std::int64_t>(out_.obs.element_size());
  out_.reward = torch::zeros({n}, torch::kDouble);
  out_.terminated = torch::zeros({n}, torch::kBool);
  out_.truncated = torch::zeros({n}, torch::kBool);
  out_.episode_return = torch::zeros({n}, torch::kDouble);
  out_.episode_length = torch::zeros({n}, torch::kLong);
  needs_reset_.assign(static_cast<std::size_t>(n), 0);
  running_return_.assign(static_cast<std::size_t>(n), 0.0);
  running_length_.assign(static_cast<std::size_t>(n), 0);
}

// Row i of the observation buffer <- obs, by memcpy (a tensor copy_ per env costs microseconds of
// dispatch for a few bytes).
void VectorEnv::write_obs(std::int64_t i, const torch::Tensor& obs) {
  const auto o = obs.to(out_.obs.scalar_type()).contiguous();
  std::memcpy(static_cast<char*>(out_.obs.data_ptr()) + i * obs_row_bytes_, o.data_ptr(),
              static_cast<std::size_t>(obs_row_bytes_));
}

torch::Tensor VectorEnv::reset(std::optional<std::uint64_t> seed) {
  for_each_env([&](std::int64_t i) {
    const auto r = envs_[static_cast<std::size_t>(i)]->reset(
        seed ? std::optional<std::uint64_t>(
                   core::derive_seed(*seed, "vector_env", static_cast<std::uint64_t>(i)))
             : std::nullopt);
    write_obs(i, r.obs);
    needs_reset_[static_cast<std::size_t>(i)] = 0;
    running_return_[static_cast<std::size_t>(i)] = 0.0;
    running_length_[static_cast<std::size_t>(i)] = 0;
  });
  return out_.obs;
}

void VectorEnv::step_one(std::int64_t i) {
  const auto k = static_cast<std::size_t>(i);
  auto& env = *envs_[k];
  auto* reward = out_.reward.data_ptr<double>();
  auto* terminated = out_.terminated.data_ptr<bool>();
  auto* truncated = out_.truncated.data_ptr<bool>();
  if (needs_reset_[k]) {
    // Next-step autoreset: this step starts the new episode; the action is ignored.
    write_obs(i, env.reset().obs);
    reward[i] = 0.0;
    terminated[i] = truncated[i] = false;
    needs_reset_[k] = 0;
    running_return_[k] = 0.0;
    running_length_[k] = 0;
    return;
  }
  const auto s = env.step(actions_[i]);
  write_obs(i, s.obs);
  reward[i] = s.reward;
  terminated[i] = s.terminated;
  truncated[i] = s.truncated;
  running_return_[k] += s.reward;
  ++running_length_[k];
  if (s.done()) {
    needs_reset_[k] = 1;
    out_.episode_return.data_ptr<double>()[i] = running_return_[k];
    out_.episode_length.data_ptr<std::int64_t>()[i] = running_length_[k];
  }
}

const VecStep& VectorEnv::step(const torch::Tensor& actions) {
  if (actions.dim() == 0 || actions.size(0) != num_envs()) {
    throw Error("vector env step: " + std::to_string(actions.dim() == 0 ? 0 : actions.size(0)) +
                " actions for " + std::to_string(num_envs()) + " envs; expected one per env");
  }
  actions_ = actions.contiguous();
  for_each_env([this](std::int64_t i) { step_one(i); });
  return out_;
}

void SyncVectorEnv::for_each_env(const std::function<void(std::int64_t)>& work) {
  for (std::int64_t i = 0; i < num_envs(); ++i) work(i);
}

AsyncVectorEnv::AsyncVectorEnv(std::vector<std::unique_ptr<Env>> envs, std::int64_t n_threads)
    : VectorEnv(std::move(envs)) {
  if (n_threads < 0) throw Error("n_threads = " + std::to_string(n_threads) + ": expected >= 0");
  if (n_threads == 0) n_threads = std::max<std::int64_t>(1, std::thread::hardware_concurrency());
  n_threads_ = std::min(n_threads, num_envs());
  // The calling thread steps block 0 itself: one wake-up fewer per step, none with one thread.
  for (std::int64_t w = 1; w < n_threads_; ++w) workers_.emplace_back([this, w] { worker(w); });
}

AsyncVectorEnv::~AsyncVectorEnv() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  start_.notify_all();
  for (auto& t : workers_) t.join();
}

// Block w holds envs [w·N/T, (w+1)·N/T): each env is always stepped by the same thread.
void AsyncVectorEnv::run_block(std::int64_t w, const std::function<void(std::int64_t)>& work) {
  const auto n = num_envs(), t = num_threads();
  for (auto i = w * n / t; i < (w + 1) * n / t; ++i) work(i);
}

void AsyncVectorEnv::worker(std::int64_t w) {
  std::uint64_t seen = 0;
  for (;;) {
    const std::function<void(std::int64_t)>* work = nullptr;
    {
      std::unique_lock lock(mutex_);
      start_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      work = work_;
    }
    std::exception_ptr error;
    try {
      run_block(w, *work);
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    if (error && !error_) error_ = error;
    if (--pending_ == 0) done_.notify_one();
  }
}

void AsyncVectorEnv::for_each_env(const std::function<void(std::int64_t)>& work) {
  if (workers_.empty()) return run_block(0, work);
  {
    std::lock_guard lock(mutex_);
    work_ = &work;
    pending_ = static_cast<std::int64_t>(workers_.size());
    error_ = nullptr;
    ++generation_;
  }
  start_.notify_all();
  std::exception_ptr mine;
  try {
    run_block(0, work);
  } catch (...) {
    mine = std::current_exception();
  }
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return pending_ == 0; });
  if (mine) std::rethrow_exception(mine);
  if (error_) std::rethrow_exception(error_);
}

std::unique_ptr<VectorEnv> make_vec(const std::string& id, std::int64_t n, const VecOptions& o) {
  return make_vec(EnvFactory(id, o.make), n, o);
}

std::unique_ptr<VectorEnv> make_vec(const EnvFactory& factory, std::int64_t n, const VecOptions& o) {
  if (n < 1)
    throw Error("make_vec(" + factory.id() + ", " + std::to_string(n) + "): expected at least one env");
  std::vector<std::unique_ptr<Env>> envs;
  for (std::int64_t i = 0; i < n; ++i) envs.push_back(factory());
  if (o.async) return std::make_unique<AsyncVectorEnv>(std::move(envs), o.n_threads);
  return std::make_unique<SyncVectorEnv>(std::move(envs));
}

}  // namespace dojo::envs
