// `dojo --nproc N`: the one-machine launcher (torchrun's job on one node). It starts N copies of a
// program as one process group and waits for them; when one fails the others get a grace period to
// notice (their collectives fail and they exit with their own error) before they are stopped.
#pragma once
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

struct LaunchOptions {
  int nproc = 2;
  // Seconds the other ranks get to end by themselves after one fails, before SIGTERM (then SIGKILL
  // 5 s later).
  double grace_s = 30;
};

// Runs argv (argv[0]: the program, found like execvp) as ranks 0..nproc-1, each with RANK,
// LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE and DOJO_DIST_URL set: a file:// store in a fresh private
// folder (mode 0700, removed afterwards), so nothing listens on the network for the rendezvous, and
// the collectives bind to 127.0.0.1. SIGINT and SIGTERM are passed on to every rank. Returns 0 when
// every rank succeeded, else the first failure's exit code (128 + the signal for a killed rank),
// after printing one line to stderr naming that rank (not for exit code 2: bad input, which the
// rank reports itself). Throws dojo::Error when nproc < 1 or the
// program cannot be started.
int launch_local(const std::vector<std::string>& argv, const LaunchOptions& options);

}  // namespace dojo::core

DOJO_PUBLIC_END
