// The algorithm registry: one entry per algorithm — its name, config keys, how its options are
// resolved and checked against an env's spaces, and how the agent is built. The trainer, the CLI's
// listing and presets all read from here; a new algorithm is one register_algorithm call
// (docs/architecture.md). Unknown names are errors, never a fallback.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/export.h"
#include "envs/env.h"
#include "envs/factory.h"
#include "rl/agent.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct AlgorithmSpec {
  std::string name;               // "dqn": the CLI's word and the presets' folder, configs/<name>/
  std::string summary;            // one line for listings
  std::vector<std::string> keys;  // the options struct's config keys
  // Every key with its value (from the config where set, else the default), validated: type and
  // range errors name the user's key.
  std::function<core::Config(const core::Config&)> resolve;
  // Throws dojo::Error when the algorithm with these options cannot run on this env's spaces.
  std::function<void(const core::Config&, const envs::Env&)> check_env;
  std::function<std::unique_ptr<Agent>(const core::Config&, const envs::EnvFactory&, std::uint64_t seed)>
      make;
  // Trains as one agent over the ranks of a process group (--nproc, torchrun, mpirun, srun).
  bool data_parallel = false;
};

// Adds (or replaces) an entry; thread-safe.
void register_algorithm(AlgorithmSpec spec);
// Registered names, sorted.
std::vector<std::string> algorithms();
// Throws dojo::Error for an unknown name, naming the known ones.
const AlgorithmSpec& algorithm(const std::string& name);
void require_algorithm(const std::string& name);

// Every key of options struct O with its value from `config` (else the default), validated.
template <class O>
core::Config resolve_options(const core::Config& config) {
  O o;
  core::read_options(config, o);
  o.validate();
  core::Config out;
  core::write_options(o, out);
  return out;
}

// The entry for an agent class A with options O, where A has A(EnvFactory, O, seed) and
// static A::check_env(const O&, const envs::Env&), and O has visit() and validate().
template <class A, class O>
AlgorithmSpec algorithm_spec(std::string name, std::string summary) {
  AlgorithmSpec s;
  s.name = std::move(name);
  s.summary = std::move(summary);
  s.keys = core::option_keys<O>();
  s.resolve = resolve_options<O>;
  s.check_env = [](const core::Config& config, const envs::Env& env) {
    O o;
    core::read_options(config, o);
    A::check_env(o, env);
  };
  s.make = [](const core::Config& config, const envs::EnvFactory& env,
              std::uint64_t seed) -> std::unique_ptr<Agent> {
    O o;
    core::read_options(config, o);
    return std::make_unique<A>(env, o, seed);
  };
  return s;
}

// Convenience over the registry.
std::vector<std::string> algorithm_keys(const std::string& algo);
core::Config resolve_algorithm_config(const std::string& algo, const core::Config& config);
std::unique_ptr<Agent> make_agent(const std::string& algo, const core::Config& config,
                                  const envs::EnvFactory& env, std::uint64_t seed);

}  // namespace dojo::rl

DOJO_PUBLIC_END
