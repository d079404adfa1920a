#include "core/config.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/files.h"
#include "core/strings.h"

namespace dojo::core {

Config::Config() : root_(YAML::NodeType::Map) {}

Config Config::parse(const std::string& yaml_text, const std::string& source) {
  Config c;
  YAML::Node node;
  try {
    node = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw Error("config '" + source + "' is not valid YAML: " + e.msg + " (line " +
                std::to_string(e.mark.line + 1) + ")");
  }
  if (node.IsNull()) return c;
  if (!node.IsMap()) throw Error("config '" + source + "': expected a YAML mapping of key: value");
  for (const auto& kv : node) c.set(kv.first.as<std::string>(), kv.second);
  return c;
}

Config Config::load(const std::filesystem::path& path) {
  return parse(read_text(path, "config"), path.string());
}

void Config::set(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw Error("--set '" + assignment + "': expected key=value");
  }
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::Exception&) {
    value = YAML::Node(text);
  }
  set(key, value);
}

void Config::set(const std::string& key, const YAML::Node& value) { root_[key] = YAML::Clone(value); }

void Config::merge(const Config& over) {
  for (const auto& kv : over.root_) set(kv.first.as<std::string>(), kv.second);
}

void Config::erase(const std::string& key) { root_.remove(key); }

bool Config::has(const std::string& key) const { return static_cast<bool>(root_[key]); }

bool Config::is_section(const std::string& key) const {
  const auto n = at(key);
  return n && n.IsMap();
}

Config Config::section(const std::string& key) const {
  if (!is_section(key)) throw Error("config key '" + key + "': expected a mapping of key: value");
  Config c;
  for (const auto& kv : at(key)) c.set(kv.first.as<std::string>(), kv.second);
  return c;
}

std::string Config::text(const std::string& key) const {
  const auto n = at(key);
  if (!n) return "";
  if (n.IsScalar()) return n.as<std::string>();
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

std::vector<std::string> Config::keys() const {
  std::vector<std::string> out;
  for (const auto& kv : root_) out.push_back(kv.first.as<std::string>());
  return out;
}

std::string Config::dump() const {
  YAML::Emitter out;
  out << root_;
  return std::string(out.c_str()) + "\n";
}

YAML::Node Config::at(const std::string& key) const { return root_[key]; }

YAML::Node Config::node() const { return YAML::Clone(root_); }

void Config::read(const std::string& key, Config& value) const {
  const auto n = at(key);
  if (!n) return;
  if (n.IsNull()) {  // `key:` or `key: ~` with nothing after it: no entries
    value = Config();
    return;
  }
  if (!n.IsMap()) type_error(key, "a mapping of key: value like {is_slippery: false}");
  value = section(key);
}

void Config::type_error(const std::string& key, const std::string& expected) const {
  YAML::Emitter e;
  e << YAML::Flow << at(key);
  throw Error("config key '" + key + "': expected " + expected + ", got '" + e.c_str() + "'");
}

void Config::read(const std::string& key, double& value) const {
  const auto n = at(key);
  if (!n) return;
  if (!n.IsScalar()) type_error(key, "a number");
  try {
    value = n.as<double>();
  } catch (const YAML::Exception&) {
    type_error(key, "a number");
  }
}

void Config::read(const std::string& key, std::int64_t& value) const {
  const auto n = at(key);
  if (!n) return;
  if (!n.IsScalar()) type_error(key, "an integer");
  try {
    value = n.as<std::int64_t>();
    return;
  } catch (const YAML::Exception&) {
  }
  // RL-Zoo writes step counts as floats (`n_timesteps: !!float 5e4`); accept them when integral.
  try {
    const double d = n.as<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
      value = static_cast<std::int64_t>(d);
      return;
    }
  } catch (const YAML::Exception&) {
  }
  type_error(key, "an integer");
}

void Config::read(const std::string& key, bool& value) const {
  const auto n = at(key);
  if (!n) return;
  try {
    if (!n.IsScalar()) throw YAML::Exception({}, "");
    value = n.as<bool>();
  } catch (const YAML::Exception&) {
    type_error(key, "true or false");
  }
}

void Config::read(const std::string& key, std::string& value) const {
  const auto n = at(key);
  if (!n) return;
  if (!n.IsScalar()) type_error(key, "a string");
  value = n.as<std::string>();
}

void Config::read(const std::string& key, std::vector<std::int64_t>& value) const {
  const auto n = at(key);
  if (!n) return;
  if (!n.IsSequence()) type_error(key, "a list of integers like [64, 64]");
  std::vector<std::int64_t> out;
  try {
    for (const auto& item : n) out.push_back(item.as<std::int64_t>());
  } catch (const YAML::Exception&) {
    type_error(key, "a list of integers like [64, 64]");
  }
  value = out;
}

void Config::read(const std::string& key, std::vector<double>& value) const {
  const auto n = at(key);
  if (!n) return;
  if (!n.IsSequence()) type_error(key, "a list of numbers like [1, 0.5]");
  std::vector<double> out;
  try {
    for (const auto& item : n) out.push_back(item.as<double>());
  } catch (const YAML::Exception&) {
    type_error(key, "a list of numbers like [1, 0.5]");
  }
  value = out;
}

void Config::read(const std::string& key, std::vector<std::string>& value) const {
  const auto n = at(key);
  if (!n) return;
  if (!n.IsSequence()) type_error(key, "a list of strings like [a, b]");
  std::vector<std::string> out;
  for (const auto& item : n) {
    if (!item.IsScalar()) type_error(key, "a list of strings like [a, b]");
    out.push_back(item.as<std::string>());
  }
  value = out;
}

YAML::Node yaml_value(double value) {
  // The shortest text that reads back as the same double (0.99, not 0.98999999999999999).
  return YAML::Node(fmt::format("{}", value));
}

YAML::Node yaml_value(const Config& value) { return value.node(); }

void check_keys(const Config& config, const std::vector<std::string>& known) {
  for (const auto& key : config.keys()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      throw Error("unknown config key '" + key + "'" + did_you_mean(key, known) +
                  "; expected one of: " + join(known, ", "));
    }
  }
}

}  // namespace dojo::core
