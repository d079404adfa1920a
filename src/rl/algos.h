// Algorithms by name: the config keys each one reads and how to build it from a resolved config.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "envs/env.h"
#include "rl/agent.h"

namespace dojo::rl {

std::vector<std::string> algorithms();
// Throws dojo::Error for an unknown algorithm, naming the known ones.
void require_algorithm(const std::string& algo);
// The algorithm's own config keys (its options struct's fields).
std::vector<std::string> algorithm_keys(const std::string& algo);
// Every algorithm key with its value: from `config` where set, else the default. Type errors throw.
core::Config resolve_algorithm_config(const std::string& algo, const core::Config& config);
std::unique_ptr<Agent> make_agent(const std::string& algo, const core::Config& config,
                                  std::unique_ptr<envs::Env> env, std::uint64_t seed);

}  // namespace dojo::rl
