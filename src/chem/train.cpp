#include "chem/train.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <mutex>
#include <numeric>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "chem/decode.h"
#include "chem/image.h"
#include "chem/labels.h"
#include "chem/molecule.h"
#include "chem/score.h"
#include "chem/tokens.h"
#include "core/checkpoint.h"
#include "core/csv.h"
#include "core/device.h"
#include "core/distributed.h"
#include "core/error.h"
#include "core/files.h"
#include "core/plot.h"
#include "core/run_dir.h"
#include "core/runtime.h"
#include "core/seed.h"
#include "nn/optim.h"

namespace dojo::chem {

namespace fs = std::filesystem;

void MolTrainOptions::validate() const {
  core::check_options(*this);
  if (data_.empty()) throw Error("data: expected one or more dataset folders (dojo mol make-dataset)");
  for (const auto& d : data_) {
    if (!fs::is_regular_file(fs::path(d) / "train_labels.csv"))
      throw Error("data folder '" + d + "' has no train_labels.csv: expected a folder in the BMS layout");
  }
  if (!validation_.empty() && !fs::is_regular_file(fs::path(validation_) / "train_labels.csv"))
    throw Error("validation folder '" + validation_ + "' has no train_labels.csv");
}

namespace {

// Refuses a checkpoint that is not a captioner's.
void check_captioner(core::CheckpointReader& r) {
  if (!r.has("kind") || r.get_string("kind") != "dojo-mol-captioner")
    throw Error("'" + r.name() +
                "' is not a captioner checkpoint: expected checkpoints/best.ckpt of a dojo mol train run");
}

// The vocabulary a captioner file holds, one token a line, the special four first.
Vocabulary vocabulary_of(core::CheckpointReader& r) {
  std::istringstream tokens(r.get_string("vocab"));
  std::vector<std::string> list;
  for (std::string tok; std::getline(tokens, tok);) list.push_back(tok);
  if (list.size() < 5) throw Error("'" + r.name() + "' has a corrupt vocabulary");
  return Vocabulary(std::vector<std::string>(list.begin() + 4, list.end()));
}

}  // namespace

core::Config resolve_mol_config(const core::Config& config) {
  auto keys = core::option_keys<MolTrainOptions>();
  for (const auto& k : core::option_keys<CaptionerOptions>()) {
    if (k != "vocab") keys.push_back(k);
  }
  core::check_keys(config, keys);
  MolTrainOptions t;
  core::read_options(config, t);
  t.validate();
  CaptionerOptions m;
  core::read_options(config, m);
  m.vocab(5);  // set from the data; checked here with a placeholder
  m.validate();
  core::Config out;
  core::write_options(t, out);
  core::Config model;
  core::write_options(m, model);
  model.erase("vocab");
  out.merge(model);
  if (!t.init().empty()) {
    // The network must be the init file's: its shape, target and cleaning replace the config's.
    core::CheckpointReader r(t.init());
    check_captioner(r);
    const auto init = core::Config::parse(r.get_string("config"), t.init()).node();
    for (const auto& k : model.keys()) out.set(k, init[k]);
    for (const auto* k : {"target", "clean"}) out.set(k, init[k]);
  }
  return out;
}

torch::Tensor prepare_image(const torch::Tensor& image, std::int64_t size, CleanOptions steps) {
  if (!steps.despeckle && !steps.crop && !steps.fix_rotation) return fit_square(image, size);
  steps.size = size;
  return clean(image, steps);
}

torch::Tensor prepare_image(const torch::Tensor& image, std::int64_t size, bool clean_it) {
  return prepare_image(image, size, clean_steps(clean_it ? "all" : "none"));
}

namespace {

struct Sample {
  fs::path image;
  std::string inchi;
  std::vector<std::int64_t> ids;  // <sos> … <eos>
};

// The target text of each label: the InChI, or a canonical SMILES (ours from molecules.csv, the
// competition's from its InChI).
std::vector<std::pair<Label, std::string>> targets_of(const fs::path& dir, const std::string& target) {
  const auto labels = read_labels(dir / "train_labels.csv");
  std::unordered_map<std::string, std::string> smiles;
  if (target == "smiles" && fs::exists(dir / "molecules.csv")) {
    std::ifstream in(dir / "molecules.csv");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      const auto a = line.find(','), b = line.find(',', a + 1);
      if (a != std::string::npos && b != std::string::npos)
        smiles[line.substr(0, a)] = line.substr(a + 1, b - a - 1);
    }
  }
  std::vector<std::pair<Label, std::string>> out;
  for (const auto& l : labels) {
    if (target == "inchi") {
      out.push_back({l, l.inchi});
    } else if (auto it = smiles.find(l.image_id); it != smiles.end()) {
      out.push_back({l, it->second});
    } else {
      try {
        out.push_back({l, canonical_smiles(smiles_from_inchi(l.inchi))});
      } catch (const Error&) {  // an InChI Open Babel cannot turn into a structure: not trained on
      }
    }
  }
  return out;
}

struct Batch {
  torch::Tensor images, tokens;  // [B, S, S] uint8, [B, T] int64
};

// Batches in a fixed order, read ahead on a thread. The order depends only on the seed and the
// position in the run, so a resumed run continues it exactly. Data parallel (a distributed sampler),
// a step takes world × batch images of that order and rank r every world-th of them from the r-th:
// positions count the group's images, so a run resumes on any number of ranks.
class Loader {
 public:
  Loader(const std::vector<Sample>& samples, std::int64_t batch, std::int64_t size, bool clean_it,
         std::uint64_t seed, std::int64_t first_position, int rank = 0, int world = 1)
      : samples_(samples),
        batch_(batch),
        size_(size),
        clean_(clean_it),
        seed_(seed),
        position_(first_position),
        rank_(rank),
        world_(world) {
    thread_ = std::thread([this] { run(); });
  }
  ~Loader() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Batch next() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return !queue_.empty() || !error_.empty(); });
    if (!error_.empty()) throw Error(error_);
    auto b = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return b;
  }

 private:
  std::size_t index_at(std::int64_t position) {
    const auto n = static_cast<std::int64_t>(samples_.size());
    const auto epoch = position / n;
    if (epoch != epoch_) {
      order_.resize(samples_.size());
      std::iota(order_.begin(), order_.end(), 0);
      std::mt19937_64 rng(core::derive_seed(seed_, "mol-epoch", static_cast<std::uint64_t>(epoch)));
      std::shuffle(order_.begin(), order_.end(), rng);
      epoch_ = epoch;
    }
    return order_[static_cast<std::size_t>(position % n)];
  }
  void run() {
    try {
      for (;;) {
        {
          std::unique_lock lock(mutex_);
          cv_.wait(lock, [&] { return stop_ || queue_.size() < 4; });
          if (stop_) return;
        }
        Batch b;
        b.images = torch::empty({batch_, size_, size_}, torch::kUInt8);
        std::vector<const Sample*> rows;
        std::size_t longest = 0;
        for (std::int64_t i = 0; i < batch_; ++i) {
          const auto& s = samples_[index_at(position_ + rank_ + i * world_)];
          b.images[i].copy_(prepare_image(read_image(s.image), size_, clean_));
          rows.push_back(&s);
          longest = std::max(longest, s.ids.size());
        }
        position_ += batch_ * world_;
        b.tokens = torch::full({batch_, static_cast<std::int64_t>(longest)}, Vocabulary::kPad, torch::kLong);
        for (std::int64_t i = 0; i < batch_; ++i) {
          const auto& ids = rows[static_cast<std::size_t>(i)]->ids;
          b.tokens[i]
              .slice(0, 0, static_cast<std::int64_t>(ids.size()))
              .copy_(torch::tensor(ids, torch::kLong));
        }
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(b));
        cv_.notify_all();
      }
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex_);
      error_ = e.what();
      cv_.notify_all();
    }
  }
  const std::vector<Sample>& samples_;
  std::int64_t batch_, size_;
  bool clean_;
  std::uint64_t seed_;
  std::int64_t position_, epoch_ = -1;
  int rank_, world_;
  std::vector<std::size_t> order_;
  std::deque<Batch> queue_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::string error_;
  std::thread thread_;
};

