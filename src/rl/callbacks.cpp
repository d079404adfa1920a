#include "rl/callbacks.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>

#include "rl/dataset.h"

namespace dojo::rl {

namespace {
constexpr std::int64_t kOfflineLogEvery = 1000;  // gradient steps between an offline agent's metrics rows
}  // namespace

EpisodeLogger::EpisodeLogger(const std::filesystem::path& csv, bool append, double time_offset_s,
                             std::shared_ptr<core::EventWriter> events)
    : csv_(csv, {"step", "episode", "episode_return", "episode_length", "time_s"}, append),
      events_(std::move(events)),
      time_offset_s_(time_offset_s) {}

bool EpisodeLogger::on_step(Agent&, const StepInfo& info) {
  if (start_step_ < 0) start_step_ = info.step - 1;
  if (!info.result) {
    // Offline agents have no episodes: their recorded values every kOfflineLogEvery gradient steps.
    if (info.logger && (info.step % kOfflineLogEvery == 0 || info.step == info.total)) {
      const double t =
          time_offset_s_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
      std::vector<std::pair<std::string, double>> row{{"step", static_cast<double>(info.step)},
                                                      {"time_s", t}};
      for (const auto& [k, v] : info.logger->values()) row.emplace_back(k, v);
      csv_.row(row);
      if (events_) {
        for (std::size_t k = 2; k < row.size(); ++k)
          events_->scalar("train/" + row[k].first, info.step, row[k].second);
      }
    }
    return true;
  }
  const auto& i = info.result->info;
  const auto ret = i.find("episode_return");
  if (ret == i.end()) return true;
  ++episodes_;
  const double episode_return = ret->second.number();
  recent_.push_back(episode_return);
  if (recent_.size() > 20) recent_.pop_front();
  const double t =
      time_offset_s_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  std::vector<std::pair<std::string, double>> row{{"step", static_cast<double>(info.step)},
                                                  {"episode", static_cast<double>(episodes_)},
                                                  {"episode_return", episode_return},
                                                  {"episode_length", i.at("episode_length").number()},
                                                  {"time_s", t}};
  if (info.logger) {
    for (const auto& [k, v] : info.logger->values()) row.emplace_back(k, v);
  }
  csv_.row(row);
  if (events_) {
    events_->scalar("rollout/episode_return", info.step, episode_return);
    events_->scalar("rollout/episode_length", info.step, i.at("episode_length").number());
    for (std::size_t k = 5; k < row.size(); ++k)
      events_->scalar("train/" + row[k].first, info.step, row[k].second);
    const double session_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    if (session_s > 0)
      events_->scalar("time/steps_per_s", info.step,
                      static_cast<double>(info.step - start_step_) / session_s);
  }
  return true;
}

double EpisodeLogger::recent_return() const {
  if (recent_.empty()) return std::nan("");
  return std::accumulate(recent_.begin(), recent_.end(), 0.0) / static_cast<double>(recent_.size());
}

EvalCallback::EvalCallback(std::unique_ptr<envs::Env> eval_env, std::int64_t eval_freq,
                           std::int64_t n_episodes, const std::filesystem::path& run_dir, bool append,
                           double best_so_far, std::function<std::map<std::string, double>()> bookkeeping,
                           std::optional<double> stop_threshold, std::shared_ptr<core::EventWriter> events)
    : env_(std::move(eval_env)),
      freq_(eval_freq),
      n_episodes_(n_episodes),
      dir_(run_dir),
      best_(best_so_far),
      last_(std::nan("")),
      bookkeeping_(std::move(bookkeeping)),
      stop_threshold_(stop_threshold),
      events_(std::move(events)) {
  // D4RL's normalised score beside the return on envs with reference returns (a resumed run keeps
  // the columns its eval.csv has).
  const auto path = run_dir / "eval.csv";
  normalize_ = reference_returns(env_->id()).has_value();
  if (append && std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::string header;
    std::getline(in, header);
    normalize_ = normalize_ && header.find("normalized_score") != std::string::npos;
  }
  std::vector<std::string> columns{"step", "mean_return", "std_return", "mean_length"};
  if (normalize_) columns.push_back("normalized_score");
  csv_ = core::CsvWriter(path, columns, append);
}

std::optional<double> EvalCallback::last_normalized() const {
  if (!normalize_ || std::isnan(last_)) return std::nullopt;
  return normalized_score(env_->id(), last_);
}

void EvalCallback::run_eval(Agent& agent, std::int64_t step) {
  const auto r = evaluate(agent, *env_, n_episodes_);
  const double mean_len =
      std::accumulate(r.lengths.begin(), r.lengths.end(), 0.0) / static_cast<double>(r.lengths.size());
  std::vector<double> row{static_cast<double>(step), r.mean, r.std, mean_len};
  if (normalize_) row.push_back(*normalized_score(env_->id(), r.mean));
  csv_.row(row);
  if (events_) {
    events_->scalar("eval/mean_return", step, r.mean);
    if (normalize_) events_->scalar("eval/normalized_score", step, row.back());
    events_->scalar("eval/mean_length", step, mean_len);
    events_->flush();
  }
  last_ = r.mean;
  last_step_ = step;
  ++evaluations_;
  auto extra = bookkeeping_ ? bookkeeping_() : std::map<std::string, double>{};
  if (!(r.mean <= best_)) {  // also true while best_ is NaN
    best_ = r.mean;
    extra["best_eval_mean"] = best_;
    agent.save(dir_ / "checkpoints" / "best.ckpt", extra);
  }
  extra["best_eval_mean"] = best_;
  agent.save(dir_ / "checkpoints" / "last.ckpt", extra);
  spdlog::debug("eval at step {}: {:.2f} ± {:.2f}", step, r.mean, r.std);
}

bool EvalCallback::on_step(Agent& agent, const StepInfo& info) {
  if (freq_ > 0 && info.step % freq_ == 0) {
    run_eval(agent, info.step);
    if (stop_threshold_ && last_ >= *stop_threshold_) {
      spdlog::info("eval mean {:.2f} reached the reward threshold {:g} at step {}: stopping", last_,
                   *stop_threshold_, info.step);
      return false;
    }
  }
  return true;
}

void EvalCallback::on_end(Agent& agent) {
  if (last_step_ != agent.num_timesteps()) run_eval(agent, agent.num_timesteps());
}

void ProgressCallback::on_start(Agent& agent, std::int64_t total) {
  const auto p = agent.progress(total);
  bar_ = std::make_unique<core::ProgressBar>(p.total, p.unit, p.done);
}

std::string ProgressCallback::status() const {
  std::string s;
  if (episodes_ && !std::isnan(episodes_->recent_return()))
    s += fmt::format("return {:.1f}", episodes_->recent_return());
  if (eval_ && !std::isnan(eval_->last_mean())) s += fmt::format(" - eval {:.1f}", eval_->last_mean());
  if (const auto norm = eval_ ? eval_->last_normalized() : std::nullopt)
    s += fmt::format(" (score {:.1f})", *norm);
  if (!std::isnan(exploration_)) s += fmt::format(" - eps {:.3f}", exploration_);
  return s;
}

bool ProgressCallback::on_step(Agent& agent, const StepInfo& info) {
  if (info.logger) exploration_ = info.logger->get("exploration");
  if (info.step % 64 == 0 || info.step == info.total) bar_->update(agent.progress(info.total).done, status());
  return true;
}

void ProgressCallback::on_end(Agent& agent) {
  bar_->update(agent.progress(0).done, status());
  bar_->finish(status());
}

}  // namespace dojo::rl
