// Versioned checkpoint files on top of LibTorch's archives: modules, optimizers, tensors and strings
// under names, written atomically; a truncated or foreign file is reported as dojo::Error.
#pragma once
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

// 2: agents keep their schedule horizon (resumes no longer stretch ε and learning-rate schedules).
inline constexpr std::int64_t kCheckpointVersion = 2;

class CheckpointWriter {
 public:
  CheckpointWriter();
  void put(const std::string& key, const std::string& value);
  void put(const std::string& key, std::int64_t value);
  void put(const std::string& key, double value);
  void put(const std::string& key, const torch::Tensor& value);
  void put(const std::string& key, const torch::nn::Module& module);
  void put(const std::string& key, const torch::optim::Optimizer& optimizer);
  void save(const std::filesystem::path& path);
  // The checkpoint as bytes in memory (a snapshot to restore from).
  std::string bytes();

 private:
  torch::serialize::OutputArchive archive_;
};

class CheckpointReader {
 public:
  // Throws dojo::Error when the file is missing, truncated, corrupt, not a dojo checkpoint or of
  // another version. Its tensors are put on `device` whatever device wrote them (PyTorch's
  // map_location), so a run trained on a GPU loads on a CPU-only machine and the other way round.
  explicit CheckpointReader(const std::filesystem::path& path, c10::Device device = c10::kCPU);
  // A checkpoint held in memory (CheckpointWriter::bytes); `name` stands for the path in errors.
  CheckpointReader(const std::string& bytes, const std::string& name, c10::Device device = c10::kCPU);
  bool has(const std::string& key);  // a value (not a tensor or module) under `key`
  std::string get_string(const std::string& key);
  std::int64_t get_int(const std::string& key);
  double get_double(const std::string& key);
  torch::Tensor get_tensor(const std::string& key);
  void get(const std::string& key, torch::nn::Module& module);
  void get(const std::string& key, torch::optim::Optimizer& optimizer);
  // The file (or the name given for a checkpoint in memory), for messages.
  std::string name() const { return path_.string(); }

 private:
  void check_header();
  c10::IValue value(const std::string& key);
  [[noreturn]] void corrupt(const std::string& detail) const;
  std::filesystem::path path_;
  torch::serialize::InputArchive archive_;
};

// What a checkpoint holds, listed once — modules, optimizers, tensors (restored in place, their shape
// checked), counters and flags under their keys — so that saving and loading walk the same list and
// cannot drift apart. The list holds references: build it from the live object each time.
class CheckpointParts {
 public:
  CheckpointParts& add(std::string key, torch::nn::Module& module);
  CheckpointParts& add(std::string key, torch::optim::Optimizer& optimizer);
  CheckpointParts& add(std::string key, torch::Tensor& tensor);
  CheckpointParts& add(std::string key, std::int64_t& value);
  CheckpointParts& add(std::string key, bool& flag);
  void save(CheckpointWriter& w) const;
  // All or nothing is the caller's (Agent::load's); a missing key or a tensor of another shape throws
  // dojo::Error naming it.
  void load(CheckpointReader& r) const;

 private:
  using Part =
      std::variant<torch::nn::Module*, torch::optim::Optimizer*, torch::Tensor*, std::int64_t*, bool*>;
  std::vector<std::pair<std::string, Part>> parts_;
};

}  // namespace dojo::core

DOJO_PUBLIC_END
