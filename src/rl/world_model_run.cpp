#include "rl/world_model_run.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numbers>
#include <numeric>
#include <thread>

#include "core/checkpoint.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/files.h"
#include "core/gif.h"
#include "core/image.h"
#include "core/plot.h"
#include "core/run_dir.h"
#include "core/seed.h"
#include "core/strings.h"
#include "envs/registry.h"
#include "rl/cmaes.h"
#include "rl/evaluation.h"

namespace dojo::rl {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

const char* const kCollect = "collect";
const char* const kVae = "vae";
const char* const kEncode = "encode";
const char* const kMdn = "mdn";
const char* const kController = "controller";

std::int64_t thread_count(const WorldModelOptions& o) {
  return o.n_threads() > 0 ? o.n_threads() : std::max<std::int64_t>(1, std::thread::hardware_concurrency());
}

// work(i) for i in [0, n) on `threads` threads, each a contiguous block; the first error is rethrown.
void parallel_blocks(std::int64_t n, std::int64_t threads, const std::function<void(std::int64_t)>& work) {
  threads = std::max<std::int64_t>(1, std::min(threads, n));
  if (threads == 1) {
    for (std::int64_t i = 0; i < n; ++i) work(i);
    return;
  }
  std::exception_ptr error;
  std::mutex mutex;
  std::vector<std::thread> pool;
  for (std::int64_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      try {
        for (std::int64_t i = n * t / threads; i < n * (t + 1) / threads; ++i) work(i);
      } catch (...) {
        const std::lock_guard lock(mutex);
        if (!error) error = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

// --------------------------------------------------------------------------------------- the run
WorldModelOptions read_world_model_options(const core::Config& config) {
  WorldModelOptions o;
  core::read_options(config, o);
  return o;
}

// stages.csv: one row per finished stage (its index in world_model_stages()) and its minutes.
std::vector<std::pair<std::string, double>> finished_stages(const fs::path& dir) {
  std::vector<std::pair<std::string, double>> out;
  if (!fs::exists(dir / "stages.csv")) return out;
  const auto table = core::read_csv(dir / "stages.csv");
  for (const auto& row : table.rows)
    out.emplace_back(world_model_stages().at(static_cast<std::size_t>(row[0])), row[1]);
  return out;
}

bool finished(const fs::path& dir, const std::string& stage) {
  for (const auto& [s, m] : finished_stages(dir))
    if (s == stage) return true;
  return false;
}

void record_stage(const fs::path& dir, const std::string& stage, double seconds) {
  const auto& stages = world_model_stages();
  const auto index = std::find(stages.begin(), stages.end(), stage) - stages.begin();
  core::CsvWriter(dir / "stages.csv", {"stage", "minutes"}, true)
      .row({static_cast<double>(index), seconds / 60});
  spdlog::info("stage {} finished: {:.1f} min", stage, seconds / 60);
}

// A stage starts only after its predecessor finished; the error names what to run first.
void require_previous(const fs::path& dir, const std::string& stage) {
  const auto& stages = world_model_stages();
  const auto it = std::find(stages.begin(), stages.end(), stage);
  if (it == stages.begin()) return;
  const auto& previous = *(it - 1);
  if (!finished(dir, previous))
    throw Error(fmt::format(
        "stage {} needs the artefacts of stage {}, which has not finished in '{}': run `dojo train "
        "worldmodel --resume {} --stage {}` first",
        stage, previous, dir.string(), dir.string(), previous));
}

std::vector<std::int64_t> holdout_split(const WorldModelOptions& o, std::vector<std::int64_t>& train) {
  // The last rollouts validate (at least one when holdout > 0 and there are two or more).
  auto held = static_cast<std::int64_t>(std::ceil(o.holdout() * static_cast<double>(o.rollouts())));
  if (o.holdout() > 0 && o.rollouts() > 1) held = std::clamp<std::int64_t>(held, 1, o.rollouts() - 1);
  if (o.holdout() == 0 || o.rollouts() < 2) held = 0;
  std::vector<std::int64_t> val;
  for (std::int64_t i = 0; i < o.rollouts(); ++i) (i < o.rollouts() - held ? train : val).push_back(i);
  return val;
}

// --------------------------------------------------------------------------------------- collect
fs::path rollout_path(const fs::path& dir, std::int64_t i) {
  return dir / "rollouts" / fmt::format("rollout_{:05d}.ckpt", i);
}

struct Rollout {
  torch::Tensor frames;   // [T + 1, 64, 64, 3] uint8: the observation before each step, and the last
  torch::Tensor actions;  // [T, 3]
  torch::Tensor rewards;  // [T]
  bool terminated = false;
};

Rollout load_rollout(const fs::path& path) {
  core::CheckpointReader r(path);
  if (!r.has("kind") || r.get_string("kind") != "dojo-worldmodel-rollout")
    throw Error("'" + path.string() +
                "' is not a world-model rollout: expected a file the collect stage wrote");
  Rollout out;
  out.frames = r.get_tensor("frames");
  out.actions = r.get_tensor("actions");
  out.rewards = r.get_tensor("rewards");
  out.terminated = r.get_int("terminated") != 0;
  if (out.frames.scalar_type() != torch::kUInt8 || out.frames.dim() != 4 ||
      out.frames.size(0) != out.actions.size(0) + 1 || out.rewards.size(0) != out.actions.size(0))
    throw Error("'" + path.string() + "' is corrupt: frames, actions and rewards do not line up");
  return out;
}

// The random policy: each control follows Brownian motion (steps of √dt·N(0, 1), dt = 1/50, one
// frame), clipped to its range, then mapped as C's outputs are (car_controls). The car wanders on
// and off the road at changing speeds, so V and M see the states a controller will meet.
class BrownianPolicy {
 public:
  explicit BrownianPolicy(std::uint64_t seed) : rng_(seed) {}
  torch::Tensor act() {
    std::normal_distribution<float> normal(0.0f, std::sqrt(1.0f / 50));
    for (auto& v : w_) v = std::clamp(v + normal(rng_), -1.0f, 1.0f);
    return car_controls(torch::tensor({w_[0], w_[1], w_[2]}).view({1, 3}))[0];
  }

 private:
  std::mt19937_64 rng_;
  std::array<float, 3> w_{0.0f, 0.0f, -1.0f};  // straight, half gas, no brake
};

void check_env(const std::string& id) {
  const auto env = envs::make(id);
  const auto* box = std::get_if<envs::Box>(&env->action_space());
  const auto* obs = std::get_if<envs::Box>(&env->observation_space());
  if (!box || box->numel() != 3 || !obs || obs->shape != std::vector<std::int64_t>{96, 96, 3})
    throw Error("worldmodel: env '" + id + "' has actions " + envs::to_string(env->action_space()) +
                " and observations " + envs::to_string(env->observation_space()) +
                ": expected CarRacing's (steer, gas, brake) Box and 96 x 96 x 3 frames (CarRacing-v2)");
}

// Collecting resumes rollout by rollout; its minutes so far are kept beside them.
double collect(const fs::path& dir, const WorldModelOptions& o) {
  fs::create_directories(dir / "rollouts");
  const auto clock_file = dir / "checkpoints" / "collect-seconds.txt";
  const double base = fs::exists(clock_file) ? std::stod(core::read_text(clock_file)) : 0.0;
  std::mutex clock_mutex;
  std::vector<std::int64_t> missing;
  for (std::int64_t i = 0; i < o.rollouts(); ++i)
    if (!fs::exists(rollout_path(dir, i))) missing.push_back(i);
  spdlog::info("collect: {} random rollouts to go of {}", missing.size(), o.rollouts());
  std::atomic<std::int64_t> steps{0}, done{0};
  const auto start = Clock::now();
  parallel_blocks(static_cast<std::int64_t>(missing.size()), thread_count(o), [&](std::int64_t k) {
    const auto i = missing[static_cast<std::size_t>(k)];
    auto env = envs::make(o.env());
    BrownianPolicy policy(core::derive_seed(static_cast<std::uint64_t>(o.seed()), "collect-policy", i));
    auto obs = env->reset(core::derive_seed(static_cast<std::uint64_t>(o.seed()), "collect-track", i)).obs;
    std::vector<torch::Tensor> frames{world_model_frame(obs)}, actions;
    std::vector<float> rewards;
    bool terminated = false;
    for (std::int64_t t = 0; t < o.max_steps(); ++t) {
      const auto a = policy.act();
      const auto r = env->step(a);
      frames.push_back(world_model_frame(r.obs));
      actions.push_back(a);
      rewards.push_back(static_cast<float>(r.reward));
      terminated = r.terminated;
      if (r.done()) break;
    }
    core::CheckpointWriter w;
    w.put("kind", std::string("dojo-worldmodel-rollout"));
    w.put("frames", torch::stack(frames));
    w.put("actions", torch::stack(actions));
    w.put("rewards", torch::tensor(rewards));
    w.put("terminated", static_cast<std::int64_t>(terminated));
    w.save(rollout_path(dir, i));
    steps += static_cast<std::int64_t>(actions.size());
    {
      const std::lock_guard lock(clock_mutex);
      core::atomic_write_text(clock_file, fmt::format("{}\n", base + seconds_since(start)));
    }
    if (++done % 20 == 0)
      spdlog::info("collect: {} rollouts, {} steps, {:.0f} steps/s", done.load(), steps.load(),
                   static_cast<double>(steps) / seconds_since(start));
  });
  return base + seconds_since(start);
}

// All frames of these rollouts, one tensor [F, 64, 64, 3].
torch::Tensor load_frames(const fs::path& dir, const std::vector<std::int64_t>& rollouts) {
  std::vector<torch::Tensor> parts;
  for (const auto i : rollouts) parts.push_back(load_rollout(rollout_path(dir, i)).frames);
  return parts.empty() ? torch::empty({0, 64, 64, 3}, torch::kUInt8) : torch::cat(parts);
}

// --------------------------------------------------------------------------------------- V
ConvVae load_vae(const fs::path& dir) {
  core::CheckpointReader r(dir / "vae.ckpt");
  if (!r.has("kind") || r.get_string("kind") != "dojo-worldmodel-vae")
    throw Error("'" + (dir / "vae.ckpt").string() + "' is not a world-model VAE checkpoint");
  ConvVae vae(r.get_int("z_size"));
  r.get("model", *vae);
  vae->use_channels_last();
  vae->eval();
  return vae;
}

// Held-out losses on up to 2,000 frames (one draw of z each, from a fixed generator state).
std::pair<double, double> vae_validation(ConvVae& vae, const torch::Tensor& val, double kl_floor) {
  if (val.size(0) == 0) return {std::nan(""), std::nan("")};
  torch::NoGradGuard no_grad;
  vae->eval();
  const auto n = std::min<std::int64_t>(val.size(0), 2000);
  const auto stride = std::max<std::int64_t>(1, val.size(0) / n);
  const auto frames = val.slice(0, 0, n * stride, stride);
  double rec = 0, kl = 0;
  for (std::int64_t b = 0; b < frames.size(0); b += 250) {
    const auto batch = frames.slice(0, b, std::min(b + 250, frames.size(0)));
    const auto l = vae->losses(batch, kl_floor);
    rec += l.reconstruction.item<double>() * static_cast<double>(batch.size(0));
    kl += l.kl.item<double>() * static_cast<double>(batch.size(0));
  }
  vae->train();
  const auto count = static_cast<double>(frames.size(0));
  return {rec / count, kl / count};
}

void vae_stage(const fs::path& dir, const WorldModelOptions& o, double& seconds) {
  std::vector<std::int64_t> train_ids;
  const auto val_ids = holdout_split(o, train_ids);
  const auto train = load_frames(dir, train_ids);
  const auto val = load_frames(dir, val_ids);
  spdlog::info("vae: {} training frames, {} held out", train.size(0), val.size(0));
  ConvVae vae(o.z_size());
  torch::optim::Adam optimizer(vae->parameters(), torch::optim::AdamOptions(o.vae_learning_rate()));
  std::int64_t epoch = 0, batch = 0, images = 0;
  const auto last = dir / "checkpoints" / "vae-last.ckpt";
  const auto parts = [&] {
    core::CheckpointParts p;
    p.add("model", *vae)
        .add("optimizer", optimizer)
        .add("epoch", epoch)
        .add("batch", batch)
        .add("images", images);
    return p;
  };
  if (fs::exists(last)) {
    core::CheckpointReader r(last);
    parts().load(r);
    seconds = r.get_double("seconds");
    vae->use_channels_last();
    spdlog::info("vae: resuming at epoch {}, batch {} ({} images)", epoch, batch, images);
  }
  core::truncate_csv(dir / "vae.csv", static_cast<double>(images));
  core::CsvWriter log(dir / "vae.csv",
                      {"images", "epoch", "loss", "reconstruction", "kl", "val_reconstruction", "val_kl"},
                      true);
  const auto save = [&] {
    core::CheckpointWriter w;
    parts().save(w);
    w.put("seconds", seconds);
    w.save(last);
  };
  const auto b = o.vae_batch_size();
  const auto batches = (train.size(0) + b - 1) / b;
  const auto log_every = std::max<std::int64_t>(1, batches / 10);
  auto start = Clock::now();
  auto last_save = Clock::now();
  double base = seconds;
  double loss_sum = 0, rec_sum = 0, kl_sum = 0;
  std::int64_t logged = 0;
  vae->train();
  for (; epoch < o.vae_epochs(); ++epoch, batch = 0) {
    // The epoch's order depends only on the seed and the epoch: a resumed epoch continues it.
    auto gen = at::make_generator<at::CPUGeneratorImpl>(core::derive_seed(
        static_cast<std::uint64_t>(o.seed()), "vae-epoch", static_cast<std::uint64_t>(epoch)));
    const auto order = torch::randperm(train.size(0), gen, torch::kLong);
    for (; batch < batches; ++batch) {
      const auto idx = order.slice(0, batch * b, std::min((batch + 1) * b, train.size(0)));
      const auto l = vae->losses(train.index_select(0, idx), o.kl_floor());
      optimizer.zero_grad();
      l.total.backward();
      optimizer.step();
      images += idx.size(0);
      loss_sum += l.total.item<double>(), rec_sum += l.reconstruction.item<double>(),
          kl_sum += l.kl.item<double>();
      ++logged;
      seconds = base + seconds_since(start);
      if ((batch + 1) % log_every == 0 || batch + 1 == batches) {
        const auto [vr, vk] = vae_validation(vae, val, o.kl_floor());
        const auto n = static_cast<double>(logged);
        log.row({static_cast<double>(images),
                 static_cast<double>(epoch) + static_cast<double>(batch + 1) / batches, loss_sum / n,
                 rec_sum / n, kl_sum / n, vr, vk});
        spdlog::info(
            "vae: epoch {} batch {}/{}: loss {:.1f} (reconstruction {:.1f}, KL {:.1f}); held out {:.1f} / "
            "{:.1f}",
            epoch + 1, batch + 1, batches, loss_sum / n, rec_sum / n, kl_sum / n, vr, vk);
        loss_sum = rec_sum = kl_sum = 0, logged = 0;
      }
      if (seconds_since(last_save) > 60 * o.checkpoint_minutes()) {
        ++batch;
        save();
        --batch;
        last_save = Clock::now();
      }
    }
  }
  save();
  vae->eval();
  core::CheckpointWriter w;
  w.put("kind", std::string("dojo-worldmodel-vae"));
  w.put("z_size", o.z_size());
  w.put("model", *vae);
  w.save(dir / "vae.ckpt");

  // Held-out frames above their reconstructions (from q's mean).
  const auto& show = val.size(0) > 0 ? val : train;
  const auto pick = torch::linspace(0, static_cast<double>(show.size(0) - 1), 8).to(torch::kLong);
  const auto frames = show.index_select(0, pick);
  const auto recon = vae->decode(vae->encode(frames).first);
  core::save_image_grid(dir / "reconstructions.png", torch::cat({frames, recon}).to(torch::kFloat32) / 255, 8,
                        3);
  const auto table = core::read_csv(dir / "vae.csv");
  core::stacked_plot(
      dir / "vae_curve.png",
      {{{{"training", table.column("images"), table.column("reconstruction")},
         {"held out", table.column("images"), table.column("val_reconstruction"), {0.85, 0.3, 0.2}}},
        {"V: reconstruction (summed squared error per frame)", "frames seen", "error"}},
       {{{"training", table.column("images"), table.column("kl")},
         {"held out", table.column("images"), table.column("val_kl"), {0.85, 0.3, 0.2}}},
        {"V: KL to N(0, I) per frame (floor " + fmt::format("{:g}", o.kl_floor()) + " nats)", "frames seen",
         "nats"}}});
}

// --------------------------------------------------------------------------------------- encode
struct Latents {
  std::vector<torch::Tensor> mu, sigma, actions, rewards;  // per rollout: [T+1, z] ×2, [T, 3], [T]
  std::vector<bool> terminated;
};

void encode_stage(const fs::path& dir, const WorldModelOptions& o) {
  auto vae = load_vae(dir);
  core::CheckpointWriter w;
  w.put("kind", std::string("dojo-worldmodel-latents"));
  w.put("rollouts", o.rollouts());
  for (std::int64_t i = 0; i < o.rollouts(); ++i) {
    const auto r = load_rollout(rollout_path(dir, i));
    std::vector<torch::Tensor> mu, sigma;
    for (std::int64_t b = 0; b < r.frames.size(0); b += 256) {
      auto [m, s] = vae->encode(r.frames.slice(0, b, std::min(b + 256, r.frames.size(0))));
      mu.push_back(m), sigma.push_back(s);
    }
    const auto key = fmt::format("r{}_", i);
    w.put(key + "mu", torch::cat(mu));
    w.put(key + "sigma", torch::cat(sigma));
    w.put(key + "actions", r.actions);
    w.put(key + "rewards", r.rewards);
    w.put(key + "terminated", static_cast<std::int64_t>(r.terminated));
    if ((i + 1) % 50 == 0) spdlog::info("encode: {} of {} rollouts", i + 1, o.rollouts());
  }
  w.save(dir / "latents.ckpt");
}

Latents load_latents(const fs::path& dir) {
  core::CheckpointReader r(dir / "latents.ckpt");
  if (!r.has("kind") || r.get_string("kind") != "dojo-worldmodel-latents")
    throw Error("'" + (dir / "latents.ckpt").string() + "' is not a world-model latents file");
  Latents l;
  for (std::int64_t i = 0; i < r.get_int("rollouts"); ++i) {
    const auto key = fmt::format("r{}_", i);
    l.mu.push_back(r.get_tensor(key + "mu"));
    l.sigma.push_back(r.get_tensor(key + "sigma"));
    l.actions.push_back(r.get_tensor(key + "actions"));
    l.rewards.push_back(r.get_tensor(key + "rewards"));
    l.terminated.push_back(r.get_int(key + "terminated") != 0);
  }
  return l;
}

// --------------------------------------------------------------------------------------- M
MdnRnnOptions mdn_options(const WorldModelOptions& o) { return {o.z_size(), 3, o.hidden(), o.mixtures()}; }

MdnRnn load_mdn(const fs::path& dir, const WorldModelOptions& o) {
  core::CheckpointReader r(dir / "mdn.ckpt");
  if (!r.has("kind") || r.get_string("kind") != "dojo-worldmodel-mdn")
    throw Error("'" + (dir / "mdn.ckpt").string() + "' is not a world-model MDN-RNN checkpoint");
  MdnRnn mdn(mdn_options(o));
  r.get("model", *mdn);
  mdn->eval();
  return mdn;
}

// Sequences of `length` steps cut from rollouts (z drawn from q(z|x) with `gen`), padded with a mask.
struct SequenceBatch {
  torch::Tensor z, a, z_next, reward, done, mask;
};

std::vector<SequenceBatch> make_sequences(const Latents& l, const std::vector<std::int64_t>& ids,
                                          std::int64_t length, std::int64_t batch_size, at::Generator& gen,
                                          bool shuffle) {
  struct Cut {
    std::int64_t rollout, start, len;
  };
  std::vector<Cut> cuts;
  std::vector<torch::Tensor> z;  // per rollout, drawn once for the epoch
  for (const auto i : ids) {
    const auto& mu = l.mu[static_cast<std::size_t>(i)];
    z.push_back(mu + l.sigma[static_cast<std::size_t>(i)] * at::randn(mu.sizes(), gen, mu.options()));
  }
  for (std::size_t k = 0; k < ids.size(); ++k) {
    const auto steps = l.actions[static_cast<std::size_t>(ids[k])].size(0);
    // A random phase, so that cut points move from epoch to epoch.
    const auto phase = shuffle ? at::randint(length, {1}, gen, torch::kLong).item<std::int64_t>() : 0;
    for (std::int64_t s = phase - length; s < steps; s += length) {
      const auto from = std::max<std::int64_t>(0, s), to = std::min(s + length, steps);
      if (to - from >= 2) cuts.push_back({static_cast<std::int64_t>(k), from, to - from});
    }
  }
  if (shuffle) {
    const auto perm = torch::randperm(static_cast<std::int64_t>(cuts.size()), gen, torch::kLong);
    std::vector<Cut> shuffled;
    for (std::int64_t i = 0; i < perm.size(0); ++i)
      shuffled.push_back(cuts[static_cast<std::size_t>(perm[i].item<std::int64_t>())]);
    cuts = std::move(shuffled);
  }
  std::vector<SequenceBatch> out;
  const auto zs = l.mu.front().size(1);
  for (std::size_t b = 0; b < cuts.size(); b += static_cast<std::size_t>(batch_size)) {
    const auto n = static_cast<std::int64_t>(std::min(cuts.size() - b, static_cast<std::size_t>(batch_size)));
    SequenceBatch s{torch::zeros({n, length, zs}), torch::zeros({n, length, 3}),
                    torch::zeros({n, length, zs}), torch::zeros({n, length}),
                    torch::zeros({n, length}),     torch::zeros({n, length})};
    for (std::int64_t j = 0; j < n; ++j) {
      const auto& c = cuts[b + static_cast<std::size_t>(j)];
      const auto id = static_cast<std::size_t>(ids[static_cast<std::size_t>(c.rollout)]);
      const auto& zr = z[static_cast<std::size_t>(c.rollout)];
      s.z[j].narrow(0, 0, c.len).copy_(zr.narrow(0, c.start, c.len));
      s.z_next[j].narrow(0, 0, c.len).copy_(zr.narrow(0, c.start + 1, c.len));
      s.a[j].narrow(0, 0, c.len).copy_(l.actions[id].narrow(0, c.start, c.len));
      s.reward[j].narrow(0, 0, c.len).copy_(l.rewards[id].narrow(0, c.start, c.len));
      s.mask[j].narrow(0, 0, c.len).fill_(1);
      const auto steps = l.actions[id].size(0);
      if (l.terminated[id] && c.start + c.len == steps) s.done[j][c.len - 1].fill_(1);
    }
    out.push_back(std::move(s));
  }
  return out;
}

struct MdnLosses {
  torch::Tensor nll, reward, done;
  torch::Tensor total() const { return nll + reward + done; }
};

MdnLosses mdn_losses(MdnRnn& mdn, const SequenceBatch& s) {
  const auto out = mdn->forward(s.z, s.a);
  const auto count = s.mask.sum().clamp_min(1);
  MdnLosses l;
  l.nll = mdn->latent_nll(out, s.z_next, s.mask);
  l.reward = ((out.reward - s.reward).square() * s.mask).sum() / count;
  l.done =
      (torch::binary_cross_entropy_with_logits(out.done_logit, s.done, {}, {}, at::Reduction::None) * s.mask)
          .sum() /
      count;
  return l;
}

// Mean losses over sequences, without gradients.
std::array<double, 3> mdn_evaluate(MdnRnn& mdn, const std::vector<SequenceBatch>& batches) {
  torch::NoGradGuard no_grad;
  mdn->eval();
  std::array<double, 3> sum{0, 0, 0};
  double weight = 0;
  for (const auto& s : batches) {
    const auto l = mdn_losses(mdn, s);
    const auto w = s.mask.sum().item<double>();
    sum[0] += l.nll.item<double>() * w, sum[1] += l.reward.item<double>() * w,
        sum[2] += l.done.item<double>() * w;
    weight += w;
  }
  mdn->train();
  for (auto& v : sum) v /= std::max(weight, 1.0);
  return sum;
}

// The baseline M must beat: z_{t+1} ~ N(z_t, s²) per dimension, s fitted to the training steps.
double copy_baseline_nll(const std::vector<SequenceBatch>& train, const std::vector<SequenceBatch>& val) {
  torch::Tensor sq, count;
  for (const auto& s : train) {
    const auto d = ((s.z_next - s.z).square() * s.mask.unsqueeze(-1)).sum(std::vector<std::int64_t>{0, 1});
    sq = sq.defined() ? sq + d : d;
    count = count.defined() ? count + s.mask.sum() : s.mask.sum();
  }
  const auto var = sq / count;
  double nll = 0, n = 0;
  for (const auto& s : val) {
    const auto d = (s.z_next - s.z).square();
    const auto per = 0.5 * torch::log(2 * std::numbers::pi * var) + d / (2 * var);  // [N, T, z]
    nll += (per * s.mask.unsqueeze(-1)).sum().item<double>();
    n += s.mask.sum().item<double>() * static_cast<double>(var.size(0));
  }
  return nll / std::max(n, 1.0);
}

// Dreams start from the latent of a real frame this many steps into a rollout: CarRacing's view
// zooms in over the first second (50 frames), and those wide views are rare in the data, so V
// reconstructs them poorly and M cannot dream on from them.
constexpr std::int64_t kDreamStart = 50;

// (Halfway through a rollout shorter than twice that.)
std::int64_t dream_start(const torch::Tensor& mu) {
  return std::min<std::int64_t>(kDreamStart, (mu.size(0) - 1) / 2);
}

void dream_picture(const fs::path& png, ConvVae& vae, MdnRnn& mdn, const Latents& l, std::int64_t id,
                   const fs::path& dir) {
  // 64 steps of a held-out rollout from its dream start, every 4th: real frames, V's reconstructions,
  // M's one-step predictions (the mixture's mean), and M's dream from the first latent under the same
  // actions (τ 1), all decoded by V.
  torch::NoGradGuard no_grad;
  const auto r = load_rollout(rollout_path(dir, id));
  const auto& all_mu = l.mu[static_cast<std::size_t>(id)];
  const auto first = dream_start(all_mu);
  const auto mu = all_mu.narrow(0, first, all_mu.size(0) - first);
  const auto actions = l.actions[static_cast<std::size_t>(id)].narrow(0, first, all_mu.size(0) - 1 - first);
  const auto steps = std::min<std::int64_t>(64, actions.size(0));
  const auto out =
      mdn->forward(mu.narrow(0, 0, steps).unsqueeze(0), actions.narrow(0, 0, steps).unsqueeze(0));
  const auto d = mdn->next_latent(out, 1.0);
  const auto predicted = d->mean_from(d->params({})).squeeze(-1)[0];  // [steps, z]: z_{t+1}
  std::vector<torch::Tensor> dream{mu[0]};
  auto z = mu[0].unsqueeze(0);
  auto state = mdn->initial_state(1);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(0);
  for (std::int64_t t = 0; t < steps; ++t) {
    const auto o = mdn->step(z, actions[t].unsqueeze(0), state);
    z = mdn->sample_latent(o, 1.0, gen);
    state = o.state;
    dream.push_back(z[0]);
  }
  const auto cols = torch::arange(0, std::max<std::int64_t>(steps, 1), 4, torch::kLong);
  const auto real = r.frames.narrow(0, first, r.frames.size(0) - first).index_select(0, cols);
  const auto recon = vae->decode(mu.index_select(0, cols));
  // Predictions of frame t come from step t − 1; the first has none, so V's reconstruction stands in.
  auto pred_z = predicted.index_select(0, (cols - 1).clamp_min(0));
  pred_z[0].copy_(mu[0]);
  const auto pred = vae->decode(pred_z);
  const auto dreamed = vae->decode(torch::stack(dream).index_select(0, cols));
  core::save_image_grid(png, torch::cat({real, recon, pred, dreamed}).to(torch::kFloat32) / 255, cols.size(0),
                        2);
}

void mdn_stage(const fs::path& dir, const WorldModelOptions& o, double& seconds) {
  const auto latents = load_latents(dir);
  std::vector<std::int64_t> train_ids;
  auto val_ids = holdout_split(o, train_ids);
  MdnRnn mdn(mdn_options(o));
  torch::optim::Adam optimizer(mdn->parameters(), torch::optim::AdamOptions(o.mdn_learning_rate()));
  std::int64_t epoch = 0;
  const auto last = dir / "checkpoints" / "mdn-last.ckpt";
  const auto parts = [&] {
    core::CheckpointParts p;
    p.add("model", *mdn).add("optimizer", optimizer).add("epoch", epoch);
    return p;
  };
  if (fs::exists(last)) {
    core::CheckpointReader r(last);
    parts().load(r);
    seconds = r.get_double("seconds");
    spdlog::info("mdn: resuming at epoch {}", epoch);
  }
  // Validation sequences and the baseline are fixed: z drawn once from a fixed generator.
  auto val_gen = at::make_generator<at::CPUGeneratorImpl>(
      core::derive_seed(static_cast<std::uint64_t>(o.seed()), "mdn-val"));
  const auto& eval_ids = val_ids.empty() ? train_ids : val_ids;
  const auto val = make_sequences(latents, eval_ids, o.sequence_length(), 64, val_gen, false);
  const auto baseline_train = make_sequences(latents, train_ids, o.sequence_length(), 64, val_gen, false);
  const double copy_nll = copy_baseline_nll(baseline_train, val);
  core::truncate_csv(dir / "mdn.csv", static_cast<double>(epoch));
  core::CsvWriter log(
      dir / "mdn.csv",
      {"epoch", "nll", "reward_mse", "done_bce", "val_nll", "val_reward_mse", "val_done_bce", "copy_nll"},
      true);
  const auto start = Clock::now();
  const double base = seconds;
  mdn->train();
  for (; epoch < o.mdn_epochs(); ++epoch) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(core::derive_seed(
        static_cast<std::uint64_t>(o.seed()), "mdn-epoch", static_cast<std::uint64_t>(epoch)));
    const auto batches =
        make_sequences(latents, train_ids, o.sequence_length(), o.mdn_batch_size(), gen, true);
    std::array<double, 3> sum{0, 0, 0};
    for (const auto& s : batches) {
      const auto l = mdn_losses(mdn, s);
      optimizer.zero_grad();
      l.total().backward();
      if (o.grad_clip() > 0) torch::nn::utils::clip_grad_norm_(mdn->parameters(), o.grad_clip());
      optimizer.step();
      sum[0] += l.nll.item<double>(), sum[1] += l.reward.item<double>(), sum[2] += l.done.item<double>();
    }
    const auto n = static_cast<double>(std::max<std::size_t>(1, batches.size()));
    const auto v = mdn_evaluate(mdn, val);
    log.row({static_cast<double>(epoch + 1), sum[0] / n, sum[1] / n, sum[2] / n, v[0], v[1], v[2], copy_nll});
    spdlog::info(
        "mdn: epoch {}: NLL {:.3f} per dimension (held out {:.3f}; z' = z baseline {:.3f}), reward MSE "
        "{:.3f}, end BCE {:.4f}",
        epoch + 1, sum[0] / n, v[0], copy_nll, sum[1] / n, sum[2] / n);
    seconds = base + seconds_since(start);
    ++epoch;
    core::CheckpointWriter w;
    parts().save(w);
    w.put("seconds", seconds);
    w.save(last);
    --epoch;
  }
  mdn->eval();
  core::CheckpointWriter w;
  w.put("kind", std::string("dojo-worldmodel-mdn"));
  w.put("model", *mdn);
  w.save(dir / "mdn.ckpt");
  auto vae = load_vae(dir);
  // The held-out rollout that visited most tiles: the one with the most road to see.
  const auto shown = *std::max_element(eval_ids.begin(), eval_ids.end(), [&](auto a, auto b) {
    return latents.rewards[static_cast<std::size_t>(a)].sum().item<double>() <
           latents.rewards[static_cast<std::size_t>(b)].sum().item<double>();
  });
  dream_picture(dir / "dream.png", vae, mdn, latents, shown, dir);
  const auto table = core::read_csv(dir / "mdn.csv");
  core::line_plot(
      dir / "mdn_curve.png",
      {{"training", table.column("epoch"), table.column("nll")},
       {"held out", table.column("epoch"), table.column("val_nll"), {0.85, 0.3, 0.2}},
       {"z' = z baseline (held out)", table.column("epoch"), table.column("copy_nll"), {0.5, 0.5, 0.5}}},
      {"M: next-latent negative log-likelihood per dimension", "epoch", "nats"});
}

// --------------------------------------------------------------------------------------- C
struct Episodes {
  std::vector<double> returns;
  std::vector<std::int64_t> lengths;
};

std::int64_t controller_features(const WorldModelOptions& o) {
  return o.z_size() + (o.controller() == "zh" ? o.hidden() : 0);
}

// Each of the P controllers on each of the R tracks, all P·R episodes in lockstep so that V, C and M
// run once per step on the whole batch; envs step on threads. Episode k is controller k / R on
// track seeds[k % R]. `frames` (when given) gets every episode's observations (what C sees, before
// the crop; the 600 × 400 render of 1,000 steps would hold 720 MB).
Episodes real_episodes(ConvVae& vae, MdnRnn& mdn, const WorldModelOptions& o, const torch::Tensor& params,
                       const std::vector<std::uint64_t>& seeds, std::int64_t stall_steps = 0,
                       std::vector<std::vector<torch::Tensor>>* frames = nullptr) {
  torch::NoGradGuard no_grad;
  const auto R = static_cast<std::int64_t>(seeds.size());
  const auto N = params.size(0) * R;
  const bool use_h = o.controller() == "zh";
  std::vector<std::unique_ptr<envs::Env>> envs(static_cast<std::size_t>(N));
  auto obs = torch::empty({N, 96, 96, 3}, torch::kUInt8);
  std::vector<double> rewards(static_cast<std::size_t>(N));
  std::vector<std::uint8_t> done(static_cast<std::size_t>(N));
  std::vector<std::int64_t> since_reward(static_cast<std::size_t>(N));
  Episodes ep{std::vector<double>(static_cast<std::size_t>(N)),
              std::vector<std::int64_t>(static_cast<std::size_t>(N))};
  if (frames) frames->assign(static_cast<std::size_t>(N), {});
  const auto threads = thread_count(o);
  for (auto& env : envs) env = envs::make(o.env());
  parallel_blocks(N, threads, [&](std::int64_t i) {
    obs[i].copy_(envs[static_cast<std::size_t>(i)]->reset(seeds[static_cast<std::size_t>(i % R)]).obs);
    if (frames) (*frames)[static_cast<std::size_t>(i)].push_back(obs[i].clone());
  });
  const auto candidate = torch::arange(N, torch::kLong).div(R, "floor");
  auto state = mdn->initial_state(N);
  auto hidden = torch::zeros({N, o.hidden()});
  std::vector<std::int64_t> active(static_cast<std::size_t>(N));
  std::iota(active.begin(), active.end(), 0);
  for (std::int64_t t = 0; t < o.max_steps() && !active.empty(); ++t) {
    const auto idx = torch::tensor(active, torch::kLong);
    const auto z = vae->encode(world_model_frame(obs.index_select(0, idx))).first;
    const auto features = use_h ? torch::cat({z, hidden.index_select(0, idx)}, 1) : z;
    const auto action =
        car_controls(controller_output(params.index_select(0, candidate.index_select(0, idx)), features, 3));
    parallel_blocks(static_cast<std::int64_t>(active.size()), threads, [&](std::int64_t k) {
      const auto i = active[static_cast<std::size_t>(k)];
      auto& env = *envs[static_cast<std::size_t>(i)];
      const auto r = env.step(action[k]);
      obs[i].copy_(r.obs);
      const auto e = static_cast<std::size_t>(i);
      ep.returns[e] += r.reward;
      ++ep.lengths[e];
      done[e] = r.done();
      since_reward[e] = r.reward > 0 ? 0 : since_reward[e] + 1;
      if (stall_steps > 0 && since_reward[e] >= stall_steps && !r.done()) {
        ep.returns[e] += r.reward * static_cast<double>(o.max_steps() - ep.lengths[e]);
        done[e] = 1;
      }
      if (frames) (*frames)[static_cast<std::size_t>(i)].push_back(r.obs.clone());
    });
    if (use_h) {
      const MdnRnnImpl::State s{std::get<0>(state).index_select(1, idx),
                                std::get<1>(state).index_select(1, idx)};
      const auto out = mdn->step(z, action, s);
      hidden.index_copy_(0, idx, out.hidden);
      std::get<0>(state).index_copy_(1, idx, std::get<0>(out.state));
      std::get<1>(state).index_copy_(1, idx, std::get<1>(out.state));
    }
    std::erase_if(active, [&](std::int64_t i) { return done[static_cast<std::size_t>(i)] != 0; });
  }
  return ep;
}

// The same inside M's dream: episode k starts from start latent seeds[k % R] (an index into
// `starts`), draws z_{t+1} at the run's temperature, and ends when M's end head says so or at max_steps.
Episodes dream_episodes(MdnRnn& mdn, const WorldModelOptions& o, const torch::Tensor& starts,
                        const torch::Tensor& params, const std::vector<std::uint64_t>& seeds,
                        std::uint64_t noise_seed) {
  torch::NoGradGuard no_grad;
  const auto R = static_cast<std::int64_t>(seeds.size());
  const auto N = params.size(0) * R;
  const bool use_h = o.controller() == "zh";
  auto gen = at::make_generator<at::CPUGeneratorImpl>(noise_seed);
  std::vector<std::int64_t> start(static_cast<std::size_t>(N));
  for (std::int64_t i = 0; i < N; ++i)
    start[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(
        seeds[static_cast<std::size_t>(i % R)] % static_cast<std::uint64_t>(starts.size(0)));
  auto z = starts.index_select(0, torch::tensor(start, torch::kLong));
  auto state = mdn->initial_state(N);
  auto hidden = torch::zeros({N, o.hidden()});
  const auto candidate = torch::arange(N, torch::kLong).div(R, "floor");
  auto returns = torch::zeros({N}, torch::kDouble);
  auto lengths = torch::zeros({N}, torch::kLong);
  auto alive = torch::ones({N}, torch::kBool);
  for (std::int64_t t = 0; t < o.max_steps() && alive.any().item<bool>(); ++t) {
    const auto features = use_h ? torch::cat({z, hidden}, 1) : z;
    const auto action = car_controls(controller_output(params.index_select(0, candidate), features, 3));
    const auto out = mdn->step(z, action, state);
    returns += torch::where(alive, out.reward.to(torch::kDouble), torch::zeros_like(returns));
    lengths += alive.to(torch::kLong);
    alive = alive & (out.done_logit <= 0);
    z = mdn->sample_latent(out, o.temperature(), gen);
    hidden = out.hidden;
    state = out.state;
  }
  Episodes ep;
  ep.returns.assign(returns.data_ptr<double>(), returns.data_ptr<double>() + N);
  ep.lengths.assign(lengths.data_ptr<std::int64_t>(), lengths.data_ptr<std::int64_t>() + N);
  return ep;
}

std::vector<std::uint64_t> track_seeds(const WorldModelOptions& o, const std::string& stream,
                                       std::uint64_t first, std::int64_t count) {
  std::vector<std::uint64_t> seeds;
  for (std::int64_t i = 0; i < count; ++i)
    seeds.push_back(core::derive_seed(static_cast<std::uint64_t>(o.seed()), stream,
                                      first + static_cast<std::uint64_t>(i)));
  return seeds;
}

torch::Tensor start_latents(const fs::path& dir) {
  const auto l = load_latents(dir);
  std::vector<torch::Tensor> firsts;
  for (const auto& mu : l.mu) firsts.push_back(mu[dream_start(mu)]);
  return torch::stack(firsts);
}

void save_controller(const fs::path& path, const WorldModelOptions& o, const std::vector<double>& params,
                     double score, std::int64_t generation) {
  core::CheckpointWriter w;
  w.put("kind", std::string("dojo-worldmodel-controller"));
  w.put("controller", o.controller());
  w.put("params", torch::tensor(params, torch::kDouble));
  w.put("score", score);
  w.put("generation", generation);
  w.save(path);
}

double controller_stage(const fs::path& dir, const WorldModelOptions& o, double& seconds,
                        std::int64_t& generations) {
  const auto cdir = dir / world_model_controller_dir(o);
  fs::create_directories(cdir);
  core::Config own;
  for (const auto& key : world_model_controller_keys()) {
    const auto all = [&] {
      core::Config c;
      core::write_options(o, c);
      return c;
    }();
    own.set(key, YAML::Load(all.text(key)));
  }
  core::atomic_write_text(cdir / "config.yaml", own.dump());
  auto vae = load_vae(dir);
  auto mdn = load_mdn(dir, o);
  const auto starts = o.dream() ? start_latents(dir) : torch::Tensor();
  const auto n = controller_parameters(controller_features(o), 3);
  CmaEs es(std::vector<double>(static_cast<std::size_t>(n), 0.0), o.sigma0(),
           {.population = static_cast<int>(o.population()),
            .seed = core::derive_seed(static_cast<std::uint64_t>(o.seed()), "cma-es")});
  double best_eval = -std::numeric_limits<double>::infinity();
  if (fs::exists(cdir / "cmaes.ckpt")) {
    core::CheckpointReader r(cdir / "cmaes.ckpt");
    es.load(r, "es_");
    seconds = r.get_double("seconds");
    best_eval = r.get_double("best_eval");
    spdlog::info("controller: resuming {} at generation {}", cdir.filename().string(), es.generation());
  }
  spdlog::info(
      "controller: {} parameters, population {}, {} rollouts each, {}", n, es.population(),
      o.rollouts_per_candidate(),
      o.dream() ? fmt::format("in the dream at temperature {:g}", o.temperature()) : "in the real env");
  core::truncate_csv(cdir / "cmaes.csv", es.generation());
  core::CsvWriter log(cdir / "cmaes.csv",
                      {"generation", "evaluations", "best", "mean", "worst", "sigma", "eval", "minutes"},
                      true);
  const auto episodes = [&](const torch::Tensor& params, const std::vector<std::uint64_t>& seeds,
                            std::uint64_t noise, bool training) {
    return o.dream() ? dream_episodes(mdn, o, starts, params, seeds, noise)
                     : real_episodes(vae, mdn, o, params, seeds, training ? o.stall_steps() : 0);
  };
  const auto eval_seeds =
      track_seeds(o, o.dream() ? "controller-eval-dream" : "controller-eval", 0, o.eval_rollouts());
  const auto start = Clock::now();
  const double base = seconds;
  double last_generation = 0;
  while (es.generation() < o.generations()) {
    if (o.controller_minutes() > 0 && seconds + last_generation > 60 * o.controller_minutes()) break;
    const auto g0 = Clock::now();
    const auto g = static_cast<std::uint64_t>(es.generation());
    const auto& candidates = es.ask();
    auto params = torch::empty({es.population(), n}, torch::kDouble);
    for (int k = 0; k < es.population(); ++k)
      params[k].copy_(torch::tensor(candidates[static_cast<std::size_t>(k)], torch::kDouble));
    const auto R = o.rollouts_per_candidate();
    const auto seeds = track_seeds(o, "controller-tracks", g * static_cast<std::uint64_t>(R), R);
    const auto ep = episodes(params.to(torch::kFloat32), seeds,
                             core::derive_seed(static_cast<std::uint64_t>(o.seed()), "dream-noise", g), true);
    std::vector<double> fitness, means;
    for (int k = 0; k < es.population(); ++k) {
      const auto first = ep.returns.begin() + k * R;
      means.push_back(std::accumulate(first, first + R, 0.0) / static_cast<double>(R));
      fitness.push_back(-means.back());  // CMA-ES minimises
    }
    es.tell(fitness);
    const auto [lo, hi] = std::minmax_element(means.begin(), means.end());
    const double avg = std::accumulate(means.begin(), means.end(), 0.0) / static_cast<double>(means.size());
    double eval = std::nan("");
    const bool last = es.generation() >= o.generations();
    if (es.generation() % o.eval_every() == 0 || last) {
      // The search's mean, on fixed tracks (in the env it is evolved in).
      const auto mean = es.mean();
      const auto e =
          episodes(torch::tensor(mean, torch::kDouble).view({1, n}).to(torch::kFloat32), eval_seeds,
                   core::derive_seed(static_cast<std::uint64_t>(o.seed()), "dream-eval-noise"), false);
      eval = mean_std(e.returns).first;
      if (eval > best_eval) {
        best_eval = eval;
        save_controller(cdir / "best.ckpt", o, mean, eval, es.generation());
      }
    }
    last_generation = seconds_since(g0);
    seconds = base + seconds_since(start);
    log.row({static_cast<double>(es.generation()), static_cast<double>(es.evaluations()), *hi, avg, *lo,
             es.sigma(), eval, seconds / 60});
    spdlog::info(
        "controller: generation {}: best {:.1f}, mean {:.1f}, worst {:.1f}, sigma {:.4f}{} ({:.1f} s)",
        es.generation(), *hi, avg, *lo, es.sigma(),
        std::isnan(eval) ? std::string()
                         : fmt::format("; the mean scores {:.1f} on {} eval tracks", eval, o.eval_rollouts()),
        last_generation);
    core::CheckpointWriter w;
    es.save(w, "es_");
    w.put("seconds", seconds);
    w.put("best_eval", best_eval);
    w.save(cdir / "cmaes.ckpt");
  }
  generations = es.generation();
  const auto table = core::read_csv(cdir / "cmaes.csv");
  std::vector<double> ex, ey;
  for (const auto& row : table.rows)
    if (!std::isnan(row[6])) ex.push_back(row[0]), ey.push_back(row[6]);
  core::line_plot(cdir / "curve.png",
                  {{"best candidate", table.column("generation"), table.column("best"), {0.2, 0.6, 0.3}},
                   {"population mean", table.column("generation"), table.column("mean")},
                   {"CMA-ES mean on eval tracks", ex, ey, {0.85, 0.3, 0.2}, 1.5, true}},
                  {"C: return per generation (" + std::string(o.dream() ? "dream" : "real env") + ")",
                   "generation", "return"});
  return best_eval;
}

// --------------------------------------------------------------------------------------- stages
// `own_controller`: whether the controller stage evolves the run's own controller (its minutes go
// into stages.csv) or another one from --set (they stay in its directory's cmaes.csv).
WorldModelSummary run_stages(const fs::path& dir, const WorldModelOptions& o, const std::string& only,
                             bool own_controller = true) {
  WorldModelSummary s;
  s.run_dir = dir;
  fs::create_directories(dir / "checkpoints");
  for (const auto& stage : world_model_stages()) {
    if (!only.empty() && stage != only) continue;
    // A finished stage runs again only when asked for by name (another controller).
    if (only.empty() && finished(dir, stage)) continue;
    if (!only.empty() && finished(dir, stage) && stage != kController)
      throw Error("stage " + stage + " has finished in '" + dir.string() +
                  "': expected a later stage, or none");
    require_previous(dir, stage);
    double seconds = 0;
    const auto start = Clock::now();
    if (stage == kCollect) {
      seconds = collect(dir, o);
    } else if (stage == kVae) {
      vae_stage(dir, o, seconds);
    } else if (stage == kEncode) {
      encode_stage(dir, o);
      seconds = seconds_since(start);
    } else if (stage == kMdn) {
      mdn_stage(dir, o, seconds);
    } else {
      s.best_eval = controller_stage(dir, o, seconds, s.generations);
      if (!own_controller || finished(dir, stage)) continue;
    }
    record_stage(dir, stage, seconds);
  }
  s.stage_minutes = finished_stages(dir);
  if (fs::exists(dir / "vae.csv")) {
    const auto t = core::read_csv(dir / "vae.csv");
    if (!t.rows.empty())
      s.vae_reconstruction = t.column("val_reconstruction").back(), s.vae_kl = t.column("val_kl").back();
  }
  if (fs::exists(dir / "mdn.csv")) {
    const auto t = core::read_csv(dir / "mdn.csv");
    if (!t.rows.empty()) s.mdn_nll = t.column("val_nll").back(), s.copy_nll = t.column("copy_nll").back();
  }
  nlohmann::json j;
  for (const auto& [stage, minutes] : s.stage_minutes) j["stage_minutes"][stage] = minutes;
  j["vae_val_reconstruction"] = s.vae_reconstruction;
  j["vae_val_kl"] = s.vae_kl;
  j["mdn_val_nll"] = s.mdn_nll;
  j["copy_baseline_nll"] = s.copy_nll;
  core::atomic_write_text(dir / "summary.json", j.dump(2) + "\n");
  return s;
}

void check_stage_name(const std::string& stage) {
  const auto& stages = world_model_stages();
  if (!stage.empty() && std::find(stages.begin(), stages.end(), stage) == stages.end())
    throw Error("stage '" + stage + "': expected one of collect, vae, encode, mdn, controller");
}

}  // namespace

void WorldModelOptions::validate() const {
  core::check_options(*this);
  envs::spec(env_);  // an unknown id is named, with the registered ones
  if (kl_floor_ > 0 && kl_floor_ > 10.0 * static_cast<double>(z_size_))
    throw Error(fmt::format("kl_floor {:g}: expected at most 10 nats per latent dimension ({})", kl_floor_,
                            10 * z_size_));
}

std::vector<std::string> world_model_controller_keys() {
  return {"controller",   "dream",  "temperature", "population",         "rollouts_per_candidate",
          "generations",  "sigma0", "stall_steps", "controller_minutes", "eval_every",
          "eval_rollouts"};
}

const std::vector<std::string>& world_model_stages() {
  static const std::vector<std::string> stages{kCollect, kVae, kEncode, kMdn, kController};
  return stages;
}

std::string world_model_controller_dir(const WorldModelOptions& o) {
  std::string name = "controller";
  if (o.controller() == "z") name += "-z";
  if (o.dream()) name += fmt::format("-dream-t{:.2f}", o.temperature());
  return name;
}

core::Config resolve_world_model_config(const core::Config& config) {
  core::check_keys(config, core::option_keys<WorldModelOptions>());
  auto o = read_world_model_options(config);
  o.validate();
  core::Config out;
  core::write_options(o, out);
  return out;
}

bool is_world_model_run(const fs::path& dir) {
  return fs::exists(dir / "stages.csv") && fs::exists(dir / "config.yaml");
}

WorldModelSummary train_world_model(const core::Config& config, const fs::path& out,
                                    const std::string& stage) {
  check_stage_name(stage);
  const auto resolved = resolve_world_model_config(config);
  const auto o = read_world_model_options(resolved);
  if (!stage.empty() && stage != kCollect)
    throw Error(fmt::format(
        "stage {} needs the artefacts of stage {}: a new run starts with stage collect "
        "(leave --stage out to run every stage)",
        stage, *(std::find(world_model_stages().begin(), world_model_stages().end(), stage) - 1)));
  check_env(o.env());
  const auto dir = core::create_run_dir(out, fmt::format("worldmodel-{}-s{}", o.env(), o.seed()));
  core::atomic_write_text(dir / "config.yaml", resolved.dump());
  core::CsvWriter(dir / "stages.csv", {"stage", "minutes"});
  return run_stages(dir, o, stage);
}

WorldModelSummary resume_world_model(const fs::path& dir, const std::string& stage,
                                     const std::vector<std::string>& controller_overrides) {
  check_stage_name(stage);
  if (!is_world_model_run(dir))
    throw Error("'" + dir.string() +
                "' is not a world-model run: expected a directory with config.yaml and stages.csv");
  auto config = core::Config::load(dir / "config.yaml");
  if (!controller_overrides.empty()) {
    if (stage != kController)
      throw Error("--set with --resume changes the controller only: expected --stage controller");
    const auto keys = world_model_controller_keys();
    core::Config over;
    for (const auto& a : controller_overrides) over.set(a);
    for (const auto& key : over.keys())
      if (std::find(keys.begin(), keys.end(), key) == keys.end())
        throw Error("--set " + key + " with --resume: expected a controller key (" + core::join(keys, ", ") +
                    "); V and M stay the run's");
    config.merge(over);
  }
  // A controller already begun keeps the settings it started with (its own config.yaml); the
  // overrides that name it win.
  const auto cdir =
      dir / world_model_controller_dir(read_world_model_options(resolve_world_model_config(config)));
  if (fs::exists(cdir / "config.yaml")) {
    config.merge(core::Config::load(cdir / "config.yaml"));
    for (const auto& a : controller_overrides) config.set(a);
  }
  const auto o = read_world_model_options(resolve_world_model_config(config));
  const auto own =
      world_model_controller_dir(read_world_model_options(core::Config::load(dir / "config.yaml")));
  return run_stages(dir, o, stage, world_model_controller_dir(o) == own);
}

WorldModelEval evaluate_world_model(const fs::path& dir, std::int64_t episodes, std::uint64_t seed,
                                    const std::string& controller, const std::string& checkpoint,
                                    const fs::path& record) {
  if (!is_world_model_run(dir))
    throw Error("'" + dir.string() +
                "' is not a world-model run: expected a directory with config.yaml and stages.csv");
  if (episodes < 1) throw Error("--episodes " + std::to_string(episodes) + ": expected >= 1");
  auto config = core::Config::load(dir / "config.yaml");
  const auto cdir = dir / (controller.empty() ? std::string(kController) : controller);
  if (!fs::exists(cdir / "config.yaml"))
    throw Error("'" + cdir.string() +
                "' holds no controller: run the controller stage first (dojo train worldmodel --resume " +
                dir.string() + " --stage controller)");
  config.merge(core::Config::load(cdir / "config.yaml"));
  const auto o = read_world_model_options(config);
  std::vector<double> params;
  if (checkpoint == "best") {
    core::CheckpointReader r(cdir / "best.ckpt");
    if (!r.has("kind") || r.get_string("kind") != "dojo-worldmodel-controller")
      throw Error("'" + (cdir / "best.ckpt").string() + "' is not a world-model controller");
    const auto t = r.get_tensor("params").to(torch::kDouble).contiguous();
    params.assign(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
  } else if (checkpoint == "last") {
    core::CheckpointReader r(cdir / "cmaes.ckpt");
    const auto t = r.get_tensor("es_mean").to(torch::kDouble).contiguous();
    params.assign(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
  } else {
    throw Error("--checkpoint '" + checkpoint + "': expected best or last");
  }
  const auto n = controller_parameters(controller_features(o), 3);
  if (static_cast<std::int64_t>(params.size()) != n)
    throw Error(
        fmt::format("'{}' holds {} controller parameters: expected {}", cdir.string(), params.size(), n));
  auto vae = load_vae(dir);
  auto mdn = load_mdn(dir, o);
  std::vector<std::uint64_t> seeds;
  for (std::int64_t i = 0; i < episodes; ++i) seeds.push_back(seed + static_cast<std::uint64_t>(i));
  std::vector<std::vector<torch::Tensor>> frames;
  const auto ep =
      real_episodes(vae, mdn, o, torch::tensor(params, torch::kDouble).view({1, n}).to(torch::kFloat32),
                    seeds, 0, record.empty() ? nullptr : &frames);
  if (!record.empty()) {
    fs::create_directories(record);
    for (std::size_t e = 0; e < frames.size(); ++e)
      core::save_gif(record / fmt::format("episode_{:03d}.gif", e), frames[e], 2);
  }
  WorldModelEval out;
  out.returns = ep.returns;
  std::tie(out.mean, out.std) = mean_std(ep.returns);
  return out;
}

}  // namespace dojo::rl
