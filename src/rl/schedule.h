// Hyper-parameter schedules over training progress (0 at the first step, 1 at the last).
#pragma once
#include <algorithm>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

// Moves linearly from `start` to `end` over the first `fraction` of training, then stays at `end`
// (the ε schedule of Mnih et al. 2015 and SB3's get_linear_fn).
struct LinearSchedule {
  double start = 1.0;
  double end = 0.05;
  double fraction = 0.1;
  double operator()(double progress) const {
    if (fraction <= 0.0) return end;
    const double t = std::clamp(progress / fraction, 0.0, 1.0);
    return start + t * (end - start);
  }
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
