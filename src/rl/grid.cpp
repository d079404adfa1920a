#include "rl/grid.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>
#include <utility>

#include "core/checkpoint.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/files.h"
#include "core/plot.h"
#include "core/strings.h"
#include "rl/algos.h"
#include "rl/dataset.h"
#include "rl/evaluation.h"
#include "rl/trainer.h"

namespace dojo::rl {

namespace fs = std::filesystem;

namespace {

std::string dataset_name(const fs::path& p) {
  auto name = p.filename().string();
  if (name.empty()) name = p.parent_path().filename().string();
  return fs::path(name).stem().string();
}

nlohmann::json read_summary(const fs::path& dir) {
  if (!fs::exists(dir / "summary.json")) return nullptr;
  auto j = nlohmann::json::parse(core::read_text(dir / "summary.json"), nullptr, false);
  return j.is_object() ? j : nlohmann::json(nullptr);
}

void write_table(const fs::path& out, const std::vector<GridRow>& rows, std::int64_t steps) {
  std::string csv =
      "dataset,variant,seeds,final_score_mean,final_score_std,best_score_mean,best_score_std,"
      "wall_s_per_run,dataset_score\n";
  std::string md = fmt::format(
      "| dataset | algorithm | seeds | final score | best score | wall time per run | dataset's own |\n"
      "|---|---|---|---|---|---|---|\n");
  for (const auto& r : rows) {
    csv += fmt::format("{},{},{},{:.4f},{:.4f},{:.4f},{:.4f},{:.1f},{:.4f}\n", r.dataset, r.variant, r.seeds,
                       r.final_mean, r.final_std, r.best_mean, r.best_std, r.wall_s, r.dataset_score);
    md += fmt::format("| {} | {} | {} | {:.1f} ± {:.1f} | {:.1f} ± {:.1f} | {:.0f} s | {:.1f} |\n", r.dataset,
                      r.variant, r.seeds, r.final_mean, r.final_std, r.best_mean, r.best_std, r.wall_s,
                      r.dataset_score);
  }
  md += fmt::format(
      "\nD4RL normalised scores after {} gradient steps (final: the last policy's evaluation; best: the "
      "best periodic one), mean ± std over the finished seeds.\n",
      steps);
  core::atomic_write_text(out / "grid.csv", csv);
  core::atomic_write_text(out / "grid.md", md);
}

struct Cell {
  fs::path dataset, dir;
  std::string variant;
  std::int64_t seed = 0;
};

std::vector<Cell> cells(const GridOptions& o) {
  std::vector<Cell> out;
  for (const auto& d : o.datasets)
    for (const auto& v : o.algos)
      for (auto s : o.seeds) out.push_back({d, o.out / dataset_name(d) / v / fmt::format("s{}", s), v, s});
  return out;
}

bool finished(const Cell& c, std::int64_t steps) {
  const auto j = read_summary(c.dir);
  return !j.is_null() && j.value("env_steps", std::int64_t{-1}) >= steps;
}

// The variants asked for, then any other found in the dataset's folder (an earlier call with other
// --algos): the table and the curves cover everything the grid folder holds.
std::vector<std::string> variants(const GridOptions& o, const std::string& dataset) {
  std::vector<std::string> out = o.algos;
  if (!fs::is_directory(o.out / dataset)) return out;
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(o.out / dataset))
    if (e.is_directory()) found.push_back(e.path().filename().string());
  std::sort(found.begin(), found.end());
  for (const auto& v : found)
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  return out;
}

// A variant's finished runs on a dataset, any seed, in seed-folder order.
std::vector<fs::path> finished_runs(const GridOptions& o, const fs::path& dataset, const std::string& v) {
  const auto dir = o.out / dataset_name(dataset) / v;
  std::vector<fs::path> runs;
  if (!fs::is_directory(dir)) return runs;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && finished({dataset, e.path(), v, 0}, o.steps)) runs.push_back(e.path());
  std::sort(runs.begin(), runs.end());
  return runs;
}

}  // namespace

std::pair<std::string, std::vector<std::string>> grid_variant(const std::string& v) {
  if (v.rfind("brac-", 0) == 0) {
    const auto rest = v.substr(5);
    const auto dash = rest.find('-');
    const auto penalty = rest.substr(0, dash);
    const auto div = dash == std::string::npos ? "" : rest.substr(dash + 1);
    const std::vector<std::string> divs{"kl", "mmd", "kl_dual", "wasserstein"};
    if ((penalty != "v" && penalty != "p") || std::find(divs.begin(), divs.end(), div) == divs.end())
      throw Error("variant '" + v + "': expected brac-<v|p>-<kl|mmd|kl_dual|wasserstein>");
    return {"brac",
            {std::string("value_penalty=") + (penalty == "v" ? "true" : "false"), "divergence=" + div}};
  }
  if (v == "bc-mse") return {"bc", {"loss=mse"}};  // d3rlpy's deterministic BC beside BRAC's
  const auto names = algorithms();
  if (std::find(names.begin(), names.end(), v) == names.end())
    throw Error("variant '" + v + "': expected an algorithm (" + core::join(names, ", ") +
                "), bc-mse or brac-<v|p>-<divergence>");
  return {v, {}};
}

