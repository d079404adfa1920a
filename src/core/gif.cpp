#include "core/gif.h"

#include <gif_lib.h>
#include <torch/torch.h>

#include <cstring>
#include <memory>
#include <unordered_map>

#include "core/error.h"
#include "core/files.h"

namespace dojo::core {

namespace {

std::uint32_t rgb(const std::uint8_t* p) {
  return (static_cast<std::uint32_t>(p[0]) << 16) | (static_cast<std::uint32_t>(p[1]) << 8) | p[2];
}

// Maps colours to palette indices: exact when the frames use at most 256 colours, else a 6×6×6 cube.
class Palette {
 public:
  explicit Palette(const std::vector<torch::Tensor>& frames) {
    for (const auto& f : frames) {
      const auto* p = f.data_ptr<std::uint8_t>();
      for (std::int64_t i = 0; i < f.numel() / 3 && exact_; ++i) {
        const auto c = rgb(p + 3 * i);
        if (index_.count(c)) continue;
        if (index_.size() == 256) {
          exact_ = false;
          break;
        }
        const auto k = static_cast<int>(index_.size());
        index_[c] = static_cast<GifByteType>(k);
        colors_[k] = {static_cast<GifByteType>(c >> 16), static_cast<GifByteType>((c >> 8) & 0xff),
                      static_cast<GifByteType>(c & 0xff)};
      }
    }
    if (!exact_) {
      for (int k = 0; k < 216; ++k) {
        colors_[k] = {static_cast<GifByteType>(k / 36 * 51), static_cast<GifByteType>(k / 6 % 6 * 51),
                      static_cast<GifByteType>(k % 6 * 51)};
      }
    }
  }
  GifByteType operator()(const std::uint8_t* p) const {
    if (exact_) return index_.at(rgb(p));
    auto level = [](std::uint8_t v) { return (v + 25) / 51; };
    return static_cast<GifByteType>(level(p[0]) * 36 + level(p[1]) * 6 + level(p[2]));
  }
  GifColorType* colors() { return colors_; }

 private:
  bool exact_ = true;
  std::unordered_map<std::uint32_t, GifByteType> index_;
  GifColorType colors_[256] = {};
};

void check(int status, GifFileType* gif, const std::filesystem::path& path) {
  if (status != GIF_OK) {
    throw Error("cannot write GIF '" + path.string() + "': " + GifErrorString(gif ? gif->Error : 0));
  }
}

}  // namespace

void save_gif(const std::filesystem::path& path, const std::vector<torch::Tensor>& input, int delay_cs) {
  if (input.empty()) throw Error("GIF '" + path.string() + "': no frames to write");
  std::vector<torch::Tensor> frames;
  for (const auto& f : input) {
    if (f.dim() != 3 || f.size(2) != 3 || f.scalar_type() != torch::kUInt8 ||
        f.sizes() != input.front().sizes()) {
      throw Error("GIF '" + path.string() + "': expected [H, W, 3] uint8 RGB frames of one size, got " +
                  c10::str(f.sizes()) + " " + std::string(c10::toString(f.scalar_type())));
    }
    frames.push_back(f.contiguous());
  }
  const int h = static_cast<int>(frames.front().size(0)), w = static_cast<int>(frames.front().size(1));
  Palette palette(frames);
  atomic_write(path, [&](const std::filesystem::path& tmp) {
    int err = 0;
    GifFileType* gif = EGifOpenFileName(tmp.c_str(), false, &err);
    if (!gif) throw Error("cannot write GIF '" + path.string() + "': " + GifErrorString(err));
    std::unique_ptr<ColorMapObject, decltype(&GifFreeMapObject)> map(GifMakeMapObject(256, palette.colors()),
                                                                     &GifFreeMapObject);
    auto close = [&] { EGifCloseFile(gif, &err); };
    try {
      EGifSetGifVersion(gif, true);
      check(EGifPutScreenDesc(gif, w, h, 8, 0, map.get()), gif, path);
      // The Netscape extension: loop forever.
      check(EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE), gif, path);
      check(EGifPutExtensionBlock(gif, 11, "NETSCAPE2.0"), gif, path);
      const unsigned char loop[3] = {1, 0, 0};
      check(EGifPutExtensionBlock(gif, 3, loop), gif, path);
      check(EGifPutExtensionTrailer(gif), gif, path);
      std::vector<GifPixelType> line(static_cast<std::size_t>(w));
      for (const auto& f : frames) {
        GraphicsControlBlock gcb{DISPOSAL_UNSPECIFIED, false, delay_cs, NO_TRANSPARENT_COLOR};
        GifByteType ext[4];
        EGifGCBToExtension(&gcb, ext);
        check(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, ext), gif, path);
        check(EGifPutImageDesc(gif, 0, 0, w, h, false, nullptr), gif, path);
        const auto* p = f.data_ptr<std::uint8_t>();
        for (int y = 0; y < h; ++y) {
          for (int x = 0; x < w; ++x) line[static_cast<std::size_t>(x)] = palette(p + 3 * (y * w + x));
          check(EGifPutLine(gif, line.data(), w), gif, path);
        }
      }
    } catch (...) {
      close();
      throw;
    }
    if (EGifCloseFile(gif, &err) != GIF_OK) {
      throw Error("cannot write GIF '" + path.string() + "': " + GifErrorString(err));
    }
    // giflib creates the file owner-only; a GIF is for sharing, so it gets the usual 0644.
    std::filesystem::permissions(
        tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                 std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  });
}

}  // namespace dojo::core
