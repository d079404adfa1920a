// Collecting offline datasets from a trained (or partly trained) run — BRAC's behaviour mixtures and
// D4RL's kinds (`dojo dataset collect`):
//
//   pure                  the run's policy (its deterministic action)
//   eps1, eps3            20% uniform random, 40% pure, 40% ε-greedy (ε 0.1 / 0.3: a uniform action
//                         with probability ε)           — Wu, Tucker & Nachum 2019, section 5
//   gaussian1, gaussian3  20% uniform random, 40% pure, 40% pure + N(0, 0.1² / 0.3²), clipped
//   random                uniform random actions        — D4RL's kinds
//   medium, expert        the policy's own samples (a stochastic policy's draws, as D4RL's SAC)
//   medium-expert         half medium (the first run), half expert (the second)
//   medium-replay         the run's replay memory up to its checkpoint: the run is trained again from
//                         its seed to the checkpoint's step (the same transitions as an uninterrupted
//                         run with the same thread count); off-policy runs (SAC, TD3) only
//
// Each part of a mixture is collected in whole episodes on the run's env, seeded from `seed`; where a
// part's quota ends mid-episode the episode is cut as a time-out (it still bootstraps).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/export.h"
#include "rl/dataset.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct CollectOptions {
  std::string mix = "pure";
  std::int64_t size = 1'000'000;    // transitions
  std::string checkpoint = "best";  // best | last
  std::uint64_t seed = 0;
};

// The mixtures collect() knows, in the order listings show them.
const std::vector<std::string>& collect_mixes();

// `runs` holds one run directory, or two for medium-expert (medium, then expert). Throws dojo::Error
// for an unknown mix, a run that is not one, or a run whose env has no Box actions.
OfflineDataset collect(const std::vector<std::filesystem::path>& runs, const CollectOptions& options);

}  // namespace dojo::rl

DOJO_PUBLIC_END
