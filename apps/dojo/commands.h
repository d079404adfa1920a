// The dojo command's families. Each file adds its subcommands to the app, with the options they
// parse, and says what runs when one is chosen; main.cpp only wires them and turns errors into exit
// codes. Work happens in the library: a command parses, calls and prints.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

namespace dojo::app {

struct Command {
  CLI::App* app;             // the (sub)command whose selection runs `run`
  std::function<int()> run;  // returns the exit code
};

std::vector<Command> add_train_commands(CLI::App& app);  // train, eval        (train.cpp)
std::vector<Command> add_env_commands(CLI::App& app);    // envs, env, play    (envs.cpp)
std::vector<Command> add_model_commands(CLI::App& app);  // example, zoo, model (models.cpp)

}  // namespace dojo::app
