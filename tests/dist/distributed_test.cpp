// Process groups (core/distributed.h, core/launch.h) and data-parallel fit, with real processes on
// localhost: dist_worker is one rank, started here one or two at a time.
#include "core/distributed.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "core/launch.h"
#include "test_util.h"

extern char** environ;

using namespace dojo;

namespace {

core::GetEnv env_of(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

torch::Tensor weights(const std::filesystem::path& dir, int rank) {
  torch::Tensor t;
  torch::load(t, (dir / ("weights-rank" + std::to_string(rank) + ".pt")).string());
  return t;
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// Fits with `nproc` ranks (batch per rank) through the launcher; returns its exit code.
int fit(const std::filesystem::path& dir, int nproc, int batch, int epochs, const std::string& mode = "") {
  std::filesystem::create_directories(dir);
  std::vector<std::string> argv{DOJO_DIST_WORKER, dir.string(), std::to_string(batch),
                                std::to_string(epochs)};
  if (!mode.empty()) argv.push_back(mode);
  return core::launch_local(argv, {.nproc = nproc});
}

// The weights after every step of a two-rank run (dir/two) are equal on both ranks and match
// a one-process run's (dir/one) to float tolerance, over `steps` steps.
void expect_two_ranks_match_one(const std::filesystem::path& dir, std::int64_t steps) {
  const auto r0 = weights(dir / "two", 0), r1 = weights(dir / "two", 1), single = weights(dir / "one", 0);
  ASSERT_EQ(r0.size(0), steps);
  ASSERT_EQ(single.size(0), steps);
  EXPECT_TRUE(torch::equal(r0, r1)) << "rank 1's weights differ from rank 0's after a step";
  EXPECT_TRUE(torch::allclose(r0, single, 1e-4, 1e-5)) << (r0 - single).abs().max().item<double>();
}

}  // namespace

TEST(DistOptions, ComeFromEachLaunchersVariables) {
  auto torchrun = core::resolve_dist_options({}, env_of({{"RANK", "1"},
                                                         {"WORLD_SIZE", "4"},
                                                         {"MASTER_ADDR", "10.0.0.2"},
                                                         {"MASTER_PORT", "29500"},
                                                         {"TORCHELASTIC_RUN_ID", "abc"}}));
  EXPECT_EQ(torchrun.rank, 1);
  EXPECT_EQ(torchrun.world_size, 4);
  EXPECT_EQ(torchrun.url, "tcp://10.0.0.2:29500");
  EXPECT_EQ(torchrun.run_id, "abc");
  auto mpi =
      core::resolve_dist_options({.url = "tcp://127.0.0.1:4000"},
                                 env_of({{"OMPI_COMM_WORLD_RANK", "2"}, {"OMPI_COMM_WORLD_SIZE", "3"}}));
  EXPECT_EQ(mpi.rank, 2);
  EXPECT_EQ(mpi.world_size, 3);
  EXPECT_EQ(mpi.run_id, "dojo");
  auto slurm = core::resolve_dist_options({}, env_of({{"SLURM_PROCID", "0"},
                                                      {"SLURM_NTASKS", "2"},
                                                      {"SLURM_JOB_ID", "77"},
                                                      {"DOJO_DIST_URL", "file:///tmp/x/store"}}));
  EXPECT_EQ(slurm.world_size, 2);
  EXPECT_EQ(slurm.run_id, "77");
  EXPECT_EQ(slurm.url, "file:///tmp/x/store");
  // Given values win over the variables; nothing set is one process.
  auto given = core::resolve_dist_options({.url = "tcp://h:1", .rank = 0, .world_size = 2},
                                          env_of({{"RANK", "1"}, {"WORLD_SIZE", "4"}}));
  EXPECT_EQ(given.rank, 0);
  EXPECT_EQ(given.world_size, 2);
  auto alone = core::resolve_dist_options({}, env_of({}));
  EXPECT_EQ(alone.world_size, 1);
  EXPECT_EQ(alone.rank, 0);
}

TEST(DistOptions, BadValuesAreNamed) {
  const auto message = [](core::DistOptions o, std::map<std::string, std::string> vars) {
    try {
      core::resolve_dist_options(std::move(o), env_of(std::move(vars)));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(
      message({}, {{"RANK", "one"}, {"WORLD_SIZE", "2"}}).find("$RANK is 'one': expected a whole number"),
      std::string::npos);
  EXPECT_NE(message({}, {{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}})
                .find("rank 2 in a world of 2: expected a rank in [0, 2)"),
            std::string::npos);
  EXPECT_NE(message({}, {{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "2"}})
                .find("no rendezvous address"),
            std::string::npos);
  EXPECT_NE(message({.url = "http://h:1", .world_size = 2}, {}).find("dist url 'http://h:1': unknown scheme"),
            std::string::npos);
  EXPECT_NE(message({.url = "tcp://h:99999", .world_size = 2}, {}).find("port out of range"),
            std::string::npos);
}

TEST(ProcessGroup, RefusesAStrayProcessByName) {
  // Two "processes" as threads of this one: a group of 2, and a joiner that believes in 3 ranks or
  // another run; each is refused with a line naming the mismatch.
  const auto dir = test::fresh_path("dist_stray");
  std::filesystem::create_directories(dir);
  const auto join = [](core::DistOptions o) -> std::string {
    try {
      core::ProcessGroup group(core::resolve_dist_options(o, env_of({})));
    } catch (const std::exception& e) {
      return e.what();
    }
    return "joined";
  };
  const auto url = "file://" + (dir / "store-size").string();
  auto first = std::async(std::launch::async, join,
                          core::DistOptions{.url = url, .rank = 0, .world_size = 2, .timeout_s = 3});
  const auto stray = join({.url = url, .rank = 1, .world_size = 3, .timeout_s = 3});
  EXPECT_NE(stray.find("world size 3 differs from the group's 2"), std::string::npos) << stray;
  EXPECT_NE(first.get().find("not every rank joined within 3"), std::string::npos);

  const auto url2 = "file://" + (dir / "store-run").string();
  auto second =
      std::async(std::launch::async, join,
                 core::DistOptions{.url = url2, .rank = 0, .world_size = 2, .run_id = "a", .timeout_s = 3});
  const auto other_run = join({.url = url2, .rank = 1, .world_size = 2, .run_id = "b", .timeout_s = 3});
  EXPECT_NE(other_run.find("run id 'b' differs from the group's 'a'"), std::string::npos) << other_run;
  second.get();
  std::filesystem::remove_all(dir);
}

TEST(ProcessGroup, SumsAndBroadcastsAcrossTwoRanksOverTcp) {
  // Threads again, through a real TCP store on a free port.
  const int port = free_port();
  const auto url = "tcp://127.0.0.1:" + std::to_string(port);
  const auto rank_main = [&](int rank) {
    core::ProcessGroup group(
        core::resolve_dist_options({.url = url, .rank = rank, .world_size = 2, .timeout_s = 20}, env_of({})));
    std::vector<torch::Tensor> t{torch::full({3}, static_cast<float>(rank + 1))};
    group.allreduce_sum(t);
    std::vector<torch::Tensor> b{torch::full({2}, static_cast<double>(rank + 5), torch::kFloat64)};
    group.broadcast(b, 1);
    const auto sums = group.allreduce_sum(std::vector<double>{0.5, static_cast<double>(rank)});
    group.barrier();
    return std::vector<double>{t[0][2].item<double>(), b[0][0].item<double>(), sums[0], sums[1]};
  };
  auto other = std::async(std::launch::async, rank_main, 1);
  const auto mine = rank_main(0);
  EXPECT_EQ(mine, (std::vector<double>{3, 6, 1, 1}));
  EXPECT_EQ(other.get(), (std::vector<double>{3, 6, 1, 1}));
}

TEST(DataParallelFit, TwoRanksKeepIdenticalWeightsAndMatchOneRankWithTwiceTheBatch) {
  const auto dir = test::fresh_path("dist_fit");
  ASSERT_EQ(fit(dir / "two", 2, 8, 3), 0);
  ASSERT_EQ(fit(dir / "one", 1, 16, 3), 0);
  // 75 training samples, 16 a step: 5 steps an epoch, the last one 11 samples (6 on rank 0, 5 on 1).
  expect_two_ranks_match_one(dir, 15);
  // The epoch's loss and val_loss are the means over all samples, the same as one process's.
  std::istringstream l0(read_text(dir / "two" / "logs-rank0.txt")),
      l1(read_text(dir / "one" / "logs-rank0.txt"));
  double loss0, val0, loss1, val1;
  l0 >> loss0 >> val0;
  l1 >> loss1 >> val1;
  EXPECT_NEAR(loss0, loss1, 1e-4);
  EXPECT_NEAR(val0, val1, 1e-4);
  // A CSVLogger on every rank: rank 0 alone writes, one row an epoch.
  const auto csv = read_text(dir / "two" / "log.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4) << csv;
  std::filesystem::remove_all(dir);
}

TEST(DataParallelFit, ARankWithoutSamplesInTheLastStepStillJoins) {
  const auto dir = test::fresh_path("dist_fit_empty");
  // Batch 1 a rank: the 38th step holds the 75th sample alone, so rank 1 has none.
  ASSERT_EQ(fit(dir / "two", 2, 1, 1), 0);
  ASSERT_EQ(fit(dir / "one", 1, 2, 1), 0);
  expect_two_ranks_match_one(dir, 38);
  std::filesystem::remove_all(dir);
}

TEST(DataParallelProbModel, TwoRanksWithHalfABatchEachMatchOneRankWithTheWholeBatch) {
  const auto dir = test::fresh_path("dist_prob");
  ASSERT_EQ(fit(dir / "two", 2, 16, 20, "prob"), 0);
  ASSERT_EQ(fit(dir / "one", 1, 16, 20, "prob"), 0);
  expect_two_ranks_match_one(dir, 20);
  std::filesystem::remove_all(dir);
}

TEST(DataParallelPPO, TwoRanksStayOneAgentThroughEveryGradientStep) {
  const auto dir = test::fresh_path("dist_ppo");
  // 2 ranks × 2 envs × 32 steps a rollout, 4 rollouts; minibatches of 30 split a rank's 60-64 valid
  // steps into 2 or 3, so one rank sometimes joins a step with no samples.
  ASSERT_EQ(fit(dir, 2, 30, 512, "ppo"), 0);
  const auto r0 = weights(dir, 0), r1 = weights(dir, 1);
  ASSERT_GE(r0.size(0), 4);
  ASSERT_EQ(r0.sizes(), r1.sizes());
  // Weights, averaged gradients and both normalisers' statistics, bit for bit, at every step.
  for (std::int64_t step = 0; step < r0.size(0); ++step)
    ASSERT_TRUE(torch::equal(r0[step], r1[step])) << "step " << step;
  EXPECT_FALSE(torch::equal(r0[0], r0[r0.size(0) - 1]));  // it did learn something
  // The group's steps, counted alike on both.
  EXPECT_EQ(read_text(dir / "logs-rank0.txt"), "512\n");
  EXPECT_EQ(read_text(dir / "logs-rank1.txt"), "512\n");
  std::filesystem::remove_all(dir);
}

TEST(DistributedSelfPlay, EveryRankGetsEveryGameWholeAndInOrder) {
  const auto dir = test::fresh_path("dist_selfplay");
  ASSERT_EQ(fit(dir / "two", 2, 5, 11, "selfplay"), 0);
  ASSERT_EQ(fit(dir / "one", 1, 5, 11, "selfplay"), 0);
  const auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  };
  const auto own0 = lines(read_text(dir / "two" / "own-rank0.txt")),
             own1 = lines(read_text(dir / "two" / "own-rank1.txt"));
  const auto all0 = lines(read_text(dir / "two" / "all-rank0.txt"));
  ASSERT_EQ(own0.size(), 3u);  // games 0, 2, 4
  ASSERT_EQ(own1.size(), 2u);  // games 1, 3
  ASSERT_EQ(all0.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_EQ(all0[i], i % 2 == 0 ? own0[i / 2] : own1[i / 2]) << "game " << i;
  EXPECT_EQ(read_text(dir / "two" / "all-rank1.txt"), read_text(dir / "two" / "all-rank0.txt"));
  // The same seed's games, whoever played them: one process plays the same five.
  EXPECT_EQ(read_text(dir / "one" / "all-rank0.txt"), read_text(dir / "two" / "all-rank0.txt"));
  std::filesystem::remove_all(dir);
}

TEST(DataParallelFit, KillingOneRankEndsTheOtherWithALineNamingIt) {
  const auto dir = test::fresh_path("dist_kill");
  std::filesystem::create_directories(dir);
  const auto url = "file://" + (dir / "store").string();
  pid_t pids[2];
  for (int r = 0; r < 2; ++r) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const auto err = (dir / ("stderr-rank" + std::to_string(r))).string();
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> env{"RANK=" + std::to_string(r), "WORLD_SIZE=2", "DOJO_DIST_URL=" + url};
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args{DOJO_DIST_WORKER, dir.string(), "8", "1", "slow"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&pids[r], argv[0], &actions, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&actions);
  }
  // Both ranks are training: kill rank 1 without warning.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::filesystem::exists(dir / "started-rank1") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(std::filesystem::exists(dir / "started-rank1"));
  kill(pids[1], SIGKILL);
  waitpid(pids[1], nullptr, 0);
  const auto killed_at = std::chrono::steady_clock::now();
  int status = 0;
  waitpid(pids[0], &status, 0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  EXPECT_LT(seconds, 20.0 + 5.0) << "rank 0 outlived the 20 s collective timeout";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const auto err = read_text(dir / "stderr-rank0");
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("error: rank 0 of 2: "), std::string::npos) << err;
  EXPECT_NE(err.find("rank 1 left the group"), std::string::npos) << err;
  std::filesystem::remove_all(dir);
}

namespace {

// The output of a shell command (stdout), and its exit status through `code`.
std::string run_command(const std::string& command, int& code) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  const int status = pclose(pipe);
  code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// "final_loss": 2.60... from the example's JSON, or NaN.
double final_loss(const std::string& out) {
  const auto at = out.find("\"final_loss\": ");
  return at == std::string::npos ? std::nan("") : std::stod(out.substr(at + 14));
}

}  // namespace

TEST(Launchers, NprocTorchrunAndMpirunRunTheSameDataParallelFit) {
  const std::string dojo = std::getenv("DOJO_BIN");
  const auto args = " example seed-mlp --epochs 1 --verbose 0 --threads 1";
  int code = -1;
  const auto alone = final_loss(run_command(dojo + args, code));
  ASSERT_EQ(code, 0);
  const auto nproc = final_loss(run_command(dojo + args + " --nproc 2", code));
  ASSERT_EQ(code, 0);
  // Two ranks of batch 32 take 64 samples a step: another run than one process's batch 32.
  EXPECT_GT(std::abs(nproc - alone), 1e-3);
  // Debian's torchrun (1.13 on Python 3.11) fails on its default --redirects 0 / --tee 0 (an IntFlag
  // of value 0 no longer iterates), so the test passes 1: rank 0's stdout goes to the console too.
  const auto torchrun = run_command("torchrun --nproc_per_node 2 --no_python --redirects 1 --tee 1 " + dojo +
                                        args + " 2>/dev/null | sed 's/^\\[default0\\]://'",
                                    code);
  ASSERT_EQ(code, 0) << torchrun;
  EXPECT_NEAR(final_loss(torchrun), nproc, 1e-6) << torchrun;
  const auto mpirun =
      run_command("mpirun --allow-run-as-root --oversubscribe -np 2 " + dojo + args +
                      " --dist-url tcp://127.0.0.1:" + std::to_string(free_port()) + " 2>/dev/null",
                  code);
  ASSERT_EQ(code, 0) << mpirun;
  EXPECT_NEAR(final_loss(mpirun), nproc, 1e-6) << mpirun;
}

TEST(Launchers, AOneProcessCommandRefusesSeveral) {
  const std::string dojo = std::getenv("DOJO_BIN");
  int code = -1;
  const auto out = run_command(dojo + " envs --nproc 2 2>&1", code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("error: 'dojo envs' runs as one process"), std::string::npos) << out;
  EXPECT_NE(out.find("dojo example"), std::string::npos) << out;
  const auto vae = run_command(dojo + " example vae --epochs 1 --nproc 2 2>&1", code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(vae.find("example 'vae' does not run data parallel yet"), std::string::npos) << vae;
  const auto zero = run_command(dojo + " example seed-mlp --nproc 0 2>&1", code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(zero.find("--nproc 0: expected at least 1 process"), std::string::npos) << zero;
}

TEST(Launchers, TrainRefusesSeveralProcessesForAOneProcessAlgorithm) {
  const std::string dojo = std::getenv("DOJO_BIN");
  int code = -1;
  const auto out = run_command(dojo + " train dqn --steps 100 --nproc 2 --out /nonexistent/x 2>&1", code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("error: dqn trains in one process: expected one of a2c, ppo for 2 processes"),
            std::string::npos)
      << out;
}

namespace {

// The step a resumed run starts from, from its log line "resuming RUN at step X of N".
std::int64_t resumed_at(const std::string& log) {
  const auto at = log.find(" at step ");
  return at == std::string::npos ? -1 : std::stoll(log.substr(at + 9));
}

std::int64_t summary_steps(const std::filesystem::path& run) {
  const auto text = read_text(run / "summary.json");
  const auto at = text.find("\"env_steps\": ");
  return at == std::string::npos ? -1 : std::stoll(text.substr(at + 13));
}

}  // namespace

TEST(DataParallelPPO, ARunKilledOnTwoRanksResumesOnOneAndGrowsOnTwo) {
  const std::string dojo = std::getenv("DOJO_BIN");
  const auto dir = test::fresh_path("dist_ppo_resume");
  const auto run = dir / "run";
  std::filesystem::create_directories(dir);
  // DD-PPO through --nproc 2, far from done when it is killed (SIGTERM to the launcher, which
  // passes it on) after its first checkpoint.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const auto log = (dir / "log").string();
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<std::string> args{dojo,
                                "train",
                                "ppo",
                                "--env",
                                "CartPole-v1",
                                "--steps",
                                "1000000",
                                "--set",
                                "n_envs=2",
                                "--set",
                                "n_steps=64",
                                "--set",
                                "eval_freq=1024",
                                "--set",
                                "n_eval_episodes=2",
                                "--out",
                                run.string(),
                                "--nproc",
                                "2"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  const auto last = run / "checkpoints" / "last.ckpt";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!std::filesystem::exists(last) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(std::filesystem::exists(last)) << read_text(log);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_text(log);
  EXPECT_FALSE(std::filesystem::exists(run / "summary.json"));

  // One process takes over from the checkpoint: the group's step count goes on.
  int code = -1;
  const auto one = run_command(dojo + " train --resume " + run.string() + " --steps 1024 2>&1", code);
  ASSERT_EQ(code, 0) << one;
  const auto killed_at = resumed_at(one);
  EXPECT_GE(killed_at, 1024) << one;
  EXPECT_EQ(killed_at % 1024, 0) << one;  // checkpoints come with the evaluations
  EXPECT_EQ(summary_steps(run), killed_at + 1024);
  // And two again, from one's checkpoint.
  const auto two =
      run_command(dojo + " train --resume " + run.string() + " --steps 1024 --nproc 2 2>&1", code);
  ASSERT_EQ(code, 0) << two;
  EXPECT_EQ(resumed_at(two), killed_at + 1024) << two;
  EXPECT_EQ(summary_steps(run), killed_at + 2048);
  // Evaluations in order, one per 1024 steps, none repeated from before the kill.
  const auto evals = read_text(run / "eval.csv");
  std::istringstream lines(evals);
  std::string line;
  std::getline(lines, line);  // header
  std::int64_t expected = 1024;
  while (std::getline(lines, line)) {
    EXPECT_EQ(std::stoll(line), expected) << evals;
    expected += 1024;
  }
  EXPECT_EQ(expected, killed_at + 2048 + 1024) << evals;
  std::filesystem::remove_all(dir);
}

TEST(DataParallelCaptioner, TrainsOnTwoRanksAndResumesOnOne) {
  const std::string dojo = std::getenv("DOJO_BIN");
  const auto dir = test::fresh_path("dist_mol");
  std::filesystem::create_directories(dir);
  const auto d = dir.string();
  int code = -1;
  const auto made =
      run_command(dojo + " mol make-dataset --n 24 --generated 0 --out " + d + "/set 2>&1", code);
  ASSERT_EQ(code, 0) << made;
  const std::string tiny =
      " --set image_size=64 --set widths=[8,16,16,32] --set stem=8 --set d_model=32 --set heads=4 --set "
      "layers=1 --set ff=64 --set max_len=128 --set batch_size=8 --set eval_every=16 --set validation=" +
      d + "/set --set validation_images=4 --set warmup_images=0";
  // Two ranks of 8 images a step: 16 of the group's images a step.
  const auto two = run_command(
      dojo + " mol train --data " + d + "/set --images 32 --out " + d + "/run" + tiny + " --nproc 2 2>&1",
      code);
  ASSERT_EQ(code, 0) << two;
  EXPECT_NE(two.find("32 images seen in 2 steps"), std::string::npos) << two;
  const auto evals = read_text(dir / "run" / "eval.csv");
  EXPECT_EQ(std::count(evals.begin(), evals.end(), '\n'), 3) << evals;  // header, 16, 32
  // One process continues the count.
  const auto one = run_command(dojo + " mol train --resume " + d + "/run --images 16 2>&1", code);
  ASSERT_EQ(code, 0) << one;
  EXPECT_NE(one.find("48 images seen in 4 steps"), std::string::npos) << one;
  std::filesystem::remove_all(dir);
}
