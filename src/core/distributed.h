// Process groups on LibTorch's own distributed engine (c10d: a rendezvous store, Gloo collectives
// over TCP), joined the way torch.distributed joins: from the variables torchrun, Open MPI's mpirun
// and Slurm's srun set, or from a URL, a rank and a world size. dojo's data-parallel loops (DDP's
// recipe) call the helpers at the end of this file; with one process they do nothing.
#pragma once
#include <torch/nn/module.h>
#include <torch/types.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

// A collective that failed at run time: a rank died or stopped answering within the timeout. Not
// bad input (dojo::Error), so the dojo command exits with code 1; the message is one line naming
// the rank that left when it can be found.
class DistributedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DistOptions {
  // The rendezvous: tcp://HOST:PORT (rank 0 serves the store there) or file:///PATH (a store in a
  // shared file, as `dojo --nproc` uses on one machine). "": MASTER_ADDR and MASTER_PORT.
  std::string url = "";
  int rank = -1;        // -1: from the launcher's variables
  int world_size = -1;  // -1: from the launcher's variables, else 1
  // Processes of different runs that meet at one address refuse each other. "": TORCHELASTIC_RUN_ID,
  // SLURM_JOB_ID, else "dojo".
  std::string run_id = "";
  double timeout_s = 300;  // every collective and the rendezvous itself
  // The tcp:// store is served by the launcher (torchrun's agent: TORCHELASTIC_USE_AGENT_STORE), not
  // by rank 0; the ranks' keys then live under the agent's attempt number (TORCHELASTIC_RESTART_COUNT).
  bool launcher_store = false;
  int attempt = 0;
  // The address this process's collectives bind to; "": the address of url's host as this machine
  // reaches it (127.0.0.1 for a local run), or $GLOO_SOCKET_IFNAME's interface.
  std::string interface_address = "";
};

// A variable lookup (std::getenv, or a map in tests).
using GetEnv = std::function<const char*(const char*)>;

// Completes `given` from the launchers' variables: torchrun's RANK, WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT; Open MPI's OMPI_COMM_WORLD_RANK and OMPI_COMM_WORLD_SIZE; Slurm's SLURM_PROCID and
// SLURM_NTASKS (mpirun and srun set no rendezvous address: --dist-url, or MASTER_ADDR/MASTER_PORT).
// A value given explicitly wins. Throws dojo::Error naming the variable or value that is malformed,
// a rank outside [0, world size), or several processes with no rendezvous address.
DistOptions resolve_dist_options(DistOptions given, const GetEnv& getenv = std::getenv);

// One process's membership of a group. Every rank must call the collectives in the same order.
class ProcessGroup {
 public:
  // Joins the group `options` (resolved) describes and waits for every rank: rank 0 serves a tcp://
  // store. A process whose run id or world size differs from rank 0's, or whose rank is taken, is
  // refused with a dojo::Error. A group of one opens nothing.
  explicit ProcessGroup(const DistOptions& options);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_main() const { return rank_ == 0; }

  // In place: the element-wise sum over ranks. Throws DistributedError when a rank has left.
  void allreduce_sum(std::vector<torch::Tensor>& tensors);
  std::vector<double> allreduce_sum(std::vector<double> values);
  // In place: every rank gets root's values.
  void broadcast(std::vector<torch::Tensor>& tensors, int root = 0);
  void barrier();
  // For stretches where rank 0 works alone for longer than a collective may wait (an evaluation, a
  // ladder of games): the others call wait_for_main(key), which waits up to `timeout` rather than the
  // collectives' limit, and rank 0 calls release(key) when it is done. A key serves once.
  void release(const std::string& key);
  void wait_for_main(const std::string& key, std::chrono::seconds timeout);

 private:
  struct Impl;
  [[noreturn]] void fail(const std::string& what, const std::exception& e);
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, size_ = 1;
};

// The process's group, as torch.distributed keeps a default one: the dojo command joins it before
// a command runs when a launcher or --dist-url asks for several processes. nullptr: one process.
ProcessGroup* process_group();
// Joins the default group (a group of one sets nothing); throws dojo::Error when one is joined.
void init_process_group(const DistOptions& options);
void destroy_process_group();
int dist_rank();        // 0 without a group
int dist_world_size();  // 1 without a group

// DDP's recipe, each a no-op without a group of several processes.
// Rank 0's parameters and buffers to every rank, so all start from the same weights.
void broadcast_module(torch::nn::Module& module);
// The same for tensors (in place).
void broadcast_tensors(const std::vector<torch::Tensor>& tensors);
// Gradients averaged over ranks weighted by each rank's samples this step (so that unequal last
// batches give the mean over all samples, as one process with the whole batch would): every
// gradient is multiplied by samples / total_samples before the sum. Tensors travel in buckets of
// about 25 MB (DDP's default) flattened into one buffer each.
void average_gradients(const std::vector<torch::Tensor>& parameters, std::int64_t samples,
                       std::int64_t total_samples);

}  // namespace dojo::core

DOJO_PUBLIC_END
