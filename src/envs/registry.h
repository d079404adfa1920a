// Versioned environment ids, as Gymnasium registers them (gymnasium/envs/__init__.py): each id names
// an entry point, a step limit (applied by TimeLimit) and the return at which the task counts as solved.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/export.h"
#include "envs/env.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs {

struct EnvSpec {
  std::string id;
  std::function<std::unique_ptr<Env>()> entry_point;
  std::optional<std::int64_t> max_episode_steps;
  std::optional<double> reward_threshold;
  // The env built from make()'s keyword arguments (Gymnasium's gym.make(id, **kwargs): FrozenLake's
  // map and slipperiness); unset for an env that takes none. It names any keyword it does not know.
  std::function<std::unique_ptr<Env>(const core::Config& kwargs)> kwargs_entry_point = nullptr;
};

void register_env(EnvSpec spec);
std::vector<std::string> registered_ids();
// Throws dojo::Error for an unknown id, listing the registered ids closest to it.
const EnvSpec& spec(const std::string& id);

struct MakeOptions {
  std::optional<std::int64_t> max_episode_steps = std::nullopt;  // overrides the spec's limit
  bool record_episode_statistics = false;
  core::Config kwargs = {};  // the env's own keyword arguments (EnvSpec::kwargs_entry_point)
};

// The env wrapped as Gymnasium's make() does: OrderEnforcing, then TimeLimit when the spec has a limit.
std::unique_ptr<Env> make(const std::string& id, const MakeOptions& options = {});

}  // namespace dojo::envs

DOJO_PUBLIC_END
