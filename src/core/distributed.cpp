#include "core/distributed.h"

#include <torch/torch.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "core/error.h"
#include "core/strings.h"

namespace dojo::core {

namespace {

std::string env_or(const GetEnv& getenv, const char* name) {
  const char* v = getenv(name);
  return v == nullptr ? "" : v;
}

int parse_int(const std::string& text, const std::string& what) {
  int value = 0;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || p != end) throw Error(what + " is '" + text + "': expected a whole number");
  return value;
}

// The first of the variables that is set, as a number, and its name; -1 when none is.
int from_env(const GetEnv& getenv, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const auto v = env_or(getenv, name);
    if (!v.empty()) return parse_int(v, std::string("$") + name);
  }
  return -1;
}

struct Url {
  std::string scheme, host, path;
  int port = 0;
};

Url parse_url(const std::string& url) {
  const auto bad = [&](const std::string& why) {
    return Error("dist url '" + url + "': " + why + "; expected tcp://HOST:PORT or file:///PATH");
  };
  Url u;
  if (url.rfind("file://", 0) == 0) {
    u.scheme = "file";
    u.path = url.substr(7);
    if (u.path.empty() || u.path[0] != '/') throw bad("the path must be absolute");
    return u;
  }
  if (url.rfind("tcp://", 0) != 0) throw bad("unknown scheme");
  const auto rest = url.substr(6);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) throw bad("no host or port");
  u.scheme = "tcp";
  u.host = rest.substr(0, colon);
  if (u.host.size() > 2 && u.host.front() == '[' && u.host.back() == ']')
    u.host = u.host.substr(1, u.host.size() - 2);
  u.port = parse_int(rest.substr(colon + 1), "the port of dist url '" + url + "'");
  if (u.port <= 0 || u.port > 65535) throw bad("port out of range");
  return u;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000)));
}

// One line of a LibTorch/Gloo message (they carry backtraces and source positions).
std::string first_line(const std::exception& e) {
  std::string what;
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) {
    what = c10->what_without_backtrace();
  } else {
    what = e.what();
  }
  what = what.substr(0, what.find('\n'));
  // "[../third_party/gloo/gloo/transport/tcp/pair.cc:598] Connection closed by peer": keep the words.
  if (!what.empty() && what[0] == '[') {
    const auto close = what.find("] ");
    if (close != std::string::npos) what = what.substr(close + 2);
  }
  return what;
}

}  // namespace

DistOptions resolve_dist_options(DistOptions o, const GetEnv& getenv) {
  if (o.rank < 0) o.rank = from_env(getenv, {"RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID"});
  if (o.world_size < 0) {
    o.world_size = from_env(getenv, {"WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"});
  }
  if (o.world_size < 0) o.world_size = 1;
  if (o.rank < 0) o.rank = 0;
  if (o.world_size < 1) throw Error("world size " + std::to_string(o.world_size) + ": expected at least 1");
  if (o.rank >= o.world_size) {
    throw Error("rank " + std::to_string(o.rank) + " in a world of " + std::to_string(o.world_size) +
                ": expected a rank in [0, " + std::to_string(o.world_size) + ")");
  }
  if (!(o.timeout_s > 0))
    throw Error("dist timeout " + std::to_string(o.timeout_s) + " s: expected a positive number");
  if (env_or(getenv, "TORCHELASTIC_USE_AGENT_STORE") == "True") {
    o.launcher_store = true;
    o.attempt = std::max(0, from_env(getenv, {"TORCHELASTIC_RESTART_COUNT"}));
  }
  if (o.run_id.empty()) o.run_id = env_or(getenv, "TORCHELASTIC_RUN_ID");
  if (o.run_id.empty()) o.run_id = env_or(getenv, "SLURM_JOB_ID");
  if (o.run_id.empty()) o.run_id = "dojo";
  if (o.url.empty()) o.url = env_or(getenv, "DOJO_DIST_URL");  // set by `dojo --nproc`
  if (o.url.empty()) {
    const auto addr = env_or(getenv, "MASTER_ADDR"), port = env_or(getenv, "MASTER_PORT");
    if (!addr.empty() && !port.empty()) o.url = "tcp://" + addr + ":" + port;
  }
  if (o.world_size > 1 && o.url.empty()) {
    throw Error("a world of " + std::to_string(o.world_size) +
                " processes but no rendezvous address: give --dist-url tcp://HOST:PORT or export "
                "MASTER_ADDR and MASTER_PORT");
  }
  if (!o.url.empty()) parse_url(o.url);  // fails early on a malformed URL
  return o;
}

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
  std::chrono::milliseconds timeout{};
  int failures = 0;
};

