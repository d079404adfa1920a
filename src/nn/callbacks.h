// Keras' callbacks: hooks fit calls at the start and end of training, epochs and batches.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn {

class ModelImpl;

// Named values in the order they were set: loss, metrics, then val_loss, val_metrics.
class Logs {
 public:
  void set(const std::string& key, double value);
  bool has(const std::string& key) const;
  double at(const std::string& key) const;  // throws dojo::Error naming the known keys
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }
  bool empty() const { return items_.empty(); }

 private:
  std::vector<std::pair<std::string, double>> items_;
};

class Callback {
 public:
  virtual ~Callback() = default;
  void set_model(ModelImpl* model) { model_ = model; }
  virtual void on_train_begin(const Logs& /*logs*/) {}
  virtual void on_train_end(const Logs& /*logs*/) {}
  virtual void on_epoch_begin(std::int64_t /*epoch*/, const Logs& /*logs*/) {}
  virtual void on_epoch_end(std::int64_t /*epoch*/, const Logs& /*logs*/) {}
  virtual void on_train_batch_begin(std::int64_t /*batch*/, const Logs& /*logs*/) {}
  virtual void on_train_batch_end(std::int64_t /*batch*/, const Logs& /*logs*/) {}

 protected:
  ModelImpl& model() const;

 private:
  ModelImpl* model_ = nullptr;
};
using CallbackPtr = std::shared_ptr<Callback>;

// "min" for losses and errors, "max" for accuracies; "auto" picks by the monitored name.
bool monitor_wants_max(const std::string& monitor, const std::string& mode);

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0.0;  // a change smaller than this is no improvement
  std::int64_t patience = 0;
  std::string mode = "auto";
  bool restore_best_weights = false;
  std::optional<double> baseline = std::nullopt;
};
// Stops training when the monitored value has not improved for `patience` epochs.
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(std::int64_t epoch, const Logs& logs) override;
  void on_train_end(const Logs& logs) override;
  std::int64_t stopped_epoch() const { return stopped_epoch_; }  // -1 while not stopped
  std::int64_t best_epoch() const { return best_epoch_; }

 private:
  EarlyStoppingOptions o_;
  bool max_;
  double best_ = 0;
  std::int64_t wait_ = 0, stopped_epoch_ = -1, best_epoch_ = -1;
  std::vector<torch::Tensor> best_weights_;
};

struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  bool save_best_only = false;
  bool save_weights_only = false;
  std::string mode = "auto";
};
// Saves the model after each epoch (or only when the monitored value improved) to `path`, where
// "{epoch}" is replaced by the 1-based epoch number.
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::filesystem::path path, ModelCheckpointOptions options = {});
  void on_epoch_end(std::int64_t epoch, const Logs& logs) override;
  std::optional<double> best() const { return best_; }

 private:
  std::string path_;
  ModelCheckpointOptions o_;
  bool max_;
  std::optional<double> best_;
};

struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  double factor = 0.1;
  std::int64_t patience = 10;
  std::string mode = "auto";
  double min_delta = 1e-4;
  std::int64_t cooldown = 0;
  double min_lr = 0.0;
};
// Multiplies the learning rate by `factor` after `patience` epochs without improvement.
class ReduceLROnPlateau : public Callback {
 public:
  explicit ReduceLROnPlateau(ReduceLROnPlateauOptions options = {});
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(std::int64_t epoch, const Logs& logs) override;

 private:
  ReduceLROnPlateauOptions o_;
  bool max_;
  double best_ = 0;
  std::int64_t wait_ = 0, cooldown_ = 0;
};

// Sets the learning rate at the start of each epoch: schedule(epoch, current lr) -> new lr.
class LearningRateScheduler : public Callback {
 public:
  explicit LearningRateScheduler(std::function<double(std::int64_t epoch, double lr)> schedule);
  void on_epoch_begin(std::int64_t epoch, const Logs& logs) override;

 private:
  std::function<double(std::int64_t, double)> schedule_;
};

// Appends one row per epoch (epoch, then the logs) to a CSV file.
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::filesystem::path path, bool append = false);
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(std::int64_t epoch, const Logs& logs) override;

 private:
  std::filesystem::path path_;
  bool append_;
  bool header_written_ = false;
};

// Stops training at the first batch whose loss is NaN or infinite.
class TerminateOnNaN : public Callback {
 public:
  void on_train_batch_end(std::int64_t batch, const Logs& logs) override;
};

// Callbacks from functions, for one-off needs.
struct LambdaCallbackFunctions {
  std::function<void(std::int64_t, const Logs&)> on_epoch_begin = nullptr;
  std::function<void(std::int64_t, const Logs&)> on_epoch_end = nullptr;
  std::function<void(std::int64_t, const Logs&)> on_train_batch_end = nullptr;
  std::function<void(const Logs&)> on_train_begin = nullptr;
  std::function<void(const Logs&)> on_train_end = nullptr;
};
class LambdaCallback : public Callback {
 public:
  explicit LambdaCallback(LambdaCallbackFunctions f) : f_(std::move(f)) {}
  void on_epoch_begin(std::int64_t e, const Logs& l) override {
    if (f_.on_epoch_begin) f_.on_epoch_begin(e, l);
  }
  void on_epoch_end(std::int64_t e, const Logs& l) override {
    if (f_.on_epoch_end) f_.on_epoch_end(e, l);
  }
  void on_train_batch_end(std::int64_t b, const Logs& l) override {
    if (f_.on_train_batch_end) f_.on_train_batch_end(b, l);
  }
  void on_train_begin(const Logs& l) override {
    if (f_.on_train_begin) f_.on_train_begin(l);
  }
  void on_train_end(const Logs& l) override {
    if (f_.on_train_end) f_.on_train_end(l);
  }

 private:
  LambdaCallbackFunctions f_;
};

}  // namespace dojo::nn

DOJO_PUBLIC_END
