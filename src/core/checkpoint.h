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

namespace dojo::core {

inline constexpr std::int64_t kCheckpointVersion = 1;

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

 private:
  torch::serialize::OutputArchive archive_;
};

class CheckpointReader {
 public:
  // Throws dojo::Error when the file is missing, truncated, corrupt, not a dojo checkpoint or of
  // another version.
  explicit CheckpointReader(const std::filesystem::path& path);
  std::string get_string(const std::string& key);
  std::int64_t get_int(const std::string& key);
  double get_double(const std::string& key);
  torch::Tensor get_tensor(const std::string& key);
  void get(const std::string& key, torch::nn::Module& module);
  void get(const std::string& key, torch::optim::Optimizer& optimizer);

 private:
  c10::IValue value(const std::string& key);
  [[noreturn]] void corrupt(const std::string& detail) const;
  std::filesystem::path path_;
  torch::serialize::InputArchive archive_;
};

}  // namespace dojo::core
