#include "core/checkpoint.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <sstream>
#include <type_traits>

#include "core/error.h"
#include "core/files.h"

namespace dojo::core {

namespace fs = std::filesystem;

CheckpointWriter::CheckpointWriter() {
  put("format", std::string("dojo-checkpoint"));
  put("version", kCheckpointVersion);
}

void CheckpointWriter::put(const std::string& key, const std::string& value) {
  archive_.write(key, c10::IValue(value));
}
void CheckpointWriter::put(const std::string& key, std::int64_t value) {
  archive_.write(key, c10::IValue(value));
}
void CheckpointWriter::put(const std::string& key, double value) { archive_.write(key, c10::IValue(value)); }
void CheckpointWriter::put(const std::string& key, const torch::Tensor& value) { archive_.write(key, value); }

void CheckpointWriter::put(const std::string& key, const torch::nn::Module& module) {
  torch::serialize::OutputArchive sub;
  module.save(sub);
  archive_.write(key, sub);
}

void CheckpointWriter::put(const std::string& key, const torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive sub;
  optimizer.save(sub);
  archive_.write(key, sub);
}

void CheckpointWriter::save(const fs::path& path) {
  atomic_write(path, [&](const fs::path& tmp) { archive_.save_to(tmp.string()); });
}

std::string CheckpointWriter::bytes() {
  std::ostringstream out;
  archive_.save_to(out);
  return out.str();
}

CheckpointReader::CheckpointReader(const fs::path& path, c10::Device device) : path_(path) {
  if (!fs::is_regular_file(path))
    throw Error("checkpoint '" + path.string() + "' not found: expected a file");
  try {
    archive_.load_from(path.string(), device);
  } catch (const c10::Error&) {
    corrupt("cannot be read");
  }
  check_header();
}

CheckpointReader::CheckpointReader(const std::string& bytes, const std::string& name, c10::Device device)
    : path_(name) {
  std::istringstream in(bytes);
  try {
    archive_.load_from(in, device);
  } catch (const c10::Error&) {
    corrupt("cannot be read");
  }
  check_header();
}

void CheckpointReader::check_header() {
  std::string format;
  try {
    c10::IValue v;
    if (archive_.try_read("format", v) && v.isString()) format = v.toStringRef();
  } catch (const c10::Error&) {
  }
  if (format != "dojo-checkpoint") corrupt("has no dojo checkpoint header");
  const auto version = get_int("version");
  if (version != kCheckpointVersion) {
    throw Error("checkpoint '" + path_.string() + "' has version " + std::to_string(version) + ": expected " +
                std::to_string(kCheckpointVersion));
  }
}

void CheckpointReader::corrupt(const std::string& detail) const {
  throw Error("checkpoint '" + path_.string() + "' is truncated or corrupt (" + detail +
              "): expected a file written by dojo");
}

c10::IValue CheckpointReader::value(const std::string& key) {
  c10::IValue v;
  if (!archive_.try_read(key, v)) corrupt("missing '" + key + "'");
  return v;
}

bool CheckpointReader::has(const std::string& key) {
  c10::IValue v;
  try {
    return archive_.try_read(key, v);
  } catch (const c10::Error&) {
    return false;
  }
}

std::string CheckpointReader::get_string(const std::string& key) {
  auto v = value(key);
  if (!v.isString()) corrupt("'" + key + "' is not a string");
  return v.toStringRef();
}

std::int64_t CheckpointReader::get_int(const std::string& key) {
  auto v = value(key);
  if (!v.isInt()) corrupt("'" + key + "' is not an integer");
  return v.toInt();
}

double CheckpointReader::get_double(const std::string& key) {
  auto v = value(key);
  if (!v.isDouble()) corrupt("'" + key + "' is not a number");
  return v.toDouble();
}

torch::Tensor CheckpointReader::get_tensor(const std::string& key) {
  torch::Tensor t;
  if (!archive_.try_read(key, t)) corrupt("missing tensor '" + key + "'");
  return t;
}

void CheckpointReader::get(const std::string& key, torch::nn::Module& module) {
  torch::serialize::InputArchive sub;
  if (!archive_.try_read(key, sub)) corrupt("missing module '" + key + "'");
  // LibTorch's load replaces a parameter of another shape instead of refusing it, so compare shapes.
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> shapes;
  for (const auto& p : module.named_parameters()) shapes.emplace_back(p.key(), p.value().sizes().vec());
  try {
    module.load(sub);
  } catch (const c10::Error& e) {
    corrupt("module '" + key + "' does not fit: " + std::string(e.what_without_backtrace()));
  }
  for (const auto& [name, shape] : shapes) {
    const auto now = module.named_parameters()[name].sizes().vec();
    if (now != shape) {
      throw Error("checkpoint '" + path_.string() + "': " + key + "." + name + " has shape " +
                  c10::str(c10::IntArrayRef(now)) + ", expected " + c10::str(c10::IntArrayRef(shape)) +
                  " (a network of another architecture)");
    }
  }
}

void CheckpointReader::get(const std::string& key, torch::optim::Optimizer& optimizer) {
  torch::serialize::InputArchive sub;
  if (!archive_.try_read(key, sub)) corrupt("missing optimizer '" + key + "'");
  try {
    optimizer.load(sub);
  } catch (const c10::Error& e) {
    corrupt("optimizer '" + key + "' does not fit: " + std::string(e.what_without_backtrace()));
  }
}

CheckpointParts& CheckpointParts::add(std::string key, torch::nn::Module& module) {
  parts_.emplace_back(std::move(key), &module);
  return *this;
}
CheckpointParts& CheckpointParts::add(std::string key, torch::optim::Optimizer& optimizer) {
  parts_.emplace_back(std::move(key), &optimizer);
  return *this;
}
CheckpointParts& CheckpointParts::add(std::string key, torch::Tensor& tensor) {
  parts_.emplace_back(std::move(key), &tensor);
  return *this;
}
CheckpointParts& CheckpointParts::add(std::string key, std::int64_t& value) {
  parts_.emplace_back(std::move(key), &value);
  return *this;
}
CheckpointParts& CheckpointParts::add(std::string key, bool& flag) {
  parts_.emplace_back(std::move(key), &flag);
  return *this;
}

void CheckpointParts::save(CheckpointWriter& w) const {
  for (const auto& [key, part] : parts_) {
    std::visit(
        [&, &key = key](auto* p) {
          using T = std::remove_pointer_t<decltype(p)>;
          if constexpr (std::is_same_v<T, torch::Tensor>)
            w.put(key, p->detach().cpu());
          else if constexpr (std::is_same_v<T, bool>)
            w.put(key, static_cast<std::int64_t>(*p));
          else
            w.put(key, *p);
        },
        part);
  }
}

void CheckpointParts::load(CheckpointReader& r) const {
  for (const auto& [key, part] : parts_) {
    std::visit(
        [&, &key = key](auto* p) {
          using T = std::remove_pointer_t<decltype(p)>;
          if constexpr (std::is_same_v<T, torch::Tensor>) {
            const auto v = r.get_tensor(key);
            if (v.sizes() != p->sizes())
              throw Error(fmt::format("checkpoint's {} has shape [{}]: expected [{}]", key,
                                      fmt::join(v.sizes(), ", "), fmt::join(p->sizes(), ", ")));
            torch::NoGradGuard no_grad;
            p->copy_(v);
          } else if constexpr (std::is_same_v<T, bool>) {
            *p = r.get_int(key) != 0;
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            *p = r.get_int(key);
          } else {
            r.get(key, *p);
          }
        },
        part);
  }
}

}  // namespace dojo::core
