// PNG line plots drawn with Cairo (learning curves): labelled axes, "nice" ticks, a legend.
#pragma once
#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

struct Series {
  std::string label;
  std::vector<double> x, y;
  std::array<double, 3> rgb{0.2, 0.4, 0.8};
  double line_width = 1.0;
  bool markers = false;
};

struct PlotOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  int width = 900;
  int height = 540;
};

// Writes the plot atomically to `png`.
void line_plot(const std::filesystem::path& png, const std::vector<Series>& series,
               const PlotOptions& options);

// Panels stacked top to bottom in one PNG, each drawn as line_plot draws one (its own size, axes and
// legend): quantities on different scales side by side, e.g. a loss above an Elo rating.
struct Panel {
  std::vector<Series> series;
  PlotOptions options;
};
void stacked_plot(const std::filesystem::path& png, const std::vector<Panel>& panels);

// Tick positions covering [lo, hi] at a 1/2/5 × 10^k step, about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

}  // namespace dojo::core

DOJO_PUBLIC_END
