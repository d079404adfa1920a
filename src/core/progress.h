// A progress bar with rate and ETA. On a terminal it redraws one line in place; when stdout is not a
// terminal (CI, a pipe, a file) it prints a plain line every 10% so logs stay readable.
#pragma once
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

class ProgressBar {
 public:
  ProgressBar(std::int64_t total, std::string unit, std::int64_t start = 0);
  // For tests: explicit stream and terminal mode.
  ProgressBar(std::int64_t total, std::string unit, std::ostream& out, bool terminal, std::int64_t start = 0);

  void update(std::int64_t current, const std::string& status = "");
  // The closing line, at the step reached (which may be short of total when training stopped early).
  void finish(const std::string& status = "");

  // "1m05s", "42s", "1h02m"
  static std::string format_duration(double seconds);

 private:
  std::string line(std::int64_t current, const std::string& status, bool done) const;
  using Clock = std::chrono::steady_clock;
  std::int64_t total_, start_;
  std::string unit_;
  std::ostream& out_;
  bool terminal_;
  Clock::time_point t0_, last_draw_;
  std::int64_t next_plain_ = 0;
  std::int64_t current_ = 0;
  bool finished_ = false;
};

}  // namespace dojo::core

DOJO_PUBLIC_END
