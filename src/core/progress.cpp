#include "core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace dojo::core {

ProgressBar::ProgressBar(std::int64_t total, std::string unit, std::int64_t start)
    : ProgressBar(total, std::move(unit), std::cout, ::isatty(STDOUT_FILENO) != 0, start) {}

ProgressBar::ProgressBar(std::int64_t total, std::string unit, std::ostream& out, bool terminal,
                         std::int64_t start)
    : total_(std::max<std::int64_t>(total, 1)),
      start_(start),
      unit_(std::move(unit)),
      out_(out),
      terminal_(terminal),
      t0_(Clock::now()),
      last_draw_(t0_ - std::chrono::seconds(1)) {
  next_plain_ = start + (total_ - start) / 10;
}

std::string ProgressBar::format_duration(double seconds) {
  const auto s = static_cast<std::int64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

std::string ProgressBar::line(std::int64_t current, const std::string& status, bool done) const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0_).count();
  const double rate = elapsed > 0 ? static_cast<double>(current - start_) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - current) / rate : 0.0;
  const double frac = std::clamp(static_cast<double>(current) / static_cast<double>(total_), 0.0, 1.0);
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '=');
  if (filled < kWidth) bar += '>' + std::string(static_cast<std::size_t>(kWidth - filled - 1), '.');
  std::string s =
      fmt::format("{}/{} [{}] {:3.0f}% {:.0f} {}/s ", current, total_, bar, 100 * frac, rate, unit_);
  s += done ? fmt::format("- {}", format_duration(elapsed)) : fmt::format("ETA {}", format_duration(eta));
  if (!status.empty()) s += " - " + status;
  return s;
}

void ProgressBar::update(std::int64_t current, const std::string& status) {
  current_ = current;
  if (terminal_) {
    const auto now = Clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    out_ << "\r" << line(current, status, false) << "\033[K" << std::flush;
  } else if (current >= next_plain_ && current < total_) {
    out_ << line(current, status, false) << "\n" << std::flush;
    while (next_plain_ <= current) next_plain_ += std::max<std::int64_t>(1, (total_ - start_) / 10);
  }
}

void ProgressBar::finish(const std::string& status) {
  if (finished_) return;
  finished_ = true;
  out_ << (terminal_ ? "\r" : "") << line(current_, status, true) << (terminal_ ? "\033[K\n" : "\n")
       << std::flush;
}

}  // namespace dojo::core
