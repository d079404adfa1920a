#include "core/plot.h"

#include <cairo.h>
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <memory>

#include "core/files.h"

namespace dojo::core {

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

namespace {
std::string tick_label(double v) {
  if (std::fabs(v) >= 1e4) return fmt::format("{:g}k", v / 1000.0);
  return fmt::format("{:g}", v);
}

// One panel drawn with its top-left corner at (0, y_offset).
void draw_panel(cairo_t* cr, const std::vector<Series>& series, const PlotOptions& o, double y_offset) {
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : series) {
    for (double v : s.x) x0 = std::min(x0, v), x1 = std::max(x1, v);
    for (double v : s.y) y0 = std::min(y0, v), y1 = std::max(y1, v);
  }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= y0) y0 -= 1, y1 += 1;
  const double pad = 0.05 * (y1 - y0);
  y0 -= pad, y1 += pad;
  x0 = std::min(x0, 0.0);

  const double left = 80, right = 30, top = 50, bottom = 60;
  const double pw = o.width - left - right, ph = o.height - top - bottom;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return top + ph - (y - y0) / (y1 - y0) * ph; };

  cairo_save(cr);
  cairo_translate(cr, 0, y_offset);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

  auto text = [&](const std::string& s, double x, double y, double size, double ax, double ay,
                  bool vertical = false) {
    cairo_set_font_size(cr, size);
    cairo_text_extents_t e;
    cairo_text_extents(cr, s.c_str(), &e);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    if (vertical) cairo_rotate(cr, -M_PI / 2);
    cairo_move_to(cr, -e.width * ax - e.x_bearing, -e.height * ay - e.y_bearing);
    cairo_show_text(cr, s.c_str());
    cairo_restore(cr);
  };

  // Grid and ticks.
  cairo_set_line_width(cr, 1);
  for (double t : nice_ticks(x0, x1)) {
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, px(t), top), cairo_line_to(cr, px(t), top + ph), cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    text(tick_label(t), px(t), top + ph + 8, 12, 0.5, 0.0);
  }
  for (double t : nice_ticks(y0, y1)) {
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, left, py(t)), cairo_line_to(cr, left + pw, py(t)), cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    text(tick_label(t), left - 8, py(t), 12, 1.0, 0.5);
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, left, top, pw, ph);
  cairo_stroke(cr);
  text(o.title, o.width / 2.0, 18, 16, 0.5, 0.0);
  text(o.x_label, left + pw / 2, o.height - 22, 14, 0.5, 0.0);
  text(o.y_label, 22, top + ph / 2, 14, 0.5, 0.0, true);

  // Series, clipped to the plot area.
  cairo_save(cr);
  cairo_rectangle(cr, left, top, pw, ph);
  cairo_clip(cr);
  for (const auto& s : series) {
    cairo_set_source_rgb(cr, s.rgb[0], s.rgb[1], s.rgb[2]);
    cairo_set_line_width(cr, s.line_width);
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (i == 0)
        cairo_move_to(cr, px(s.x[i]), py(s.y[i]));
      else
        cairo_line_to(cr, px(s.x[i]), py(s.y[i]));
    }
    cairo_stroke(cr);
    if (s.markers) {
      for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        cairo_arc(cr, px(s.x[i]), py(s.y[i]), 3.5, 0, 2 * M_PI);
        cairo_fill(cr);
      }
    }
  }
  cairo_restore(cr);

  // Legend, top left inside the plot.
  double ly = top + 18;
  for (const auto& s : series) {
    cairo_set_source_rgb(cr, s.rgb[0], s.rgb[1], s.rgb[2]);
    cairo_set_line_width(cr, std::max(2.0, s.line_width));
    cairo_move_to(cr, left + 12, ly), cairo_line_to(cr, left + 40, ly), cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text(s.label, left + 46, ly, 12, 0.0, 0.5);
    ly += 18;
  }

  cairo_restore(cr);
}

}  // namespace

void stacked_plot(const std::filesystem::path& png, const std::vector<Panel>& panels) {
  int width = 1, height = 0;
  for (const auto& p : panels) width = std::max(width, p.options.width), height += p.options.height;
  std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> owned(
      cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, std::max(height, 1)), &cairo_surface_destroy);
  cairo_surface_t* surface = owned.get();
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  double y = 0;
  for (const auto& p : panels) {
    draw_panel(cr, p.series, p.options, y);
    y += p.options.height;
  }
  cairo_destroy(cr);
  atomic_write(png, [&](const std::filesystem::path& tmp) {
    const auto status = cairo_surface_write_to_png(surface, tmp.c_str());
    if (status != CAIRO_STATUS_SUCCESS) {
      throw std::runtime_error("cannot write " + tmp.string() + ": " + cairo_status_to_string(status));
    }
  });
}

void line_plot(const std::filesystem::path& png, const std::vector<Series>& series, const PlotOptions& o) {
  stacked_plot(png, {{series, o}});
}

}  // namespace dojo::core
