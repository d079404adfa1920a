// The callbacks a training run is made of (SB3's common/callbacks.py): episode metrics to CSV,
// periodic greedy evaluation with best/last checkpoints, and a progress bar.
#pragma once
#include <cmath>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>

#include "core/csv.h"
#include "core/export.h"
#include "core/progress.h"
#include "core/tensorboard.h"
#include "envs/env.h"
#include "rl/agent.h"
#include "rl/evaluation.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

// One metrics.csv row per finished episode: step, episode, episode_return, episode_length, time_s,
// then a column for every value the agent has recorded (its logger: DQN's exploration, loss and
// q_mean; PPO's policy_loss, value_loss, entropy, approx_kl, …). Needs RecordEpisodeStatistics on
// the training env (or a vector env's episode statistics). With an event writer, the same values go to
// TensorBoard as rollout/episode_return, rollout/episode_length, train/<key> and time/steps_per_s.
class EpisodeLogger final : public Callback {
 public:
  EpisodeLogger(const std::filesystem::path& csv, bool append, double time_offset_s,
                std::shared_ptr<core::EventWriter> events = nullptr);
  bool on_step(Agent& agent, const StepInfo& info) override;
  // Mean return of the last 20 episodes (NaN before the first).
  double recent_return() const;
  std::int64_t episodes() const { return episodes_; }

 private:
  core::CsvLog csv_;
  std::shared_ptr<core::EventWriter> events_;
  std::deque<double> recent_;
  std::int64_t episodes_ = 0, start_step_ = -1;
  double time_offset_s_;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

// Every eval_freq steps: n_episodes greedy episodes on eval_env, a row in eval.csv, the last
// checkpoint, and the best checkpoint whenever the mean return improves. With a stop_threshold,
// training stops after an evaluation whose mean reaches it (SB3's StopTrainingOnRewardThreshold).
// With an event writer, each evaluation is also eval/mean_return and eval/mean_length in TensorBoard.
class EvalCallback final : public Callback {
 public:
  EvalCallback(std::unique_ptr<envs::Env> eval_env, std::int64_t eval_freq, std::int64_t n_episodes,
               const std::filesystem::path& run_dir, bool append, double best_so_far,
               std::function<std::map<std::string, double>()> bookkeeping,
               std::optional<double> stop_threshold = std::nullopt,
               std::shared_ptr<core::EventWriter> events = nullptr);
  bool on_step(Agent& agent, const StepInfo& info) override;
  void on_end(Agent& agent) override;
  double best_mean() const { return best_; }
  double last_mean() const { return last_; }
  // The last evaluation's D4RL normalised score, on envs with reference returns.
  std::optional<double> last_normalized() const;
  std::int64_t evaluations() const { return evaluations_; }

 private:
  void run_eval(Agent& agent, std::int64_t step);
  std::unique_ptr<envs::Env> env_;
  std::int64_t freq_, n_episodes_;
  std::filesystem::path dir_;
  core::CsvWriter csv_;
  double best_, last_;
  std::int64_t evaluations_ = 0, last_step_ = -1;
  std::function<std::map<std::string, double>()> bookkeeping_;
  std::optional<double> stop_threshold_;
  std::shared_ptr<core::EventWriter> events_;
  bool normalize_ = false;
};

class ProgressCallback final : public Callback {
 public:
  ProgressCallback(const EpisodeLogger* episodes, const EvalCallback* eval)
      : episodes_(episodes), eval_(eval) {}
  void on_start(Agent& agent, std::int64_t total) override;
  bool on_step(Agent& agent, const StepInfo& info) override;
  void on_end(Agent& agent) override;

 private:
  std::string status() const;
  const EpisodeLogger* episodes_;
  const EvalCallback* eval_;
  std::unique_ptr<core::ProgressBar> bar_;
  double exploration_ = std::nan("");
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
