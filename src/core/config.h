// Flat YAML configurations: one mapping from key to value, read from a preset file and overridden by
// `--set key=value`. Options structs (agents, runs) declare their keys once, in a `visit` member that
// calls f("key", field_, constraint) for each field (core/options.h); read_options/write_options/
// option_keys/check_options build on it, so a key's name, type, default and range live in one place.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

class Config {
 public:
  Config();
  // Throws dojo::Error when the file cannot be read or is not a YAML mapping.
  static Config load(const std::filesystem::path& path);
  static Config parse(const std::string& yaml_text, const std::string& source);

  // "key=value"; the value is parsed as YAML, so `net_arch=[64,64]` gives a list.
  void set(const std::string& assignment);
  void set(const std::string& key, const YAML::Node& value);
  // Keys of `over` replace ours.
  void merge(const Config& over);
  void erase(const std::string& key);

  bool has(const std::string& key) const;
  // A key whose value is itself a mapping (an RL Zoo file's per-env entries), as a Config; throws
  // dojo::Error naming the key when it is missing or not a mapping.
  bool is_section(const std::string& key) const;
  Config section(const std::string& key) const;
  // The value as YAML text ("[256, 256]", "lin_0.001"), "" when absent.
  std::string text(const std::string& key) const;
  std::vector<std::string> keys() const;
  std::string dump() const;

  // Reads `key` into `value` when present (leaving the default otherwise). Throws dojo::Error naming
  // the key, the value and the expected type when the value does not convert.
  void read(const std::string& key, double& value) const;
  void read(const std::string& key, std::int64_t& value) const;
  void read(const std::string& key, bool& value) const;
  void read(const std::string& key, std::string& value) const;
  void read(const std::string& key, std::vector<std::int64_t>& value) const;
  void read(const std::string& key, std::vector<std::string>& value) const;
  void read(const std::string& key, std::vector<double>& value) const;
  // A mapping (`env_kwargs: {is_slippery: false}`) as a Config of its own.
  void read(const std::string& key, Config& value) const;
  // The whole mapping as YAML (a copy).
  YAML::Node node() const;

  template <class T>
  T get(const std::string& key, T fallback) const {
    read(key, fallback);
    return fallback;
  }

 private:
  YAML::Node at(const std::string& key) const;
  [[noreturn]] void type_error(const std::string& key, const std::string& expected) const;
  YAML::Node root_;
};

// Throws dojo::Error for the first key of `config` not in `known`, suggesting the closest known ones.
void check_keys(const Config& config, const std::vector<std::string>& known);

template <class Options>
void read_options(const Config& config, Options& options) {
  options.visit([&](const char* key, auto& field, const auto&...) { config.read(key, field); });
}

// A field's YAML value; doubles in their shortest round-tripping form.
template <class T>
YAML::Node yaml_value(const T& value) {
  return YAML::Node(value);
}
YAML::Node yaml_value(double value);
YAML::Node yaml_value(const Config& value);

template <class Options>
void write_options(Options options, Config& config) {
  options.visit([&](const char* key, auto& field, const auto&...) { config.set(key, yaml_value(field)); });
}

// The options as the YAML text of their config (what a checkpoint keeps of them).
template <class Options>
std::string options_yaml(const Options& options) {
  Config config;
  write_options(options, config);
  return config.dump();
}

template <class Options>
std::vector<std::string> option_keys(Options options = {}) {
  std::vector<std::string> keys;
  options.visit([&](const char* key, auto&, const auto&...) { keys.emplace_back(key); });
  return keys;
}

}  // namespace dojo::core

DOJO_PUBLIC_END
