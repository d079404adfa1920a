#include "envs/minatar/pixels.h"

#include <torch/torch.h>

#include <array>
#include <string>

namespace dojo::envs::minatar {

namespace {

constexpr std::int64_t kCellW = kFrameWidth / kGrid, kCellH = (kFrameHeight - kScoreRows) / kGrid;

// One colour per channel index, bright and distinct (Atari-like); a trail channel reads as grey.
constexpr std::array<std::array<std::uint8_t, 3>, 10> kPalette{{
    {200, 72, 72},    // red
    {84, 184, 153},   // teal
    {110, 110, 110},  // grey
    {181, 83, 40},    // brick orange
    {232, 232, 74},   // yellow
    {66, 72, 200},    // blue
    {198, 108, 58},   // tan
    {117, 181, 239},  // light blue
    {146, 70, 192},   // purple
    {24, 59, 157},    // dark blue
}};

// 3×5 digits, one row per string, '#' lit.
constexpr std::array<std::array<const char*, 5>, 10> kDigits{{
    {"###", "#.#", "#.#", "#.#", "###"},
    {".#.", "##.", ".#.", ".#.", "###"},
    {"###", "..#", "###", "#..", "###"},
    {"###", "..#", "###", "..#", "###"},
    {"#.#", "#.#", "###", "..#", "..#"},
    {"###", "#..", "###", "..#", "###"},
    {"###", "#..", "###", "#.#", "###"},
    {"###", "..#", "..#", "..#", "..#"},
    {"###", "#.#", "###", "#.#", "###"},
    {"###", "#.#", "###", "..#", "###"},
}};

void fill(std::uint8_t* frame, std::int64_t y0, std::int64_t x0, std::int64_t h, std::int64_t w,
          const std::array<std::uint8_t, 3>& rgb) {
  for (std::int64_t y = y0; y < y0 + h; ++y) {
    for (std::int64_t x = x0; x < x0 + w; ++x) {
      auto* p = frame + (y * kFrameWidth + x) * 3;
      p[0] = rgb[0];
      p[1] = rgb[1];
      p[2] = rgb[2];
    }
  }
}

}  // namespace

torch::Tensor render_frame(const Grid& grid, std::int64_t score) {
  auto frame = torch::zeros({kFrameHeight, kFrameWidth, 3}, torch::kUInt8);
  auto* f = frame.data_ptr<std::uint8_t>();
  for (int y = 0; y < kGrid; ++y) {
    for (int x = 0; x < kGrid; ++x) {
      for (int c = 0; c < grid.channels(); ++c) {
        if (grid.at(y, x, c)) {
          fill(f, kScoreRows + y * kCellH, x * kCellW, kCellH, kCellW,
               kPalette[static_cast<std::size_t>(c) % kPalette.size()]);
        }
      }
    }
  }
  // The score, right-aligned, in 3×5 digits scaled by 4.
  const auto text = std::to_string(std::max<std::int64_t>(0, score));
  constexpr std::int64_t kScale = 4, kAdvance = 4 * kScale;
  std::int64_t x0 = kFrameWidth - 8 - static_cast<std::int64_t>(text.size()) * kAdvance;
  for (char ch : text) {
    const auto& glyph = kDigits[static_cast<std::size_t>(ch - '0')];
    for (std::int64_t r = 0; r < 5; ++r) {
      for (std::int64_t c = 0; c < 3; ++c) {
        if (glyph[r][c] == '#') fill(f, 5 + r * kScale, x0 + c * kScale, kScale, kScale, {236, 236, 236});
      }
    }
    x0 += kAdvance;
  }
  return frame;
}

PixelEnv::PixelEnv(std::unique_ptr<MinAtarEnv> game)
    : game_(std::move(game)),
      observation_space_(Box(0.0, 255.0, {kFrameHeight, kFrameWidth, 3}, torch::kUInt8)) {}

torch::Tensor MinAtarEnv::render() const {
  return render_frame(game_->state(), static_cast<std::int64_t>(score_));
}

ResetResult PixelEnv::reset(std::optional<std::uint64_t> seed) {
  game_->reset(seed);
  return {game_->render(), {}};
}

StepResult PixelEnv::step(const torch::Tensor& action) {
  auto r = game_->step(action);
  r.obs = game_->render();
  return r;
}

}  // namespace dojo::envs::minatar