ProcessGroup::ProcessGroup(const DistOptions& o) : rank_(o.rank), size_(o.world_size) {
  if (size_ <= 1) return;
  impl_ = std::make_unique<Impl>();
  impl_->timeout = to_ms(o.timeout_s);
  const auto url = parse_url(o.url);
  const std::string where = "rank " + std::to_string(rank_) + " of " + std::to_string(size_) + " at " + o.url;
  try {
    if (url.scheme == "file") {
      impl_->store = c10::make_intrusive<c10d::FileStore>(url.path, size_);
    } else {
      c10d::TCPStoreOptions so;
      so.port = static_cast<std::uint16_t>(url.port);
      so.isServer = rank_ == 0 && !o.launcher_store;
      so.waitWorkers = false;  // dojo's own handshake below names what is wrong instead of hanging
      so.timeout = impl_->timeout;
      impl_->store = c10::make_intrusive<c10d::TCPStore>(url.host, so);
      if (o.launcher_store) {  // torchrun's layout: one key space per restart of the workers
        impl_->store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::to_string(o.attempt),
                                                              impl_->store);
      }
    }
    impl_->store->setTimeout(impl_->timeout);
  } catch (const std::exception& e) {
    throw DistributedError(where + ": cannot reach the rendezvous store: " + first_line(e));
  }
  // The handshake: rank 0 publishes the run id and the world size; every rank checks them and claims
  // its rank, so a stray process (another run, a wrong size or a duplicate rank) is refused by name.
  auto& store = *impl_->store;
  const auto bytes = [](const std::string& s) { return std::vector<std::uint8_t>(s.begin(), s.end()); };
  const auto text = [](const std::vector<std::uint8_t>& b) { return std::string(b.begin(), b.end()); };
  try {
    if (rank_ == 0) {
      store.set("dojo/run_id", bytes(o.run_id));
      store.set("dojo/world_size", bytes(std::to_string(size_)));
    }
    const auto run_id = text(store.get("dojo/run_id"));
    const auto world = text(store.get("dojo/world_size"));
    if (run_id != o.run_id) {
      throw Error(where + ": run id '" + o.run_id + "' differs from the group's '" + run_id +
                  "': expected the same run id on every rank");
    }
    if (world != std::to_string(size_)) {
      throw Error(where + ": world size " + std::to_string(size_) + " differs from the group's " + world +
                  ": expected the same world size on every rank");
    }
    if (store.add("dojo/rank/" + std::to_string(rank_), 1) != 1) {
      throw Error(where + ": rank " + std::to_string(rank_) + " has already joined: expected each rank once");
    }
    if (store.add("dojo/joined", 1) == size_) store.set("dojo/all_joined", bytes("1"));
    store.wait({"dojo/all_joined"});
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw DistributedError(where + ": not every rank joined within " + std::to_string(o.timeout_s) +
                           " s: " + first_line(e));
  }
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(impl_->timeout);
    if (!o.interface_address.empty()) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(o.interface_address));
    } else if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != 0) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (url.scheme == "file" || is_loopback(url.host)) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    options->threads = 1;  // one collective at a time: dojo's loops wait on each
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("gloo", impl_->store);
    impl_->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, rank_, size_, options);
  } catch (const std::exception& e) {
    throw DistributedError(where + ": cannot connect the ranks: " + first_line(e));
  }
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::fail(const std::string& what, const std::exception& e) {
  // Which rank left? Every rank whose collective failed checks in under a fresh key; the ranks that
  // never do within a few seconds are gone. When the store itself is unreachable, its host (rank 0
  // for tcp://) is.
  const auto reason = first_line(e);
  const auto round = "dojo/alive/" + std::to_string(impl_->failures++) + "/";
  std::vector<std::string> gone;
  try {
    impl_->store->set(round + std::to_string(rank_), {1});
    for (int r = 0; r < size_; ++r) {
      if (r == rank_) continue;
      try {
        impl_->store->wait({round + std::to_string(r)}, std::chrono::seconds(3));
      } catch (const std::exception&) {
        gone.push_back(std::to_string(r));
      }
    }
  } catch (const std::exception&) {
    gone = {"0 (the rendezvous host)"};
  }
  std::string who;
  if (gone.empty()) {
    who = "every rank is alive, so one stopped answering or called another collective";
  } else {
    who = (gone.size() == 1 ? "rank " : "ranks ") + join(gone, ", ") + " left the group";
  }
  throw DistributedError("rank " + std::to_string(rank_) + " of " + std::to_string(size_) + ": " + what +
                         " failed: " + who + " (" + reason + ")");
}

void ProcessGroup::allreduce_sum(std::vector<torch::Tensor>& tensors) {
  if (size_ <= 1 || tensors.empty()) return;
  try {
    impl_->gloo->allreduce(tensors)->wait(impl_->timeout);
  } catch (const std::exception& e) {
    fail("allreduce", e);
  }
}

