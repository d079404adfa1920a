#include "core/launch.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "core/error.h"

extern char** environ;

namespace dojo::core {

namespace {

// What another launcher may have set; each rank gets its own values instead.
const std::string kLauncherVariables[] = {"RANK",
                                          "LOCAL_RANK",
                                          "WORLD_SIZE",
                                          "LOCAL_WORLD_SIZE",
                                          "DOJO_DIST_URL",
                                          "MASTER_ADDR",
                                          "MASTER_PORT",
                                          "PMI_RANK",
                                          "PMI_SIZE",
                                          "SLURM_PROCID",
                                          "SLURM_NTASKS",
                                          "OMPI_COMM_WORLD_RANK",
                                          "OMPI_COMM_WORLD_SIZE"};

std::atomic<int> received_signal{0};
void remember_signal(int sig) { received_signal = sig; }

struct Rank {
  pid_t pid = -1;
  bool done = false;
  int status = 0;
};

std::string describe(int rank, pid_t pid, int status) {
  const auto who = "rank " + std::to_string(rank) + " (pid " + std::to_string(pid) + ")";
  if (WIFSIGNALED(status)) {
    return who + " was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return who + " exited with code " + std::to_string(WEXITSTATUS(status));
}

int exit_code(int status) { return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status); }

}  // namespace

int launch_local(const std::vector<std::string>& argv, const LaunchOptions& o) {
  if (o.nproc < 1) throw Error("--nproc " + std::to_string(o.nproc) + ": expected at least 1 process");
  if (argv.empty()) throw Error("launch_local: no program to run");
  // A private folder for the file store: only this user can reach the rendezvous.
  // mkdtemp replaces the trailing XXXXXX with a unique name and creates the folder with mode 0700.
  std::string pattern = (std::filesystem::temp_directory_path() / "dojo-dist-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr)
    throw Error("cannot create a folder under " + pattern + ": " + strerror(errno));
  const std::filesystem::path dir = pattern;
  const auto url = "file://" + (dir / "store").string();

  received_signal = 0;  // a signal to an earlier launch in this process is not this one's
  struct sigaction sa {};
  sa.sa_handler = remember_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  std::vector<Rank> ranks(static_cast<std::size_t>(o.nproc));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int first_failure = -1;
  for (int r = 0; r < o.nproc; ++r) {
    // The parent's environment without any launcher's variables, then this rank's.
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string kv = *e;
      const auto key = kv.substr(0, kv.find('='));
      if (std::find(std::begin(kLauncherVariables), std::end(kLauncherVariables), key) ==
          std::end(kLauncherVariables))
        env.push_back(kv);
    }
    env.push_back("RANK=" + std::to_string(r));
    env.push_back("LOCAL_RANK=" + std::to_string(r));
    env.push_back("WORLD_SIZE=" + std::to_string(o.nproc));
    env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(o.nproc));
    env.push_back("DOJO_DIST_URL=" + url);
    std::vector<char*> envp;
    for (auto& kv : env) envp.push_back(kv.data());
    envp.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), envp.data());
    if (rc != 0) {
      for (auto& started : ranks) {
        if (started.pid > 0) kill(started.pid, SIGTERM);
      }
      for (auto& started : ranks) {
        if (started.pid > 0) waitpid(started.pid, nullptr, 0);
      }
      std::filesystem::remove_all(dir);
      throw Error("cannot start '" + argv[0] + "': " + strerror(rc));
    }
    ranks[static_cast<std::size_t>(r)].pid = pid;
  }

  using clock = std::chrono::steady_clock;
  clock::time_point failed_at{}, terminated_at{};
  bool terminated = false, killed = false;
  int running = o.nproc, forwarded = 0;
  while (running > 0) {
    if (const int sig = received_signal.load(); sig != 0 && sig != forwarded) {
      for (auto& r : ranks) {
        if (!r.done) kill(r.pid, sig);
      }
      forwarded = sig;
    }
    bool reaped = false;
    for (int r = 0; r < o.nproc; ++r) {
      auto& rank = ranks[static_cast<std::size_t>(r)];
      if (rank.done || waitpid(rank.pid, &rank.status, WNOHANG) != rank.pid) continue;
      rank.done = true;
      reaped = true;
      --running;
      if (exit_code(rank.status) != 0 && first_failure < 0 && forwarded == 0) {
        first_failure = r;
        failed_at = clock::now();
        // Exit code 2 is bad input, which the rank has reported itself.
        if (exit_code(rank.status) != 2)
          std::cerr << "error: " << describe(r, rank.pid, rank.status)
                    << (running > 0 ? "; stopping the other ranks" : "") << "\n";
      }
    }
    if (reaped) continue;
    const auto now = clock::now();
    if (first_failure >= 0 && !terminated && now - failed_at > std::chrono::duration<double>(o.grace_s)) {
      for (auto& r : ranks) {
        if (!r.done) kill(r.pid, SIGTERM);
      }
      terminated = true;
      terminated_at = now;
    }
    if (terminated && !killed && now - terminated_at > std::chrono::seconds(5)) {
      for (auto& r : ranks) {
        if (!r.done) kill(r.pid, SIGKILL);
      }
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  if (first_failure >= 0) return exit_code(ranks[static_cast<std::size_t>(first_failure)].status);
  if (forwarded != 0) return 128 + forwarded;
  for (const auto& r : ranks) {
    if (exit_code(r.status) != 0) return exit_code(r.status);
  }
  return 0;
}

}  // namespace dojo::core
