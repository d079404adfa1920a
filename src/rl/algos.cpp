#include "rl/algos.h"

#include "core/error.h"
#include "core/strings.h"
#include "rl/dqn.h"
#include "rl/ppo.h"
#include "rl/reinforce.h"

namespace dojo::rl {

namespace {

// Calls f(options) with a default-constructed options struct of the algorithm's type.
template <class F>
decltype(auto) with_options(const std::string& algo, F&& f) {
  require_algorithm(algo);
  if (algo == "reinforce") {
    REINFORCEOptions o;
    return f(o);
  }
  if (algo == "ppo") {
    PPOOptions o;
    return f(o);
  }
  if (algo == "a2c") {
    A2COptions o;
    return f(o);
  }
  DQNOptions o;
  return f(o);
}

}  // namespace

std::vector<std::string> algorithms() { return {"a2c", "dqn", "ppo", "reinforce"}; }

void require_algorithm(const std::string& algo) {
  const auto known = algorithms();
  if (std::find(known.begin(), known.end(), algo) == known.end()) {
    throw Error("unknown algorithm '" + algo + "'" + core::did_you_mean(algo, known) +
                "; expected one of: " + core::join(known, ", "));
  }
}

std::vector<std::string> algorithm_keys(const std::string& algo) {
  return with_options(algo, [](auto& o) { return core::option_keys<std::decay_t<decltype(o)>>(); });
}

core::Config resolve_algorithm_config(const std::string& algo, const core::Config& config) {
  return with_options(algo, [&](auto& o) {
    core::read_options(config, o);
    o.validate();
    core::Config out;
    core::write_options(o, out);
    return out;
  });
}

std::unique_ptr<Agent> make_agent(const std::string& algo, const core::Config& config,
                                  std::unique_ptr<envs::Env> env, std::uint64_t seed) {
  return with_options(algo, [&](auto& o) -> std::unique_ptr<Agent> {
    core::read_options(config, o);
    using Options = std::decay_t<decltype(o)>;
    if constexpr (std::is_same_v<Options, REINFORCEOptions>) {
      return std::make_unique<REINFORCE>(std::move(env), o, seed);
    } else if constexpr (std::is_same_v<Options, PPOOptions>) {
      return std::make_unique<PPO>(std::move(env), o, seed);
    } else if constexpr (std::is_same_v<Options, A2COptions>) {
      return std::make_unique<PPO>(std::move(env), o.to_ppo(), seed, "a2c");
    } else {
      return std::make_unique<DQN>(std::move(env), o, seed);
    }
  });
}

}  // namespace dojo::rl
