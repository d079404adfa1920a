#include "core/seed.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Tensor.h>

#include <mutex>

namespace dojo::core {

namespace {

// SplitMix64's finaliser (Steele et al. 2014): a bijection whose output bits each depend on every
// input bit, so nearby inputs (seed, seed + 1) give unrelated outputs.
std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// FNV-1a over the stream's name.
std::uint64_t hash(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

std::uint64_t derive_seed(std::uint64_t seed, std::string_view stream, std::uint64_t index) {
  constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ULL;
  return mix(mix(mix(seed + kGolden) ^ hash(stream)) + kGolden * (index + 1));
}

void with_seed(std::uint64_t seed, const std::function<void()>& body) {
  static std::mutex mutex;
  const std::lock_guard lock(mutex);
  auto generator = at::detail::getDefaultCPUGenerator();  // a handle: the same generator
  const auto saved = generator.get_state();
  generator.set_current_seed(seed);
  try {
    body();
  } catch (...) {
    generator.set_state(saved);
    throw;
  }
  generator.set_state(saved);
}

}  // namespace dojo::core
