// The dojo command: wires the command families (commands.h) and turns errors into exit codes —
// 2 for bad input (dojo::Error), 1 for a failure of dojo itself.
#include <torch/torch.h>
#include <torch/version.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "core/error.h"
#include "core/plugin.h"
#include "core/runtime.h"
#include "core/strings.h"

namespace {

std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  return names;
}

bool is_command(const CLI::App& app, const std::string& word) {
  const auto names = command_names(app);
  return std::find(names.begin(), names.end(), word) != names.end();
}

// `dojo trian`: CLI11 would call it an unexpected argument; name the command and the ones there are.
int unknown_command(const CLI::App& app, const std::string& word) {
  const auto names = command_names(app);
  std::cerr << "error: unknown command '" << word << "'" << dojo::core::did_you_mean(word, names)
            << "; expected one of: " << dojo::core::join(names, ", ") << " (dojo --help for more)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  dojo::core::use_fast_blas_kernels();  // may start the program again, so first
  CLI::App app{"dojo — deep reinforcement learning and deep learning in C++", "dojo"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  const auto blas = dojo::core::blas_kernels();
  app.set_version_flag("--version", std::string("dojo ") + DOJO_VERSION + " (LibTorch " + TORCH_VERSION +
                                        (blas.empty() ? "" : ", OpenBLAS " + blas + " kernels") + ")");
  // Global, and accepted after the command too (fallthrough): `dojo eval RUN --plugin libmyenvs.so`.
  app.fallthrough();
  std::vector<std::string> plugins;
  app.add_option("--plugin", plugins,
                 "Shared library that registers envs (repeatable; also $DOJO_PLUGINS, ':'-separated)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  std::vector<dojo::app::Command> commands;
  for (auto add : {dojo::app::add_train_commands, dojo::app::add_env_commands, dojo::app::add_model_commands,
                   dojo::app::add_mol_commands, dojo::app::add_dataset_commands,
                   dojo::app::add_games_commands, dojo::app::add_srl_commands}) {
    for (auto& c : add(app)) commands.push_back(std::move(c));
  }

  if (argc > 1 && std::strcmp(argv[1], "help") == 0) {
    std::cout << app.help();
    return 0;
  }
  if (argc > 1 && argv[1][0] != '-' && !is_command(app, argv[1])) {
    return unknown_command(app, argv[1]);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const dojo::Error& e) {  // an option's own parser (a count like 1e5)
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }

  dojo::core::init_logging();
  try {
    auto& loaded = dojo::app::plugins();
    for (const auto& p : dojo::core::env_plugins()) loaded.push_back(dojo::core::load_plugin(p));
    for (const auto& p : plugins) loaded.push_back(dojo::core::load_plugin(p));
    for (const auto& c : commands) {
      if (c.app->parsed()) return c.run();
    }
  } catch (const dojo::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {  // a path the user gave: bad input
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
