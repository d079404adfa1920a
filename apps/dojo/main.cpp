// The dojo command: wires the command families (commands.h) and turns errors into exit codes —
// 2 for bad input (dojo::Error), 1 for a failure of dojo itself.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "core/distributed.h"
#include "core/error.h"
#include "core/launch.h"
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

std::string command_path(const CLI::App& app) {
  const auto* parent = app.get_parent();
  if (parent == nullptr || parent->get_parent() == nullptr) return app.get_name();
  return command_path(*parent) + " " + app.get_name();
}

std::string distributed_commands(const std::vector<dojo::app::Command>& commands) {
  std::vector<std::string> names;
  for (const auto& c : commands) {
    if (c.distributed) names.push_back("dojo " + command_path(*c.app));
  }
  return dojo::core::join(names, ", ");
}

// The command line each rank of `--nproc N` runs: the same without --nproc. argv[0] through
// /proc/self/exe, so a dojo started by a relative path or from PATH finds itself.
std::vector<std::string> without_nproc(int argc, char** argv) {
  std::vector<std::string> args{"/proc/self/exe"};
  std::error_code ec;
  if (auto self = std::filesystem::read_symlink("/proc/self/exe", ec); !ec) args[0] = self.string();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--nproc") {
      ++i;
    } else if (a.rfind("--nproc=", 0) != 0) {
      args.push_back(a);
    }
  }
  return args;
}

void quiet_stdout() {
  spdlog::set_level(spdlog::level::warn);
  std::cout.flush();
  const int null = open("/dev/null", O_WRONLY);
  if (null >= 0) {
    dup2(null, STDOUT_FILENO);
    close(null);
  }
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
  // A process group (core/distributed.h): --nproc starts the ranks here; under torchrun, mpirun or
  // srun the launcher's variables say the rest, or these options do.
  int nproc = 0;
  dojo::core::DistOptions dist;
  app.add_option("--nproc", nproc,
                 "Run as N processes on this machine, one data-parallel group (torchrun's "
                 "--nproc_per_node)");
  app.add_option("--dist-url", dist.url,
                 "Rendezvous of a process group: tcp://HOST:PORT (rank 0 serves it) or file:///PATH "
                 "(default $MASTER_ADDR:$MASTER_PORT)");
  app.add_option("--rank", dist.rank,
                 "This process's rank (default $RANK, $OMPI_COMM_WORLD_RANK, $SLURM_PROCID)");
  app.add_option("--world-size", dist.world_size,
                 "Processes in the group (default $WORLD_SIZE, $OMPI_COMM_WORLD_SIZE, $SLURM_NTASKS)");
  app.add_option("--dist-timeout", dist.timeout_s,
                 "Seconds a collective may wait for the other ranks (default 300)");
  std::vector<dojo::app::Command> commands;
  for (auto add : {dojo::app::add_train_commands, dojo::app::add_env_commands, dojo::app::add_model_commands,
                   dojo::app::add_mol_commands, dojo::app::add_dataset_commands,
                   dojo::app::add_games_commands, dojo::app::add_srl_commands, dojo::app::add_lpg_commands}) {
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
    const dojo::app::Command* chosen = nullptr;
    for (const auto& c : commands) {
      if (c.app->parsed()) chosen = &c;
    }
    if (chosen == nullptr) return 0;
    if (app.count("--nproc") && nproc < 1) {
      throw dojo::Error("--nproc " + std::to_string(nproc) + ": expected at least 1 process");
    }
    if (nproc > 1 || app.count("--dist-url") || dojo::core::resolve_dist_options(dist).world_size > 1) {
      if (!chosen->distributed) {
        throw dojo::Error(
            "'dojo " + command_path(*chosen->app) +
            "' runs as one process: expected no --nproc, --dist-url or launcher (RANK, WORLD_SIZE); "
            "the data-parallel commands are: " +
            distributed_commands(commands));
      }
      if (nproc > 1) return dojo::core::launch_local(without_nproc(argc, argv), {.nproc = nproc});
      dojo::core::init_process_group(dist);
      // Rank 0 speaks for the group: the others print warnings and errors only.
      if (dojo::core::dist_rank() != 0) quiet_stdout();
    }
    auto& loaded = dojo::app::plugins();
    for (const auto& p : dojo::core::env_plugins()) loaded.push_back(dojo::core::load_plugin(p));
    for (const auto& p : plugins) loaded.push_back(dojo::core::load_plugin(p));
    const int code = chosen->run();
    dojo::core::destroy_process_group();
    return code;
  } catch (const dojo::Error& e) {
    // Bad input is the same on every rank of a group: rank 0 says it once.
    if (dojo::core::dist_rank() == 0) std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {  // a path the user gave: bad input
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const dojo::core::DistributedError& e) {  // a rank left: no backtrace, one line
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const c10::Error& e) {
    std::cerr << "error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
