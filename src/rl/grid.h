// The offline grid runner (`dojo offline grid`): every (dataset, algorithm variant, seed) cell trained
// in turn into DIR/<dataset>/<variant>/s<seed>, resumed after a kill — a finished cell (its
// summary.json at the full step count) is skipped, a stopped one continues from its last checkpoint,
// one killed before its first checkpoint starts again — and one table of final and best normalised
// scores, mean ± std over seeds, written as DIR/grid.csv and DIR/grid.md after every cell, with the
// learning curves beside it. The table covers every cell finished in DIR, also those of earlier calls
// with other --algos or --seeds.
//
// Variants: an algorithm's registered name (bc, td3bc, iql, kl_control, ...), or BRAC's as
// brac-<v|p>-<divergence>: brac-v-kl, brac-p-kl, brac-v-mmd, brac-v-wasserstein, brac-p-kl_dual, ...
// bc-mse: BC with `loss: mse` (its mode fitted by squared error, d3rlpy's BC).
// (v: value penalty, p: policy penalty).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct GridOptions {
  std::vector<std::filesystem::path> datasets;
  std::vector<std::string> algos;
  std::vector<std::int64_t> seeds{0};
  std::int64_t steps = 200'000;        // gradient steps per run
  std::string env_id;                  // "" = each dataset's own
  std::vector<std::string> overrides;  // --set key=value for every run (n_eval_episodes=5, ...)
  std::filesystem::path out = "grid";
};

// One row of the table: a (dataset, variant) over its seeds.
struct GridRow {
  std::string dataset, variant;
  std::int64_t seeds = 0;                                                         // finished
  double final_mean = 0, final_std = 0, best_mean = 0, best_std = 0, wall_s = 0;  // normalised scores
  double dataset_score = 0;  // the dataset's own episodes, normalised
};

// The algorithm and --set overrides of a variant name; throws dojo::Error for an unknown one.
std::pair<std::string, std::vector<std::string>> grid_variant(const std::string& variant);

// Runs the missing cells, then returns the table. After every cell the table is written to
// out/grid.csv and out/grid.md, and each dataset's learning curves (the mean normalised evaluation
// over finished seeds against gradient steps, one line per variant) to out/curves-<dataset>.png.
std::vector<GridRow> run_grid(const GridOptions& options);
// The same table and curves from the cells finished so far, without training (a grid still running
// in another process is only read).
std::vector<GridRow> report_grid(const GridOptions& options);

}  // namespace dojo::rl

DOJO_PUBLIC_END
