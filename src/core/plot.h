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

// Tick positions covering [lo, hi] at a 1/2/5 × 10^k step, about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

}  // namespace dojo::core

DOJO_PUBLIC_END
