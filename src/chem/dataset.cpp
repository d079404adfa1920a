#include "chem/dataset.h"

#include <GraphMol/GraphMol.h>
#include <GraphMol/SmilesParse/SmilesParse.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <sstream>
#include <thread>

#include "chem/labels.h"
#include "chem/render.h"
#include "core/error.h"
#include "core/files.h"
#include "core/seed.h"

namespace dojo::chem {

namespace fs = std::filesystem;

namespace {

struct Row {
  std::string id, inchi, smiles, source, renderer;
  unsigned heavy_atoms = 0;
};

std::string image_id(std::mt19937_64& rng) {
  static const char* hex = "0123456789abcdef";
  std::string id(12, '0');
  for (auto& c : id) c = hex[rng() % 16];
  return id;
}

unsigned heavy_atoms(const std::string& smiles) {
  std::unique_ptr<RDKit::RWMol> m(RDKit::SmilesToMol(smiles));
  return m ? m->getNumHeavyAtoms() : 0;
}

}  // namespace

DatasetSummary make_dataset(const fs::path& out, const DatasetOptions& o) {
  if (o.n <= 0) throw Error("--n " + std::to_string(o.n) + ": expected a positive number of images");
  if (!(o.generated >= 0 && o.generated <= 1))
    throw Error(fmt::format("generated fraction {}: expected in [0, 1]", o.generated));
  // make-dataset.yaml records the options an image depends on. A folder with that record, the same
  // options and no train_labels.csv is a run that was stopped: it resumes, drawing only the images
  // that are missing (each PNG is written atomically, so one that exists is whole).
  const auto d = o.degrade;
  const auto record = fmt::format(
      "n: {}\nsplit: {}\ngenerated: {}\nnoisy: {}\nseed: {}\ndegrade: [{}, {}, {}, {}, {}, {}, {}, {}]\n",
      o.n, to_string(o.split), o.generated, o.noisy, o.seed, d.blur_sigma_max, d.threshold_min,
      d.threshold_max, d.dropout_max, d.speck_density_max, d.rotate90, d.scale_min, d.scale_max);
  const bool resume = fs::is_regular_file(out / "make-dataset.yaml") &&
                      !fs::exists(out / "train_labels.csv") &&
                      core::read_text(out / "make-dataset.yaml") == record;
  if (!resume && fs::exists(out) && !(fs::is_directory(out) && fs::is_empty(out)))
    throw Error(
        "--out '" + out.string() +
        "' is not empty: expected a new or empty folder, or an unfinished make-dataset run with the same "
        "options");
  const auto start = std::chrono::steady_clock::now();
  const auto sources = load_sources();
  const auto& real = sources.of(o.split);
  if (real.empty()) throw Error("split " + to_string(o.split) + " has no molecules");
  // Only the training split is extended with new molecules, and only from its own fragments.
  const double generated = o.split == Split::train ? o.generated : 0.0;
  std::unique_ptr<FragmentGenerator> generator;
  if (generated > 0) generator = std::make_unique<FragmentGenerator>(sources.train);
  fs::create_directories(out / "train");
  if (!resume) core::atomic_write_text(out / "make-dataset.yaml", record);

  std::vector<Row> rows(static_cast<std::size_t>(o.n));
  std::atomic<std::int64_t> next{0}, drawn{0};
  std::mutex error_mutex;
  std::string error;
  const auto work = [&] {
    for (std::int64_t i = next++; i < o.n; i = next++) {
      std::mt19937_64 rng(core::derive_seed(o.seed, "mol-image", static_cast<std::uint64_t>(i)));
      Row r;
      r.id = image_id(rng);
      std::optional<Molecule> m;
      if (generator && std::uniform_real_distribution<double>(0, 1)(rng) < generated) {
        m = generator->next(rng);
        r.source = "generated";
      }
      if (!m) {
        m = real[std::uniform_int_distribution<std::size_t>(0, real.size() - 1)(rng)];
        r.source = to_string(o.split);
      }
      r.inchi = m->inchi;
      r.smiles = m->smiles;
      r.heavy_atoms = heavy_atoms(m->smiles);
      try {
        const auto style = random_style(rng);
        r.renderer = style.renderer;
        const auto path = image_path(out / "train", r.id);
        if (resume && fs::exists(path)) {  // drawn before the stop: the same (seed, i), the same image
          rows[static_cast<std::size_t>(i)] = std::move(r);
          continue;
        }
        auto image = draw(m->smiles, style);
        if (o.noisy) {
          image = degrade(image, rng, o.degrade);
        } else {
          image = torch::where(image < 200, 0, 255).to(torch::kUInt8);  // binary, as every BMS image
        }
        fs::create_directories(path.parent_path());
        write_png(path, image);
        ++drawn;
      } catch (const std::exception& e) {
        std::lock_guard lock(error_mutex);
        if (error.empty()) error = m->smiles + ": " + e.what();
      }
      rows[static_cast<std::size_t>(i)] = std::move(r);
    }
  };
  const auto n_threads = std::max<std::int64_t>(
      1, std::min<std::int64_t>(o.threads > 0 ? o.threads : std::thread::hardware_concurrency(), o.n));
  std::vector<std::thread> pool;
  for (std::int64_t t = 1; t < n_threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (!error.empty()) throw std::runtime_error("make_dataset: drawing failed for " + error);

  std::vector<Label> labels;
  std::ostringstream molecules;
  molecules << "image_id,SMILES,source,renderer,heavy_atoms\n";
  DatasetSummary s;
  for (const auto& r : rows) {
    labels.push_back({r.id, r.inchi});
    molecules << r.id << "," << r.smiles << "," << r.source << "," << r.renderer << "," << r.heavy_atoms
              << "\n";
    (r.source == "generated" ? s.generated : s.real) += 1;
  }
  write_labels(out / "train_labels.csv", labels);
  core::atomic_write_text(out / "molecules.csv", molecules.str());
  s.images = o.n;
  s.drawn = drawn;
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

}  // namespace dojo::chem
