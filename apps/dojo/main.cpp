// The dojo command: wires the command families (commands.h) and turns errors into exit codes —
// 2 for bad input (dojo::Error), 1 for a failure of dojo itself.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.h"
#include "core/error.h"
#include "core/runtime.h"

int main(int argc, char** argv) {
  CLI::App app{"dojo — deep reinforcement learning and deep learning in C++"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  std::vector<dojo::app::Command> commands;
  for (auto add :
       {dojo::app::add_train_commands, dojo::app::add_env_commands, dojo::app::add_model_commands}) {
    for (auto& c : add(app)) commands.push_back(std::move(c));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }

  dojo::core::init_logging();
  try {
    for (const auto& c : commands) {
      if (c.app->parsed()) return c.run();
    }
  } catch (const dojo::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
