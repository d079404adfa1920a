#include "rl/algos.h"

#include "core/error.h"
#include "core/strings.h"
#include "rl/dqn.h"

namespace dojo::rl {

std::vector<std::string> algorithms() { return {"dqn"}; }

void require_algorithm(const std::string& algo) {
  const auto known = algorithms();
  if (std::find(known.begin(), known.end(), algo) == known.end()) {
    throw Error("unknown algorithm '" + algo + "'" + core::did_you_mean(algo, known) +
                "; expected one of: " + core::join(known, ", "));
  }
}

std::vector<std::string> algorithm_keys(const std::string& algo) {
  require_algorithm(algo);
  return core::option_keys<DQNOptions>();
}

core::Config resolve_algorithm_config(const std::string& algo, const core::Config& config) {
  require_algorithm(algo);
  DQNOptions o;
  core::read_options(config, o);
  o.validate();
  core::Config out;
  core::write_options(o, out);
  return out;
}

std::unique_ptr<Agent> make_agent(const std::string& algo, const core::Config& config,
                                  std::unique_ptr<envs::Env> env, std::uint64_t seed) {
  require_algorithm(algo);
  DQNOptions o;
  core::read_options(config, o);
  return std::make_unique<DQN>(std::move(env), o, seed);
}

}  // namespace dojo::rl
