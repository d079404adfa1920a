// Animated GIFs (via Debian's giflib): how `dojo eval --record` shows an episode.
#pragma once
#include <torch/types.h>

#include <filesystem>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

// frames: [H, W, 3] uint8 RGB images of one size, shown `delay_cs` hundredths of a second each and
// looped forever. One palette serves every frame: the exact colours when there are at most 256 of
// them (game frames), otherwise a 6×6×6 colour cube. Written atomically.
void save_gif(const std::filesystem::path& path, const std::vector<torch::Tensor>& frames, int delay_cs = 5);

}  // namespace dojo::core

DOJO_PUBLIC_END
