#include "rl/rlzoo.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "core/strings.h"
#include "rl/algos.h"

namespace dojo::rl {

namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\n");
  const auto e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// "a=1, b=[2, 3], c=dict(x=[4])" -> {"a", "1"}, {"b", "[2, 3]"}, {"c", "dict(x=[4])"}: splits at the
// commas outside brackets.
std::vector<std::pair<std::string, std::string>> keyword_args(const std::string& args,
                                                              const std::string& where) {
  std::vector<std::pair<std::string, std::string>> out;
  int depth = 0;
  std::string item;
  auto flush = [&] {
    const auto t = trim(item);
    item.clear();
    if (t.empty()) return;
    const auto eq = t.find('=');
    if (eq == std::string::npos) throw Error(where + ": '" + t + "' is not a keyword argument (name=value)");
    out.emplace_back(trim(t.substr(0, eq)), trim(t.substr(eq + 1)));
  };
  for (char c : args) {
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') --depth;
    if (c == ',' && depth == 0) {
      flush();
    } else {
      item += c;
    }
  }
  flush();
  return out;
}

// "dict(...)" -> its keyword arguments.
std::vector<std::pair<std::string, std::string>> dict_call(std::string text, const std::string& where) {
  text = trim(text);
  if (text.rfind("dict(", 0) != 0 || text.back() != ')')
    throw Error(where + ": '" + text + "' is not a dict(...) expression");
  return keyword_args(text.substr(5, text.size() - 6), where);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool python_bool(const std::string& v, const std::string& where) {
  if (v == "True" || v == "true") return true;
  if (v == "False" || v == "false") return false;
  throw Error(where + ": '" + v + "': expected True or False");
}

class Translator {
 public:
  Translator(std::string algo, std::string where)
      : algo_(std::move(algo)), where_(std::move(where)), keys_(algorithm_keys(algo_)) {}

  void key(const std::string& key, const core::Config& entry) {
    const auto value = entry.text(key);
    if (key == "policy") return policy(value);
    if (key == "policy_kwargs") return policy_kwargs(value);
    if (key == "normalize") return normalize(entry, value);
    if (key == "env_wrapper") return env_wrapper(value);
    if (key == "frame_stack") {
      if (value != "4") unsupported(key, "frame_stack " + value + " (the Atari preprocessing stacks 4)");
      return;
    }
    if (key == "n_envs" && !knows("n_envs")) {
      if (value != "1") unsupported(key, algo_ + " trains on one env");
      return;
    }
    if (value.rfind("lin_", 0) == 0) return linear(key, value.substr(4));
    out_.set(key, YAML::Load(value));  // the same name in dojo; check_keys judges it
  }
  core::Config result() const { return out_; }

 private:
  bool knows(const std::string& key) const {
    return std::find(keys_.begin(), keys_.end(), key) != keys_.end();
  }
  [[noreturn]] void unsupported(const std::string& key, const std::string& why) const {
    throw Error(where_ + ": RL Zoo key '" + key + "' cannot be honoured: " + why);
  }
  void set(const std::string& key, const YAML::Node& value, const std::string& zoo_key) {
    if (!knows(key)) unsupported(zoo_key, algo_ + " has no '" + key + "' setting");
    out_.set(key, value);
  }

  void policy(const std::string& v) {
    if (v == "MlpPolicy") return;
    if (v == "CnnPolicy") return set("network", YAML::Node("nature"), "policy");
    unsupported("policy", "'" + v + "' (expected MlpPolicy or CnnPolicy)");
  }

  void linear(const std::string& key, const std::string& start) {
    static const std::map<std::string, std::string> schedules{{"learning_rate", "lr_schedule"},
                                                              {"clip_range", "clip_range_schedule"}};
    const auto s = schedules.find(key);
    if (s == schedules.end()) unsupported(key, "lin_ schedules apply to learning_rate and clip_range");
    set(key, YAML::Load(start), key);
    set(s->second, YAML::Node("linear"), key);
  }

  void policy_kwargs(const std::string& text) {
    const auto where = where_ + " policy_kwargs";
    for (const auto& [k, v] : dict_call(text, where)) {
      if (k == "net_arch") {
        net_arch(v, where);
      } else if (k == "activation_fn") {
        const auto dot = v.rfind('.');
        set("activation", YAML::Node(lower(v.substr(dot == std::string::npos ? 0 : dot + 1))),
            "policy_kwargs");
      } else if (k == "ortho_init") {
        set("ortho_init", YAML::Node(python_bool(v, where)), "policy_kwargs");
      } else if (k == "log_std_init") {
        set("log_std_init", YAML::Load(v), "policy_kwargs");
      } else {
        unsupported("policy_kwargs",
                    "'" + k + "' (dojo reads net_arch, activation_fn, ortho_init, log_std_init)");
      }
    }
  }

  // [64, 64], or SB3's shared/separate forms [dict(pi=[..], vf=[..])] / dict(pi=[..], vf=[..]): dojo's
  // actor and critic have the same hidden sizes, so pi and vf must agree.
  void net_arch(std::string v, const std::string& where) {
    v = trim(v);
    if (v.rfind("[dict(", 0) == 0) v = trim(v.substr(1, v.size() - 2));
    if (v.rfind("dict(", 0) == 0) {
      std::string pi, vf;
      for (const auto& [k, sizes] : dict_call(v, where)) (k == "pi" ? pi : vf) = sizes;
      if (YAML::Load(pi).as<std::vector<std::int64_t>>() != YAML::Load(vf).as<std::vector<std::int64_t>>())
        unsupported("policy_kwargs", "net_arch with different pi " + pi + " and vf " + vf);
      v = pi;
    }
    set("net_arch", YAML::Load(v), "policy_kwargs");
  }

  // true: VecNormalize's defaults (observations and rewards); or "{'norm_obs': ..., 'norm_reward': ...}".
  void normalize(const core::Config& entry, const std::string& v) {
    bool obs = false, reward = false;
    if (v == "true" || v == "True" || v == "false" || v == "False") {
      obs = reward = entry.get<bool>("normalize", false);
    } else {
      std::string dict = v;
      std::replace(dict.begin(), dict.end(), '\'', ' ');
      std::replace(dict.begin(), dict.end(), ':', '=');
      if (dict.size() < 2 || trim(dict).front() != '{') unsupported("normalize", "'" + v + "'");
      dict = trim(dict);
      for (const auto& [k, b] : keyword_args(dict.substr(1, dict.size() - 2), where_ + " normalize")) {
        if (k == "norm_obs")
          obs = python_bool(b, where_);
        else if (k == "norm_reward")
          reward = python_bool(b, where_);
        else
          unsupported("normalize", "'" + k + "' (dojo reads norm_obs and norm_reward)");
      }
    }
    set("normalize_observations", YAML::Node(obs), "normalize");
    set("normalize_reward", YAML::Node(reward), "normalize");
  }

  void env_wrapper(const std::string& v) {
    if (v.find("AtariWrapper") == std::string::npos || v.find(',') != std::string::npos)
      unsupported("env_wrapper", v + " (dojo applies SB3's AtariWrapper only)");
    out_.set("atari_wrappers", YAML::Node(true));
  }

  std::string algo_, where_;
  std::vector<std::string> keys_;
  core::Config out_;
};

}  // namespace

bool is_rl_zoo_file(const core::Config& file) {
  const auto keys = file.keys();
  return !keys.empty() &&
         std::all_of(keys.begin(), keys.end(), [&](const auto& k) { return file.is_section(k); });
}

core::Config from_rl_zoo(const core::Config& file, const std::string& env_id, const std::string& algo,
                         const std::string& source) {
  std::string name = env_id;
  if (!file.has(name) && env_id.rfind("Pixel/", 0) == 0 && file.has("atari")) name = "atari";
  if (!file.has(name)) {
    throw Error("RL Zoo file '" + source + "' has no entry for '" + env_id + "'" +
                core::did_you_mean(env_id, file.keys()) +
                "; expected --env naming one of: " + core::join(file.keys(), ", "));
  }
  const auto entry = file.section(name);
  Translator t(algo, "RL Zoo file '" + source + "', entry " + name);
  for (const auto& key : entry.keys()) t.key(key, entry);
  auto out = t.result();
  out.set("algo", YAML::Node(algo));
  out.set("env_id", YAML::Node(env_id));
  return out;
}

}  // namespace dojo::rl