std::vector<double> ProcessGroup::allreduce_sum(std::vector<double> values) {
  if (size_ <= 1 || values.empty()) return values;
  std::vector<torch::Tensor> t{torch::tensor(values, torch::kFloat64)};
  allreduce_sum(t);
  const auto* p = t[0].data_ptr<double>();
  return {p, p + values.size()};
}

void ProcessGroup::broadcast(std::vector<torch::Tensor>& tensors, int root) {
  if (size_ <= 1 || tensors.empty()) return;
  try {
    c10d::BroadcastOptions bo;
    bo.rootRank = root;
    impl_->gloo->broadcast(tensors, bo)->wait(impl_->timeout);
  } catch (const std::exception& e) {
    fail("broadcast", e);
  }
}

void ProcessGroup::barrier() {
  if (size_ <= 1) return;
  try {
    impl_->gloo->barrier()->wait(impl_->timeout);
  } catch (const std::exception& e) {
    fail("barrier", e);
  }
}

void ProcessGroup::release(const std::string& key) {
  if (size_ <= 1) return;
  try {
    impl_->store->set("dojo/release/" + key, {1});
  } catch (const std::exception& e) {
    fail("release", e);
  }
}

void ProcessGroup::wait_for_main(const std::string& key, std::chrono::seconds timeout) {
  if (size_ <= 1) return;
  try {
    impl_->store->wait({"dojo/release/" + key}, timeout);
  } catch (const std::exception& e) {
    fail("waiting for rank 0", e);
  }
}

namespace {
std::unique_ptr<ProcessGroup>& default_group() {
  static std::unique_ptr<ProcessGroup> group;
  return group;
}
}  // namespace

ProcessGroup* process_group() { return default_group().get(); }

void init_process_group(const DistOptions& options) {
  if (default_group()) throw Error("init_process_group: this process has already joined a group");
  const auto resolved = resolve_dist_options(options);
  if (resolved.world_size > 1) default_group() = std::make_unique<ProcessGroup>(resolved);
}

void destroy_process_group() { default_group().reset(); }

int dist_rank() { return process_group() ? process_group()->rank() : 0; }
int dist_world_size() { return process_group() ? process_group()->size() : 1; }

namespace {

// Applies fn to buckets of tensors of one dtype, each flattened into one contiguous buffer, and
// copies the results back: one collective per bucket instead of one per tensor.
void in_buckets(const std::vector<torch::Tensor>& tensors, const std::function<void(torch::Tensor&)>& fn) {
  constexpr std::int64_t kBucketBytes = 25 << 20;
  std::vector<torch::Tensor> bucket;
  std::int64_t bytes = 0;
  const auto flush = [&] {
    if (bucket.empty()) return;
    std::vector<torch::Tensor> flat;
    for (const auto& t : bucket) flat.push_back(t.reshape({-1}));
    auto buffer = torch::cat(flat);
    fn(buffer);
    std::int64_t at = 0;
    for (auto& t : bucket) {
      t.copy_(buffer.slice(0, at, at + t.numel()).view_as(t));
      at += t.numel();
    }
    bucket.clear();
    bytes = 0;
  };
  for (const auto& t : tensors) {
    if (!t.defined() || t.numel() == 0) continue;
    if (!bucket.empty() && (bucket[0].scalar_type() != t.scalar_type() || bytes >= kBucketBytes)) flush();
    bucket.push_back(t);
    bytes += t.numel() * static_cast<std::int64_t>(t.element_size());
  }
  flush();
}

}  // namespace

void broadcast_tensors(const std::vector<torch::Tensor>& tensors) {
  auto* group = process_group();
  if (group == nullptr || group->size() <= 1) return;
  torch::NoGradGuard no_grad;
  in_buckets(tensors, [&](torch::Tensor& buffer) {
    std::vector<torch::Tensor> one{buffer};
    group->broadcast(one);
  });
}

void broadcast_module(torch::nn::Module& module) {
  std::vector<torch::Tensor> tensors;
  for (const auto& p : module.parameters()) tensors.push_back(p);
  for (const auto& b : module.buffers()) tensors.push_back(b);
  broadcast_tensors(tensors);
}

void average_gradients(const std::vector<torch::Tensor>& parameters, std::int64_t samples,
                       std::int64_t total_samples) {
  auto* group = process_group();
  if (group == nullptr || group->size() <= 1) return;
  if (total_samples <= 0) throw Error("average_gradients: total_samples must be positive");
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const auto& p : parameters) {
    if (!p.requires_grad()) continue;
    // A rank whose batch never reached a parameter still joins the sum, with zeros.
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  const double scale = static_cast<double>(samples) / static_cast<double>(total_samples);
  in_buckets(grads, [&](torch::Tensor& buffer) {
    buffer.mul_(scale);
    std::vector<torch::Tensor> one{buffer};
    group->allreduce_sum(one);
  });
}

}  // namespace dojo::core