struct State {
  std::int64_t images_seen = 0, steps = 0;
  double seconds = 0, best = -1, last = -1;
  std::string rng;
};

MolTrainSummary run(const core::Config& cfg, const fs::path& dir, bool resuming) {
  MolTrainOptions t;
  core::read_options(cfg, t);
  t.validate();
  core::configure_compute(t.n_threads());
  CaptionerOptions m;
  core::read_options(cfg, m);

  // Samples and their tokens; the vocabulary comes from the training data (or the checkpoint).
  // A resumed run reads everything back from its last checkpoint; a run from `init` its weights and
  // vocabulary (tokens the file lacks read as <unk>) and its count of images and hours.
  Vocabulary vocab;
  std::optional<core::CheckpointReader> ckpt, init;
  if (resuming) {
    ckpt.emplace(dir / "checkpoints" / "last.ckpt");
    vocab = vocabulary_of(*ckpt);
  } else if (!t.init().empty()) {
    init.emplace(t.init());
    check_captioner(*init);
    vocab = vocabulary_of(*init);
  }
  std::vector<Sample> samples;
  std::int64_t too_long = 0;
  for (const auto& d : t.data()) {
    for (const auto& [label, text] : targets_of(d, t.target())) {
      const auto toks = tokenize(t.target(), text);
      if (!resuming && !init) {
        for (const auto& tok : toks) vocab.add(tok);
      }
      if (static_cast<std::int64_t>(toks.size()) + 2 > m.max_len()) {
        ++too_long;
        continue;
      }
      samples.push_back({image_path(fs::path(d) / "train", label.image_id), label.inchi, vocab.encode(toks)});
    }
  }
  if (samples.empty()) throw Error("data: no samples to train on");
  m.vocab(vocab.size());
  spdlog::info("{} training images ({} longer than max_len {} left out), {} tokens", samples.size(), too_long,
               m.max_len(), vocab.size());

  std::vector<torch::Tensor> val_images;
  std::vector<std::string> val_truth;
  if (!t.validation().empty()) {
    const auto labels = read_labels(fs::path(t.validation()) / "train_labels.csv");
    for (std::size_t i = 0; i < labels.size() && static_cast<std::int64_t>(i) < t.validation_images(); ++i) {
      val_images.push_back(
          prepare_image(read_image(image_path(fs::path(t.validation()) / "train", labels[i].image_id)),
                        m.image_size(), t.clean()));
      val_truth.push_back(labels[i].inchi);
    }
  }

  torch::manual_seed(static_cast<std::uint64_t>(t.seed()));
  Captioner model(m);
  // Data parallel (DDP's recipe): rank 0's weights, each rank its share of every batch (Loader),
  // gradients averaged; rank 0 alone evaluates and writes. Every rank draws its own token noise.
  const int rank = core::dist_rank(), world = core::dist_world_size();
  if (rank > 0)
    torch::manual_seed(
        core::derive_seed(static_cast<std::uint64_t>(t.seed()), "rank", static_cast<std::uint64_t>(rank)));
  nn::OptimizerOptions oo;
  oo.name = "adamw";
  oo.learning_rate = t.learning_rate();
  oo.weight_decay = t.weight_decay();
  auto optimizer = nn::make_optimizer(model->parameters(), oo);
  State s;
  std::mt19937_64 rng(core::derive_seed(static_cast<std::uint64_t>(t.seed()), "mol-noise"));
  if (ckpt) {
    ckpt->get("model", *model);
    ckpt->get("optimizer", *optimizer);
    s.images_seen = ckpt->get_int("images_seen");
    s.steps = ckpt->get_int("steps");
    s.seconds = ckpt->get_double("seconds");
    s.best = ckpt->get_double("best_mean_distance");
    std::istringstream(ckpt->get_string("rng")) >> rng;
  } else if (init) {
    init->get("model", *model);
    s.images_seen = init->get_int("images_seen");
    s.seconds = init->get_double("seconds");
    spdlog::info("starting from {}: {} images, {:.2f} h of training", t.init(), s.images_seen,
                 s.seconds / 3600);
  }
  core::broadcast_module(*model);
  std::string vocab_text;
  for (const auto& tok : vocab.tokens()) vocab_text += tok + "\n";

  const auto save = [&](const fs::path& path) {
    core::CheckpointWriter w;
    w.put("kind", std::string("dojo-mol-captioner"));
    w.put("config", cfg.dump());
    w.put("vocab", vocab_text);
    w.put("model", *model);
    w.put("optimizer", *optimizer);
    w.put("images_seen", s.images_seen);
    w.put("steps", s.steps);
    w.put("seconds", s.seconds);
    w.put("best_mean_distance", s.best);
    std::ostringstream r;
    r << rng;
    w.put("rng", r.str());
    w.save(path);
  };

  std::optional<core::CsvWriter> eval_csv;
  if (rank == 0)
    eval_csv.emplace(
        dir / "eval.csv",
        std::vector<std::string>{"images", "hours", "train_loss", "mean_distance", "exact", "valid"},
        resuming);
  const auto evaluate = [&](double train_loss) {
    if (val_images.empty()) return;
    // The other ranks wait for rank 0's evaluation, however long it takes (not a collective's limit).
    const auto key = "mol-eval/" + std::to_string(s.images_seen);
    if (rank > 0) return core::process_group()->wait_for_main(key, std::chrono::hours(24));
    const auto release = [&] {
      if (world > 1) core::process_group()->release(key);
    };
    double distance = 0, exact = 0, valid = 0;
    for (std::size_t i = 0; i < val_images.size(); i += 32) {
      const auto end = std::min(val_images.size(), i + 32);
      const auto batch = torch::stack(std::vector<torch::Tensor>(
          val_images.begin() + static_cast<long>(i), val_images.begin() + static_cast<long>(end)));
      const auto out = translate(model, vocab, batch, {.target = t.target(), .beam = 1, .rerank = true});
      for (std::size_t j = 0; j < out.size(); ++j) {
        const auto d = levenshtein(out[j].inchi, val_truth[i + j]);
        distance += static_cast<double>(d);
        exact += d == 0;
        valid += out[j].valid;
      }
    }
    const auto n = static_cast<double>(val_images.size());
    s.last = distance / n;
    eval_csv->row(
        {static_cast<double>(s.images_seen), s.seconds / 3600, train_loss, s.last, exact / n, valid / n});
    spdlog::info("{} images, {:.2f} h: loss {:.4f}, validation LD {:.2f}, exact {:.1f}%, valid {:.1f}%",
                 s.images_seen, s.seconds / 3600, train_loss, s.last, 100 * exact / n, 100 * valid / n);
    if (s.best < 0 || s.last < s.best) {
      s.best = s.last;
      save(dir / "checkpoints" / "best.ckpt");
    }
    release();
  };

  Loader loader(samples, t.batch_size(), m.image_size(), t.clean(), static_cast<std::uint64_t>(t.seed()),
                s.images_seen, rank, world);
  auto last_checkpoint = std::chrono::steady_clock::now();
  auto tick = std::chrono::steady_clock::now();
  double loss_sum = 0;
  std::int64_t loss_n = 0;
  while (s.images_seen < t.images()) {
    const auto b = loader.next();
    // Warm-up, then cosine decay to a tenth over the run.
    const double seen = static_cast<double>(s.images_seen);
    const double warm =
        t.warmup_images() > 0 ? std::min(1.0, (seen + 1) / static_cast<double>(t.warmup_images())) : 1.0;
    const double progress = std::min(1.0, seen / static_cast<double>(t.images()));
    const double lr = t.learning_rate() * warm * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * progress)));
    nn::set_learning_rate(*optimizer, lr);

    model->train();
    auto inputs = b.tokens.slice(1, 0, -1).clone();
    const auto targets = b.tokens.slice(1, 1);
    if (t.token_noise() > 0) {
      auto noise =
          torch::rand(inputs.sizes(), torch::TensorOptions().dtype(torch::kDouble)) < t.token_noise();
      noise.select(1, 0).fill_(false);  // <sos> stays
      noise &= inputs != Vocabulary::kPad;
      inputs = torch::where(noise, torch::randint(4, vocab.size(), inputs.sizes(), torch::kLong), inputs);
    }
    const auto logits = model->decode(model->encode(b.images), inputs);
    const auto loss = torch::nn::functional::cross_entropy(logits.flatten(0, 1), targets.flatten(),
                                                           torch::nn::functional::CrossEntropyFuncOptions()
                                                               .ignore_index(Vocabulary::kPad)
                                                               .label_smoothing(t.label_smoothing()));
    loss_sum += nn::backward(*optimizer, loss);
    core::average_gradients(nn::optimizer_params(*optimizer), t.batch_size(), t.batch_size() * world);
    nn::clip_and_step(*optimizer, t.max_grad_norm());
    ++loss_n;
    ++s.steps;
    const auto before = s.images_seen;
    s.images_seen += t.batch_size() * world;
    const auto now = std::chrono::steady_clock::now();
    s.seconds += std::chrono::duration<double>(now - tick).count();
    tick = now;
    if (s.images_seen / t.eval_every() != before / t.eval_every() || s.images_seen >= t.images()) {
      evaluate(loss_sum / static_cast<double>(std::max<std::int64_t>(loss_n, 1)));
      loss_sum = 0;
      loss_n = 0;
      tick = std::chrono::steady_clock::now();  // evaluation time is not training time
    }
    if (rank == 0 &&
        (std::chrono::duration<double>(now - last_checkpoint).count() > 60 * t.checkpoint_minutes() ||
         s.images_seen >= t.images())) {
      save(dir / "checkpoints" / "last.ckpt");
      last_checkpoint = std::chrono::steady_clock::now();
    }
  }
  if (rank > 0) return {dir, s.images_seen, s.steps, s.seconds / 3600, s.best, s.last};
  // The learning curve so far: validation LD against images seen.
  try {
    const auto table = core::read_csv(dir / "eval.csv");
    core::Series ld{"validation mean Levenshtein distance", table.column("images"),
                    table.column("mean_distance")};
    ld.markers = true;
    core::line_plot(dir / "learning_curve.png", {ld},
                    {.title = "captioner", .x_label = "images seen", .y_label = "mean LD (greedy)"});
  } catch (const std::exception&) {  // no evaluation yet
  }
  return {dir, s.images_seen, s.steps, s.seconds / 3600, s.best, s.last};
}

}  // namespace

