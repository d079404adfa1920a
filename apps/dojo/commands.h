// The dojo command's families. Each file adds its subcommands to the app, with the options they
// parse, and says what runs when one is chosen; main.cpp only wires them and turns errors into exit
// codes. Work happens in the library: a command parses, calls and prints.
#pragma once
#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/strings.h"

namespace dojo::app {

struct Command {
  CLI::App* app;             // the (sub)command whose selection runs `run`
  std::function<int()> run;  // returns the exit code
  // Runs as one rank of a process group (--nproc, torchrun, mpirun, srun): every rank runs it, rank 0
  // alone writes files and prints. Other commands refuse several processes.
  bool distributed = false;
};

// An option holding a count, written as people write them: 100000 or 1e5 (core::parse_count).
inline CLI::Option* add_count(CLI::App* app, const std::string& name, std::int64_t& target,
                              const std::string& description) {
  return app->add_option_function<std::string>(
      name, [&target, name](const std::string& text) { target = core::parse_count(text, name); },
      description);
}

// The plugins main loaded (--plugin, $DOJO_PLUGINS), which a new run records.
inline std::vector<std::filesystem::path>& plugins() {
  static std::vector<std::filesystem::path> paths;
  return paths;
}

std::vector<Command> add_train_commands(CLI::App& app);    // train, eval        (train.cpp)
std::vector<Command> add_env_commands(CLI::App& app);      // envs, env, play    (envs.cpp)
std::vector<Command> add_model_commands(CLI::App& app);    // example, zoo, model (models.cpp)
std::vector<Command> add_mol_commands(CLI::App& app);      // mol               (mol.cpp)
std::vector<Command> add_dataset_commands(CLI::App& app);  // dataset         (dataset.cpp)
std::vector<Command> add_games_commands(CLI::App& app);    // games           (games.cpp)
std::vector<Command> add_srl_commands(CLI::App& app);      // srl             (srl.cpp)
std::vector<Command> add_lpg_commands(CLI::App& app);      // lpg             (lpg.cpp)

}  // namespace dojo::app
