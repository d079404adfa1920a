// GIFs written by save_gif, read back with giflib's decoder.
#include "core/gif.h"

#include <gif_lib.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "core/error.h"

namespace dojo::core {
namespace {

namespace fs = std::filesystem;

// The decoded frames as [H, W, 3] uint8 tensors, and each frame's delay.
std::vector<torch::Tensor> read_gif(const fs::path& path, std::vector<int>* delays = nullptr) {
  int err = 0;
  GifFileType* gif = DGifOpenFileName(path.c_str(), &err);
  EXPECT_NE(gif, nullptr);
  EXPECT_EQ(DGifSlurp(gif), GIF_OK);
  std::vector<torch::Tensor> frames;
  for (int i = 0; i < gif->ImageCount; ++i) {
    const auto& img = gif->SavedImages[i];
    const ColorMapObject* map = img.ImageDesc.ColorMap ? img.ImageDesc.ColorMap : gif->SColorMap;
    auto f = torch::empty({gif->SHeight, gif->SWidth, 3}, torch::kUInt8);
    auto* p = f.data_ptr<std::uint8_t>();
    for (int k = 0; k < gif->SHeight * gif->SWidth; ++k) {
      const auto& c = map->Colors[img.RasterBits[k]];
      p[3 * k] = c.Red, p[3 * k + 1] = c.Green, p[3 * k + 2] = c.Blue;
    }
    frames.push_back(f);
    GraphicsControlBlock gcb;
    if (delays && DGifSavedExtensionToGCB(gif, i, &gcb) == GIF_OK) delays->push_back(gcb.DelayTime);
  }
  DGifCloseFile(gif, &err);
  return frames;
}

TEST(Gif, FewColoursAreKeptExactly) {
  const auto path = fs::temp_directory_path() / "dojo_gif_exact.gif";
  std::vector<torch::Tensor> frames;
  for (int i = 0; i < 5; ++i) {
    auto f = torch::zeros({6, 8, 3}, torch::kUInt8);
    f.index_put_({i, torch::indexing::Slice(), 0}, 200);  // a red bar moving down
    f.index_put_({torch::indexing::Slice(), i, 2}, 17);
    frames.push_back(f);
  }
  save_gif(path, frames, 7);
  std::vector<int> delays;
  const auto back = read_gif(path, &delays);
  ASSERT_EQ(back.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(torch::equal(back[i], frames[i])) << "frame " << i;
  EXPECT_EQ(delays, (std::vector<int>{7, 7, 7, 7, 7}));
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::others_read, fs::perms::others_read);
  fs::remove(path);
}

TEST(Gif, ManyColoursFallBackToTheColourCube) {
  const auto path = fs::temp_directory_path() / "dojo_gif_cube.gif";
  torch::manual_seed(0);
  const auto f = torch::randint(0, 256, {16, 16, 3}).to(torch::kUInt8);
  save_gif(path, {f});
  const auto back = read_gif(path);
  ASSERT_EQ(back.size(), 1u);
  // Each channel lands on the nearest of 0, 51, ..., 255: within 26 of the original.
  EXPECT_LE((back[0].to(torch::kInt) - f.to(torch::kInt)).abs().max().item<int>(), 26);
  fs::remove(path);
}

TEST(Gif, BadFramesAreErrorsAndLeaveTheOldFile) {
  const auto path = fs::temp_directory_path() / "dojo_gif_bad.gif";
  save_gif(path, {torch::zeros({4, 4, 3}, torch::kUInt8)});
  const auto before = fs::file_size(path);
  EXPECT_THROW(save_gif(path, {}), Error);
  EXPECT_THROW(save_gif(path, {torch::zeros({4, 4}, torch::kUInt8)}), Error);
  EXPECT_THROW(
      save_gif(path, {torch::zeros({4, 4, 3}, torch::kUInt8), torch::zeros({5, 4, 3}, torch::kUInt8)}),
      Error);
  EXPECT_THROW(save_gif(path, {torch::zeros({4, 4, 3})}), Error);  // float
  EXPECT_EQ(fs::file_size(path), before);
  fs::remove(path);
}

}  // namespace
}  // namespace dojo::core
