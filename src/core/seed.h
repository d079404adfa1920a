// Independent random streams from one run seed (the idea of numpy's SeedSequence): each consumer —
// the agent's sampling, network initialisation, the training env, vector env i, evaluation — gets a
// seed hashed from (run seed, stream name, index), so no two consumers share a stream and run s's
// env 1 is not run s+1's env 0, as it was with seed + i.
#pragma once
#include <cstdint>
#include <functional>
#include <string_view>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

// A 64-bit seed for `stream` (and its `index`-th member) of the run seeded with `seed`. Stable across
// platforms and releases: checkpoints and published figures depend on it.
std::uint64_t derive_seed(std::uint64_t seed, std::string_view stream, std::uint64_t index = 0);

// Runs `body` with LibTorch's global generator seeded with `seed`, then puts the generator back as
// it was: networks are initialised from the agent's own seed stream, and fixed test sets are drawn
// without moving the run's stream. Serialised, so bodies on several threads each get their own stream.
void with_seed(std::uint64_t seed, const std::function<void()>& body);

}  // namespace dojo::core

DOJO_PUBLIC_END
