// A run directory holds everything one training run produced (DESIGN.md "Runs, files"):
// config.yaml, metrics.csv, eval.csv, checkpoints/, learning_curve.png, summary.json.
#pragma once
#include <filesystem>
#include <string>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

// Creates a new run directory. With an explicit `out`, it must not exist or be empty (an existing run
// is never overwritten); otherwise a fresh `runs/<name>-<YYYYmmdd-HHMMSS>` is made.
std::filesystem::path create_run_dir(const std::filesystem::path& out, const std::string& name);

// Throws dojo::Error unless `dir` is a run directory (has config.yaml and checkpoints/).
void require_run_dir(const std::filesystem::path& dir);

}  // namespace dojo::core

DOJO_PUBLIC_END