TrainedCaptioner load_captioner(const fs::path& path, const std::string& device) {
  const auto dev = core::device(device);
  core::CheckpointReader r(path, dev);
  check_captioner(r);
  const auto cfg = core::Config::parse(r.get_string("config"), path.string());
  TrainedCaptioner t;
  t.vocab = vocabulary_of(r);
  CaptionerOptions m;
  core::read_options(cfg, m);
  m.vocab(t.vocab.size());
  t.model = Captioner(m);
  r.get("model", *t.model);
  t.model->to(dev);
  t.model->eval();
  t.target = cfg.get<std::string>("target", "smiles");
  t.clean = cfg.get<bool>("clean", true);
  t.images_seen = r.get_int("images_seen");
  return t;
}

fs::path shipped_captioner() {
  if (const char* env = std::getenv("DOJO_MOL_MODEL")) return env;
  const auto dir = core::find_data_dir(reinterpret_cast<const void*>(&shipped_captioner), "models");
  std::error_code ec;
  if (!dir.empty() && fs::is_regular_file(dir / "mol-captioner.ckpt", ec)) return dir / "mol-captioner.ckpt";
  throw Error(
      "no captioner model: expected --model CKPT (a dojo mol train run's checkpoints/best.ckpt) or "
      "$DOJO_MOL_MODEL; no shipped model is installed yet");
}