static std::vector<GridRow> table(const GridOptions& o) {
  std::vector<GridRow> rows;
  for (const auto& d : o.datasets) {
    const auto name = dataset_name(d);
    const auto stats = dataset_stats(read_dataset(d));
    for (const auto& v : variants(o, name)) {
      GridRow row;
      row.dataset = name;
      row.variant = v;
      row.dataset_score = stats.normalized.value_or(stats.mean_return);
      std::vector<double> finals, bests, walls;
      for (const auto& run : finished_runs(o, d, v)) {
        const auto j = read_summary(run);
        const auto env = j.value("env_id", std::string());
        const double final_return = j.value("final_eval_mean", 0.0),
                     best_return = j.value("best_eval_mean", 0.0);
        finals.push_back(normalized_score(env, final_return).value_or(final_return));
        bests.push_back(normalized_score(env, best_return).value_or(best_return));
        walls.push_back(j.value("wall_time_s", 0.0));
      }
      row.seeds = static_cast<std::int64_t>(finals.size());
      std::tie(row.final_mean, row.final_std) = mean_std(finals);
      std::tie(row.best_mean, row.best_std) = mean_std(bests);
      row.wall_s = mean_std(walls).first;
      rows.push_back(row);
    }
  }
  return rows;
}

static void write_curves(const GridOptions& o) {
  // Distinct line colours (one per variant, cycled), then the dataset's own level in grey.
  static const std::vector<std::array<double, 3>> palette{
      {0.12, 0.47, 0.71}, {1.00, 0.50, 0.05}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16}, {0.58, 0.40, 0.74},
      {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.74, 0.74, 0.13}, {0.09, 0.75, 0.81}, {0.00, 0.00, 0.00}};
  for (const auto& d : o.datasets) {
    const auto name = dataset_name(d);
    std::vector<core::Series> lines;
    double x_max = 0.0;
    for (const auto& v : variants(o, name)) {
      // The mean normalised evaluation over the finished seeds, at the steps every seed evaluated.
      std::map<double, std::vector<double>> at;
      const auto runs = finished_runs(o, d, v);
      for (const auto& run : runs) {
        if (!fs::exists(run / "eval.csv")) continue;
        const auto env = read_summary(run).value("env_id", std::string());
        const auto t = core::read_csv(run / "eval.csv");
        const auto steps = t.column("step"), returns = t.column("mean_return");
        for (std::size_t i = 0; i < steps.size(); ++i)
          at[steps[i]].push_back(normalized_score(env, returns[i]).value_or(returns[i]));
      }
      core::Series line{fmt::format("{} ({} seed{})", v, runs.size(), runs.size() == 1 ? "" : "s"),
                        {},
                        {},
                        palette[lines.size() % palette.size()],
                        2.0,
                        false};
      for (const auto& [step, ys] : at)
        if (ys.size() == runs.size()) line.x.push_back(step), line.y.push_back(mean_std(ys).first);
      if (line.x.empty()) continue;
      x_max = std::max(x_max, line.x.back());
      lines.push_back(std::move(line));
    }
    if (lines.empty()) continue;
    const auto stats = dataset_stats(read_dataset(d));
    const double own = stats.normalized.value_or(stats.mean_return);
    lines.push_back({"the dataset's own episodes", {0.0, x_max}, {own, own}, {0.6, 0.6, 0.6}, 1.5, false});
    core::line_plot(o.out / fmt::format("curves-{}.png", name), lines,
                    {fmt::format("offline grid on {}", name), "gradient steps",
                     stats.normalized ? "D4RL normalised score" : "return"});
  }
}

std::vector<GridRow> run_grid(const GridOptions& o) {
  if (o.datasets.empty() || o.algos.empty() || o.seeds.empty())
    throw Error("offline grid: expected --datasets, --algos and --seeds, each with at least one value");
  if (o.steps <= 0) throw Error("--steps " + std::to_string(o.steps) + ": expected > 0");
  for (const auto& v : o.algos) grid_variant(v);  // every name checked before the first run
  for (const auto& d : o.datasets) dataset_shape(d);
  fs::create_directories(o.out);
  const auto all = cells(o);
  std::size_t done = 0;
  for (const auto& c : all) {
    ++done;
    if (finished(c, o.steps)) continue;
    const bool resumable =
        fs::exists(c.dir / "checkpoints" / "last.ckpt") && fs::exists(c.dir / "config.yaml");
    spdlog::info("grid cell {}/{}: {} on {} seed {} ({})", done, all.size(), c.variant,
                 dataset_name(c.dataset), c.seed, resumable ? "resuming" : "starting");
    if (resumable) {
      // A run killed after its last checkpoint but before its summary has no steps left: one more step
      // writes the summary (the cell then reports steps + 1).
      const auto at = core::CheckpointReader(c.dir / "checkpoints" / "last.ckpt").get_int("num_timesteps");
      resume(c.dir, at >= o.steps ? 1 : o.steps - at);
    } else {
      // Killed before its first checkpoint: nothing in it is worth keeping.
      fs::remove_all(c.dir);
      fs::create_directories(c.dir.parent_path());
      const auto [algo, sets] = grid_variant(c.variant);
      TrainRequest req;
      req.algo = algo;
      req.dataset = c.dataset;
      req.seed = c.seed;
      req.steps = o.steps;
      req.out = c.dir;
      req.overrides = sets;
      req.overrides.insert(req.overrides.end(), o.overrides.begin(), o.overrides.end());
      req.env_id = o.env_id.empty() ? dataset_shape(c.dataset).env_id : o.env_id;
      if (req.env_id->empty()) throw Error(c.dataset.string() + " does not name its env: expected --env");
      train(req);
    }
    report_grid(o);
  }
  return report_grid(o);
}

std::vector<GridRow> report_grid(const GridOptions& o) {
  if (o.datasets.empty()) throw Error("offline grid: expected --datasets with at least one value");
  auto rows = table(o);
  write_table(o.out, rows, o.steps);
  write_curves(o);
  return rows;
}

}  // namespace dojo::rl
