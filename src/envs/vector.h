// Vector environments (gymnasium.vector): N copies of an env stepped as one, with batched
// observations written into preallocated tensors (EnvPool's idea: no per-step allocation, no stacking).
//
// Autoreset follows Gymnasium 1.x's default ("next-step"): the step on which env i's episode ends
// returns its final observation with terminated/truncated set; the next step() resets env i instead of
// stepping it (its action is ignored) and returns the first observation of the new episode with
// reward 0 and both flags false. Agents therefore see every final observation, and skip the
// transition from a final observation to a reset one.
#pragma once
#include <torch/types.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/export.h"
#include "envs/env.h"
#include "envs/factory.h"
#include "envs/registry.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs {

struct VecStep {
  torch::Tensor obs;         // [N, *obs_shape] in the space's dtype
  torch::Tensor reward;      // [N] float64
  torch::Tensor terminated;  // [N] bool
  torch::Tensor truncated;   // [N] bool
  // Episode statistics, valid where terminated or truncated: the whole episode's return and length.
  torch::Tensor episode_return;  // [N] float64
  torch::Tensor episode_length;  // [N] int64
};

class VectorEnv {
 public:
  // All envs must share their spaces.
  explicit VectorEnv(std::vector<std::unique_ptr<Env>> envs);
  virtual ~VectorEnv() = default;

  // Resets every env; with a seed, env i is seeded with core::derive_seed(seed, "vector_env", i): an
  // independent stream per env (Gymnasium's seed + i made env 1 of seed s env 0 of seed s + 1).
  // Returns the [N, *obs_shape] observations.
  torch::Tensor reset(std::optional<std::uint64_t> seed = std::nullopt);
  // actions: [N] int64 for Discrete spaces, [N, *shape] for Box. The returned tensors are this
  // vector env's buffers, overwritten by the next call: clone what must outlive it.
  const VecStep& step(const torch::Tensor& actions);

  std::int64_t num_envs() const { return static_cast<std::int64_t>(envs_.size()); }
  const Space& single_observation_space() const { return envs_.front()->observation_space(); }
  const Space& single_action_space() const { return envs_.front()->action_space(); }
  const Env& env(std::int64_t i) const { return *envs_[static_cast<std::size_t>(i)]; }
  virtual std::string name() const = 0;

 protected:
  // Runs work(i) for every env index; how (in turn or on threads) is the subclass's business.
  virtual void for_each_env(const std::function<void(std::int64_t)>& work) = 0;

 private:
  void write_obs(std::int64_t i, const torch::Tensor& obs);
  void step_one(std::int64_t i);

  std::vector<std::unique_ptr<Env>> envs_;
  VecStep out_;
  torch::Tensor actions_;                  // this step's, contiguous
  std::vector<std::uint8_t> needs_reset_;  // the last step ended env i's episode
  std::vector<double> running_return_;
  std::vector<std::int64_t> running_length_;
  std::int64_t obs_row_bytes_ = 0;
};

// Steps the envs one after another on the calling thread.
class SyncVectorEnv final : public VectorEnv {
 public:
  using VectorEnv::VectorEnv;
  std::string name() const override { return "SyncVectorEnv"; }

 protected:
  void for_each_env(const std::function<void(std::int64_t)>& work) override;
};

// Steps the envs on a pool of worker threads, each owning a contiguous block of envs. Every env keeps
// its own generator, so results equal SyncVectorEnv's for the same seeds, whatever the thread count.
class AsyncVectorEnv final : public VectorEnv {
 public:
  // n_threads 0: one per hardware thread, at most one per env.
  AsyncVectorEnv(std::vector<std::unique_ptr<Env>> envs, std::int64_t n_threads = 0);
  ~AsyncVectorEnv() override;
  std::string name() const override { return "AsyncVectorEnv"; }
  std::int64_t num_threads() const { return n_threads_; }

 protected:
  void for_each_env(const std::function<void(std::int64_t)>& work) override;

 private:
  void worker(std::int64_t w);
  void run_block(std::int64_t w, const std::function<void(std::int64_t)>& work);
  std::int64_t n_threads_ = 0;  // fixed before the workers start: they partition the envs by it
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_, done_;
  const std::function<void(std::int64_t)>* work_ = nullptr;
  std::uint64_t generation_ = 0;
  std::int64_t pending_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

struct VecOptions {
  bool async = false;
  std::int64_t n_threads = 0;  // AsyncVectorEnv's workers (0: hardware threads)
  MakeOptions make;            // for each env, when made from an id
};
// n envs made from id (each as envs::make does); dojo::Error for an unknown id or n < 1.
std::unique_ptr<VectorEnv> make_vec(const std::string& id, std::int64_t n, const VecOptions& options = {});
inline std::unique_ptr<VectorEnv> make_vec(const char* id, std::int64_t n, const VecOptions& options = {}) {
  return make_vec(std::string(id), n, options);
}
// n envs from the factory, each with the factory's whole wrapper stack (options.make is unused).
std::unique_ptr<VectorEnv> make_vec(const EnvFactory& factory, std::int64_t n,
                                    const VecOptions& options = {});

}  // namespace dojo::envs

DOJO_PUBLIC_END
