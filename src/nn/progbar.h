// Keras' progress bar, in its exact format:
//   1875/1875 [==============================] - 3s 2ms/step - loss: 0.2931 - accuracy: 0.9150
// with an ETA while running (redrawn in place on a terminal; only the final line otherwise), or
// with verbose 2 one line per epoch: 1875/1875 - 3s - loss: 0.2931 - accuracy: 0.9150 - 3s/epoch - 2ms/step
#pragma once
#include <chrono>
#include <cstdint>
#include <iosfwd>

#include "core/export.h"
#include "nn/callbacks.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn {

class Progbar {
 public:
  Progbar(std::int64_t target, int verbose, std::ostream& out, bool dynamic);
  // Draws the bar at `current` steps; `finalize` prints the closing line.
  void update(std::int64_t current, const Logs& logs, bool finalize = false);
  // "%.4f", or "%.4e" below 1e-3, as Keras prints values.
  static std::string format_value(double v);

 private:
  using Clock = std::chrono::steady_clock;
  std::int64_t target_;
  int verbose_;
  std::ostream& out_;
  bool dynamic_;
  Clock::time_point start_, last_draw_;
  std::size_t last_width_ = 0;
};

}  // namespace dojo::nn

DOJO_PUBLIC_END
