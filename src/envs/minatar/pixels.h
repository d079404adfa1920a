// Atari-like frames for the MinAtar games: 210×160×3 uint8 RGB, as the Arcade Learning Environment
// gives, drawn from the game's grid. Each cell is a 16×18 block, coloured by the kind of object in it
// (the later channel wins where two overlap); the top 30 rows are the score area. The Atari wrappers
// (grayscale, 84×84, frame stacks) apply to these frames unchanged.
#pragma once
#include <torch/types.h>

#include "core/export.h"
#include "envs/minatar/minatar.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs::minatar {

inline constexpr std::int64_t kFrameHeight = 210, kFrameWidth = 160, kScoreRows = 30;

// The frame of a grid with `score` written in the score area.
torch::Tensor render_frame(const Grid& grid, std::int64_t score);

// A MinAtar game seen through its frames: ids Pixel/<Game>-v1 (minimal actions) and -v0.
class PixelEnv final : public Env {
 public:
  explicit PixelEnv(std::unique_ptr<MinAtarEnv> game);
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  const Space& action_space() const override { return game_->action_space(); }
  const Space& observation_space() const override { return observation_space_; }
  torch::Tensor render() const override { return game_->render(); }
  std::vector<std::string> action_meanings() const override { return game_->action_meanings(); }
  std::string name() const override { return "Pixel" + game_->game().name(); }

 private:
  std::unique_ptr<MinAtarEnv> game_;
  Space observation_space_;
};

}  // namespace dojo::envs::minatar

DOJO_PUBLIC_END
