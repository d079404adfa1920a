#include "nn/progbar.h"

#include <fmt/format.h>

#include <ostream>

namespace dojo::nn {

Progbar::Progbar(std::int64_t target, int verbose, std::ostream& out, bool dynamic)
    : target_(target),
      verbose_(verbose),
      out_(out),
      dynamic_(dynamic),
      start_(Clock::now()),
      last_draw_(start_) {}

std::string Progbar::format_value(double v) {
  return std::abs(v) > 1e-3 ? fmt::format("{:.4f}", v) : fmt::format("{:.4e}", v);
}

namespace {

std::string per_step(double seconds) {
  if (seconds >= 1) return fmt::format("{:.0f}s/step", seconds);
  if (seconds >= 1e-3) return fmt::format("{:.0f}ms/step", seconds * 1e3);
  return fmt::format("{:.0f}us/step", seconds * 1e6);
}

std::string eta_str(double eta) {
  const auto s = static_cast<std::int64_t>(eta);
  if (s > 3600) return fmt::format("{}:{:02d}:{:02d}", s / 3600, (s % 3600) / 60, s % 60);
  if (s > 60) return fmt::format("{}:{:02d}", s / 60, s % 60);
  return fmt::format("{}s", s);
}

std::string logs_str(const Logs& logs) {
  std::string s;
  for (const auto& [k, v] : logs.items()) s += " - " + k + ": " + Progbar::format_value(v);
  return s;
}

}  // namespace

void Progbar::update(std::int64_t current, const Logs& logs, bool finalize) {
  if (verbose_ == 0) return;
  const auto now = Clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double per = current > 0 ? elapsed / static_cast<double>(current) : 0.0;
  if (verbose_ == 2) {
    if (!finalize) return;
    out_ << fmt::format("{}/{} - {:.0f}s{} - {:.0f}s/epoch - {}\n", current, target_, elapsed, logs_str(logs),
                        elapsed, per_step(per))
         << std::flush;
    return;
  }
  if (!finalize && (!dynamic_ || std::chrono::duration<double>(now - last_draw_).count() < 0.05)) return;
  last_draw_ = now;
  const auto digits = std::to_string(target_).size();
  std::string bar = fmt::format("{:>{}}/{} [", current, digits, target_);
  const auto width =
      static_cast<std::int64_t>(30.0 * static_cast<double>(current) / static_cast<double>(target_));
  if (width > 0)
    bar += std::string(static_cast<std::size_t>(width - 1), '=') + (current < target_ ? '>' : '=');
  bar += std::string(static_cast<std::size_t>(30 - std::min<std::int64_t>(width, 30)), '.') + "]";
  if (current < target_) {
    bar += " - ETA: " + eta_str(per * static_cast<double>(target_ - current));
  } else {
    bar += fmt::format(" - {:.0f}s {}", elapsed, per_step(per));
  }
  bar += logs_str(logs);
  if (dynamic_) {
    const auto pad = last_width_ > bar.size() ? last_width_ - bar.size() : 0;
    out_ << "\r" << bar << std::string(pad, ' ');
    last_width_ = bar.size();
    if (finalize) out_ << "\n";
  } else {
    out_ << bar << "\n";
  }
  out_ << std::flush;
}

}  // namespace dojo::nn
