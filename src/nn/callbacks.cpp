#include "nn/callbacks.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <iostream>

#include "core/distributed.h"
#include "core/error.h"
#include "core/strings.h"
#include "nn/model.h"

namespace dojo::nn {

void Logs::set(const std::string& key, double value) {
  for (auto& [k, v] : items_) {
    if (k == key) {
      v = value;
      return;
    }
  }
  items_.emplace_back(key, value);
}

bool Logs::has(const std::string& key) const {
  for (const auto& kv : items_) {
    if (kv.first == key) return true;
  }
  return false;
}

double Logs::at(const std::string& key) const {
  std::vector<std::string> keys;
  for (const auto& [k, v] : items_) {
    if (k == key) return v;
    keys.push_back(k);
  }
  throw Error("no value '" + key + "' in the logs (have: " + core::join(keys, ", ") + ")");
}

ModelImpl& Callback::model() const {
  if (model_ == nullptr) throw std::logic_error("callback used outside fit");
  return *model_;
}

bool monitor_wants_max(const std::string& monitor, const std::string& mode) {
  if (mode == "min") return false;
  if (mode == "max") return true;
  if (mode != "auto") throw Error("unknown mode '" + mode + "', expected auto, min or max");
  return monitor.find("acc") != std::string::npos || monitor.find("auc") != std::string::npos;
}

namespace {
bool improved(double value, double best, double min_delta, bool max) {
  return max ? value - min_delta > best : value + min_delta < best;
}
double worst(bool max) { return max ? -INFINITY : INFINITY; }
}  // namespace

EarlyStopping::EarlyStopping(EarlyStoppingOptions o)
    : o_(std::move(o)), max_(monitor_wants_max(o_.monitor, o_.mode)) {
  if (o_.patience < 0) throw Error("EarlyStopping: patience must not be negative");
  o_.min_delta = std::abs(o_.min_delta);
}

void EarlyStopping::on_train_begin(const Logs&) {
  wait_ = 0;
  stopped_epoch_ = -1;
  best_epoch_ = -1;
  best_ = o_.baseline.value_or(worst(max_));
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(std::int64_t epoch, const Logs& logs) {
  const double value = logs.at(o_.monitor);
  if (o_.restore_best_weights && best_weights_.empty()) best_weights_ = model().get_weights();
  ++wait_;
  if (improved(value, best_, o_.min_delta, max_)) {
    best_ = value;
    best_epoch_ = epoch;
    if (o_.restore_best_weights) best_weights_ = model().get_weights();
    // Keras only resets when it has a baseline or the first epoch improved on it.
    wait_ = 0;
    return;
  }
  if (wait_ >= o_.patience && epoch > 0) {
    stopped_epoch_ = epoch;
    model().stop_training = true;
  }
}

void EarlyStopping::on_train_end(const Logs&) {
  if (o_.restore_best_weights && !best_weights_.empty() && stopped_epoch_ >= 0)
    model().set_weights(best_weights_);
}

ModelCheckpoint::ModelCheckpoint(std::filesystem::path path, ModelCheckpointOptions o)
    : path_(path.string()), o_(std::move(o)), max_(monitor_wants_max(o_.monitor, o_.mode)) {}

void ModelCheckpoint::on_epoch_end(std::int64_t epoch, const Logs& logs) {
  if (o_.save_best_only) {
    const double value = logs.at(o_.monitor);
    if (best_ && !improved(value, *best_, 0.0, max_)) return;
    best_ = value;
  }
  if (core::dist_rank() != 0) return;  // data parallel: the ranks hold the same weights; rank 0 writes
  std::string path = path_;
  const std::string tag = "{epoch}";
  if (auto at = path.find(tag); at != std::string::npos)
    path.replace(at, tag.size(), std::to_string(epoch + 1));
  if (o_.save_weights_only) {
    model().save_weights(path);
  } else {
    model().save(path);
  }
}

ReduceLROnPlateau::ReduceLROnPlateau(ReduceLROnPlateauOptions o)
    : o_(std::move(o)), max_(monitor_wants_max(o_.monitor, o_.mode)) {
  if (!(o_.factor > 0 && o_.factor < 1))
    throw Error("ReduceLROnPlateau: factor must be in (0, 1), got " + std::to_string(o_.factor));
}

void ReduceLROnPlateau::on_train_begin(const Logs&) {
  best_ = worst(max_);
  wait_ = 0;
  cooldown_ = 0;
}

void ReduceLROnPlateau::on_epoch_end(std::int64_t, const Logs& logs) {
  const double value = logs.at(o_.monitor);
  if (cooldown_ > 0) {
    --cooldown_;
    wait_ = 0;
  }
  if (improved(value, best_, o_.min_delta, max_)) {
    best_ = value;
    wait_ = 0;
    return;
  }
  if (cooldown_ > 0) return;
  if (++wait_ >= o_.patience) {
    const double lr = model().learning_rate();
    if (lr > o_.min_lr) {
      model().set_learning_rate(std::max(lr * o_.factor, o_.min_lr));
      cooldown_ = o_.cooldown;
      wait_ = 0;
    }
  }
}

LearningRateScheduler::LearningRateScheduler(std::function<double(std::int64_t, double)> schedule)
    : schedule_(std::move(schedule)) {}

void LearningRateScheduler::on_epoch_begin(std::int64_t epoch, const Logs&) {
  const double lr = schedule_(epoch, model().learning_rate());
  if (!(lr > 0) || !std::isfinite(lr)) {
    throw Error("LearningRateScheduler: the schedule gave learning rate " + std::to_string(lr) +
                " for epoch " + std::to_string(epoch));
  }
  model().set_learning_rate(lr);
}

CSVLogger::CSVLogger(std::filesystem::path path, bool append) : path_(std::move(path)), append_(append) {}

// Data parallel, the epoch's logs are the group's on every rank: rank 0 alone writes them.
void CSVLogger::on_train_begin(const Logs&) {
  if (core::dist_rank() != 0) return;
  header_written_ = append_ && std::filesystem::exists(path_) && std::filesystem::file_size(path_) > 0;
  if (!append_) {
    std::ofstream(path_, std::ios::trunc);
  }
}

void CSVLogger::on_epoch_end(std::int64_t epoch, const Logs& logs) {
  if (core::dist_rank() != 0) return;
  std::ofstream out(path_, std::ios::app);
  if (!out) throw Error("CSVLogger: cannot write '" + path_.string() + "'");
  if (!header_written_) {
    out << "epoch";
    for (const auto& [k, v] : logs.items()) out << "," << k;
    out << "\n";
    header_written_ = true;
  }
  out << epoch;
  for (const auto& [k, v] : logs.items()) out << "," << fmt::format("{}", v);
  out << "\n";
}

void TerminateOnNaN::on_train_batch_end(std::int64_t batch, const Logs& logs) {
  if (logs.has("loss") && !std::isfinite(logs.at("loss"))) {
    std::cout << "Batch " << batch << ": invalid loss, terminating training\n";
    model().stop_training = true;
  }
}

}  // namespace dojo::nn