void export_captioner(const fs::path& checkpoint, const fs::path& out) {
  const auto t = load_captioner(checkpoint);  // checks it is one
  core::CheckpointReader r(checkpoint);
  core::CheckpointWriter w;
  w.put("kind", std::string("dojo-mol-captioner"));
  w.put("config", r.get_string("config"));
  w.put("vocab", r.get_string("vocab"));
  w.put("model", *t.model);
  w.put("images_seen", r.get_int("images_seen"));
  w.put("seconds", r.get_double("seconds"));
  if (!out.parent_path().empty()) fs::create_directories(out.parent_path());
  w.save(out);
}

MolTrainSummary train_captioner(const core::Config& resolved, const fs::path& out) {
  if (core::dist_rank() > 0) return run(resolved, out, false);  // rank 0 writes the run
  const auto dir = core::create_run_dir(out, "mol");
  fs::create_directories(dir / "checkpoints");
  core::atomic_write_text(dir / "config.yaml", resolved.dump());
  return run(resolved, dir, false);
}

MolTrainSummary resume_captioner(const fs::path& dir, std::int64_t images) {
  core::require_run_dir(dir);
  if (!fs::exists(dir / "checkpoints" / "last.ckpt"))
    throw Error("run '" + dir.string() + "' has no checkpoints/last.ckpt to resume from");
  // The run's weights are in its checkpoint now: the file it started from need not be there.
  auto raw = core::Config::load(dir / "config.yaml");
  const auto init = raw.get<std::string>("init", "");
  raw.set("init", YAML::Node(""));
  auto cfg = resolve_mol_config(raw);
  cfg.set("init", YAML::Node(init));
  if (images < 0) throw Error("--images " + std::to_string(images) + ": expected > 0 (images to add)");
  if (images > 0) {
    core::CheckpointReader check(dir / "checkpoints" / "last.ckpt");
    cfg.set("images", YAML::Node(check.get_int("images_seen") + images));
    if (core::dist_rank() == 0) core::atomic_write_text(dir / "config.yaml", cfg.dump());
  }
  return run(cfg, dir, true);
}

}  // namespace dojo::chem
