// `dojo dataset info|collect|convert`: offline RL datasets in D4RL's HDF5 file or Minari's folder.
#include "rl/dataset.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "commands.h"
#include "core/config.h"
#include "core/error.h"
#include "core/files.h"
#include "core/runtime.h"
#include "rl/collect.h"
#include "rl/grid.h"

namespace dojo::app {

namespace {

namespace fs = std::filesystem;

void print_info(const fs::path& path, const rl::OfflineDataset& d) {
  const auto s = rl::dataset_stats(d);
  std::cout << fmt::format("dataset {} ({})\n", path.string(),
                           rl::layout_of(path) == rl::DatasetLayout::minari ? "Minari" : "D4RL HDF5");
  std::cout << fmt::format("env {}\n", d.env_id().empty() ? "(not recorded)" : d.env_id());
  std::cout << fmt::format("transitions {}  observations {}  actions {}\n", s.transitions,
                           fmt::join(d.observations.sizes().slice(1), "x"),
                           fmt::join(d.actions.sizes().slice(1), "x"));
  std::cout << fmt::format("episodes {} ({} finished: {} terminal, {} timeout)\n", s.episodes, s.finished,
                           s.terminals, s.timeouts);
  if (s.finished > 0) {
    std::cout << fmt::format(
        "return {:.2f} ± {:.2f} (min {:.2f}, max {:.2f}) over finished episodes, mean length {:.1f}\n",
        s.mean_return, s.std_return, s.min_return, s.max_return, s.mean_length);
    if (s.normalized)
      std::cout << fmt::format("normalised score {:.1f} (D4RL's references)\n", *s.normalized);
  }
  for (const auto& [k, v] : d.metadata) {
    if (k == "env_id") continue;
    std::cout << fmt::format("  {}: {}\n", k, v.size() > 120 ? v.substr(0, 117) + "..." : v);
  }
}

struct CollectArgs {
  std::vector<std::string> runs;
  rl::CollectOptions options;
  std::string out;
};

int cmd_collect(const CollectArgs& a) {
  if (a.out.empty()) throw Error("--out: expected a file (.hdf5: D4RL) or a folder (Minari)");
  std::vector<fs::path> runs(a.runs.begin(), a.runs.end());
  // The run's thread count (a process setting, applied here): medium-replay retrains it, and the same
  // count gives the same transitions.
  if (fs::exists(runs.at(0) / "config.yaml"))
    core::configure_compute(core::Config::load(runs[0] / "config.yaml").get<std::int64_t>("n_threads", 0));
  const auto data = rl::collect(runs, a.options);
  rl::write_dataset(data, a.out);
  print_info(a.out, data);
  return 0;
}

int cmd_grid(const rl::GridOptions& o, bool report) {
  core::configure_compute(1);  // the presets' thread count: one run at a time, one thread each
  const auto rows = report ? rl::report_grid(o) : rl::run_grid(o);
  std::cout << core::read_text(o.out / "grid.md");
  std::cout << fmt::format("table: {} and {}; curves: {}\n", (o.out / "grid.csv").string(),
                           (o.out / "grid.md").string(), (o.out / "curves-*.png").string());
  return rows.empty() ? 1 : 0;
}

}  // namespace

std::vector<Command> add_dataset_commands(CLI::App& app) {
  auto* dataset = app.add_subcommand("dataset", "Offline RL datasets (D4RL HDF5 files, Minari folders)");
  dataset->require_subcommand(1);

  auto info_path = std::make_shared<std::string>();
  auto* info = dataset->add_subcommand("info", "Size, episodes, return statistics and normalised score");
  info->add_option("path", *info_path, "A D4RL .hdf5 file or a Minari dataset folder")->required();

  auto c = std::make_shared<CollectArgs>();
  auto* collect = dataset->add_subcommand("collect", "Collect a dataset with a trained run's policy");
  collect->add_option("--run", c->runs, "Run directory (twice for medium-expert: medium, then expert)")
      ->required();
  collect->add_option("--mix", c->options.mix,
                      "Behaviour: " + core::join(rl::collect_mixes(), ", ") + " (default pure)");
  add_count(collect, "--size", c->options.size, "Transitions (default 1e6)");
  collect->add_option("--checkpoint", c->options.checkpoint, "best or last (default best)");
  collect->add_option("--seed", c->options.seed, "Seed of the env and the noise (default 0)");
  collect->add_option("--out", c->out, "Output: FILE.hdf5 (D4RL) or a folder (Minari)")->required();

  auto conv = std::make_shared<std::pair<std::string, std::string>>();
  auto* convert = dataset->add_subcommand("convert", "Rewrite a dataset in the other layout (or the same)");
  convert->add_option("in", conv->first, "A D4RL .hdf5 file or a Minari dataset folder")->required();
  convert->add_option("out", conv->second, "FILE.hdf5 (D4RL) or a folder (Minari)")->required();

  auto g = std::make_shared<rl::GridOptions>();
  auto datasets = std::make_shared<std::vector<std::string>>();
  auto* offline = app.add_subcommand("offline", "Offline RL experiments");
  offline->require_subcommand(1);
  auto* grid = offline->add_subcommand(
      "grid",
      "Train every dataset x algorithm x seed in turn (resumable), then one table of normalised scores");
  grid->add_option("--datasets", *datasets, "Datasets (D4RL .hdf5 files or Minari folders)")->required();
  grid->add_option("--algos", g->algos, "Algorithms or BRAC variants: bc, brac-v-kl, brac-p-mmd, cql, ...")
      ->required()
      ->delimiter(',');
  grid->add_option("--seeds", g->seeds, "Seeds (default 0)")->delimiter(',');
  add_count(grid, "--steps", g->steps, "Gradient steps per run (default 2e5)");
  grid->add_option("--env", g->env_id, "Environment id (default: each dataset's own)");
  grid->add_option("--set", g->overrides, "A config key for every run: key=value (repeatable)");
  grid->add_option("--out", g->out, "Grid folder (default grid)");
  auto report = std::make_shared<bool>(false);
  grid->add_flag("--report", *report,
                 "Write the table and curves of the cells finished so far; train nothing");

  return {{info,
           [info_path] {
             print_info(*info_path, rl::read_dataset(*info_path));
             return 0;
           }},
          {collect, [c] { return cmd_collect(*c); }},
          {grid,
           [g, datasets, report] {
             g->datasets.assign(datasets->begin(), datasets->end());
             return cmd_grid(*g, *report);
           }},
          {convert, [conv] {
             const auto d = rl::read_dataset(conv->first);
             rl::write_dataset(d, conv->second);
             print_info(conv->second, d);
             return 0;
           }}};
}

}  // namespace dojo::app
