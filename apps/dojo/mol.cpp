// `dojo mol`: molecular translation — structure images to InChI (the BMS task). Data, drawing and
// scoring here; the captioner's train, eval and translate join them.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <map>

#include "chem/dataset.h"
#include "chem/decode.h"
#include "chem/image.h"
#include "chem/labels.h"
#include "chem/molecule.h"
#include "chem/render.h"
#include "chem/score.h"
#include "chem/train.h"
#include "commands.h"
#include "core/config.h"
#include "core/error.h"
#include "core/image.h"
#include "core/runtime.h"
#include "core/strings.h"
#include "rl/trainer.h"

namespace dojo::app {

namespace {

struct MolArgs {
  std::string out, split = "train", smiles, renderer = "rdkit";
  std::int64_t n = 1000, threads = 0, size = 300;
  double generated = 0.5;
  std::uint64_t seed = 0;
  bool clean = false, noisy = false;
  std::string submission, labels;
  // train, eval, translate
  std::string config, resume, model, images_dir, attention, device = "cpu";
  std::vector<std::string> overrides, data, files;
  std::int64_t images = 0, beam = 1, limit = 0;
  bool no_rerank = false, no_clean = false;
  std::string clean_steps;  // eval, translate: "" = the model's own (all steps, or none)
  std::int64_t eval_threads = 0;
};

// The cleaning an image gets: --clean's steps, none with --no-clean, else what the model trained on.
chem::CleanOptions cleaning(const MolArgs& a, const chem::TrainedCaptioner& m) {
  if (a.no_clean && !a.clean_steps.empty()) throw Error("--no-clean and --clean: expected one of them");
  if (a.no_clean) return chem::clean_steps("none");
  if (!a.clean_steps.empty()) return chem::clean_steps(a.clean_steps);
  return chem::clean_steps(m.clean ? "all" : "none");
}

std::string describe(const chem::CleanOptions& c) {
  std::vector<std::string> on;
  if (c.despeckle) on.emplace_back("despeckle");
  if (c.crop) on.emplace_back("crop");
  if (c.fix_rotation) on.emplace_back("rotate");
  return on.empty() ? "none" : core::join(on, "+");
}

// How translate and eval read an image: re-ranking, cleaning, threads.
void add_reading_options(CLI::App* sub, MolArgs& a) {
  sub->add_flag("--no-rerank", a.no_rerank, "Keep the most probable candidate even when invalid");
  sub->add_flag("--no-clean", a.no_clean, "Skip despeckling, cropping and turning");
  sub->add_option("--clean", a.clean_steps,
                  "Cleaning steps: all, none or a list of despeckle,crop,rotate (default: the model's)");
  sub->add_option("--threads", a.eval_threads, "Threads (default: all cores)");
}

// --model, else the shipped model ($DOJO_MOL_MODEL, else share/dojo/models/mol-captioner.ckpt).
std::string model_path(const std::string& given) {
  return given.empty() ? chem::shipped_captioner().string() : given;
}

// Heavy atoms of an InChI, from its formula layer ("C9H8O4" -> 13).
std::int64_t heavy_atoms(const std::string& inchi) {
  const auto start = inchi.find('/'), end = inchi.find('/', start + 1);
  if (start == std::string::npos) return 0;
  const auto formula =
      inchi.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < formula.size();) {
    if (!std::isupper(static_cast<unsigned char>(formula[i]))) {
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    while (j < formula.size() && std::islower(static_cast<unsigned char>(formula[j]))) ++j;
    const auto element = formula.substr(i, j - i);
    std::size_t k = j;
    while (k < formula.size() && std::isdigit(static_cast<unsigned char>(formula[k]))) ++k;
    const auto count = k > j ? std::stoll(formula.substr(j, k - j)) : 1;
    if (element != "H") total += count;
    i = k;
  }
  return total;
}

int cmd_train(const MolArgs& a) {
  chem::MolTrainSummary s;
  if (!a.resume.empty()) {
    if (!a.config.empty() || !a.overrides.empty() || !a.data.empty() || !a.out.empty())
      throw Error("--resume takes the run's own config: expected no --config, --set, --data or --out");
    s = chem::resume_captioner(a.resume, a.images);
  } else {
    // --config takes a file or a preset name (mol/captioner), as dojo train does.
    auto cfg = a.config.empty() ? core::Config() : core::Config::load(rl::config_file(a.config));
    for (const auto& o : a.overrides) cfg.set(o);
    if (!a.data.empty()) cfg.set("data", YAML::Node(a.data));
    if (a.images > 0) cfg.set("images", YAML::Node(a.images));
    s = chem::train_captioner(chem::resolve_mol_config(cfg), a.out);
  }
  std::cout << fmt::format(
      "{} images seen in {} steps, {:.2f} h of training ({:.1f} images/s); validation LD last {:.2f}, best "
      "{:.2f}\n"
      "run: {}\n",
      s.images_seen, s.steps, s.hours,
      s.hours > 0 ? static_cast<double>(s.images_seen) / (3600 * s.hours) : 0.0, s.last_mean_distance,
      s.best_mean_distance, s.run_dir.string());
  return 0;
}

chem::DecodeOptions decode_options(const MolArgs& a, const chem::TrainedCaptioner& m) {
  return {.target = m.target, .beam = a.beam, .rerank = !a.no_rerank};
}

int cmd_translate(const MolArgs& a) {
  if (!a.attention.empty() && a.beam > 1)
    throw Error("--attention draws the greedy decoding's maps: expected --beam 1, got " +
                std::to_string(a.beam));
  core::configure_compute(a.eval_threads);
  auto m = chem::load_captioner(model_path(a.model), a.device);
  const auto size = m.model->options().image_size();
  const auto steps = cleaning(a, m);
  if (!a.attention.empty()) std::filesystem::create_directories(a.attention);
  for (const auto& file : a.files) {
    const auto image = chem::prepare_image(chem::read_image(file), size, steps);
    const auto out = chem::translate(m.model, m.vocab, image.unsqueeze(0), decode_options(a, m))[0];
    std::cout << fmt::format("{}\t{}\t{}\t{:.3f}{}\n", file, out.inchi, out.smiles, out.confidence,
                             out.valid ? "" : "\t(not a valid molecule)");
    if (!a.attention.empty() && !out.attention.empty()) {
      // One map per token, over the encoder's grid, as a grid of heat maps.
      const auto cells = static_cast<std::int64_t>(out.attention[0].size());
      const auto side = static_cast<std::int64_t>(std::lround(std::sqrt(static_cast<double>(cells))));
      std::vector<torch::Tensor> maps;
      for (const auto& w : out.attention) {
        auto t = torch::tensor(w).view({side, side});
        maps.push_back(core::heat_colors(t / std::max(t.max().item<float>(), 1e-6f)));
      }
      const auto stem = std::filesystem::path(file).stem().string();
      core::save_image_grid(std::filesystem::path(a.attention) / (stem + "_attention.png"),
                            torch::stack(maps), 8, 8);
    }
  }
  return 0;
}

int cmd_eval(const MolArgs& a) {
  core::configure_compute(a.eval_threads);
  auto m = chem::load_captioner(model_path(a.model), a.device);
  const auto steps = cleaning(a, m);
  auto labels = chem::read_labels(a.labels);
  if (a.limit > 0 && static_cast<std::int64_t>(labels.size()) > a.limit)
    labels.resize(static_cast<std::size_t>(a.limit));
  const auto size = m.model->options().image_size();
  double distance = 0, exact = 0, valid = 0;
  std::map<std::int64_t, std::pair<double, std::int64_t>> by_size;  // bucket of 10 heavy atoms -> (sum LD, n)
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < labels.size(); i += 16) {
    const auto end = std::min(labels.size(), i + 16);
    std::vector<torch::Tensor> images;
    for (std::size_t j = i; j < end; ++j)
      images.push_back(chem::prepare_image(
          chem::read_image(chem::image_path(a.images_dir, labels[j].image_id)), size, steps));
    const auto out = chem::translate(m.model, m.vocab, torch::stack(images), decode_options(a, m));
    for (std::size_t j = i; j < end; ++j) {
      const auto d = static_cast<double>(chem::levenshtein(out[j - i].inchi, labels[j].inchi));
      distance += d;
      exact += d == 0;
      valid += out[j - i].valid;
      auto& bucket = by_size[heavy_atoms(labels[j].inchi) / 10 * 10];
      bucket.first += d;
      ++bucket.second;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto n = static_cast<double>(labels.size());
  std::cout << fmt::format(
      "mean Levenshtein distance {:.3f}, exact match {:.1f}%, valid {:.1f}% over {} images "
      "({:.2f} images/s, beam {}, re-ranking {}, cleaning {})\n",
      distance / n, 100 * exact / n, 100 * valid / n, labels.size(), n / seconds, a.beam,
      a.no_rerank ? "off" : "on", describe(steps));
  for (const auto& [lo, v] : by_size)
    std::cout << fmt::format("  {:>3}-{:<3} heavy atoms: LD {:.2f} over {} images\n", lo, lo + 9,
                             v.first / static_cast<double>(v.second), v.second);
  return 0;
}

int cmd_make_dataset(const MolArgs& a) {
  chem::DatasetOptions o;
  o.n = a.n;
  o.split = chem::parse_split(a.split);
  o.generated = a.generated;
  o.noisy = !a.clean;
  o.seed = a.seed;
  o.threads = a.threads;
  const auto s = chem::make_dataset(a.out, o);
  std::cout << fmt::format(
      "wrote {} images ({} of {} molecules, {} generated) to {}: drew {} in {:.1f} s ({:.1f} images/s){}\n",
      s.images, s.real, a.split, s.generated, a.out, s.drawn, s.seconds,
      static_cast<double>(s.drawn) / std::max(s.seconds, 1e-9),
      s.drawn < s.images ? fmt::format(", resuming: {} were drawn before", s.images - s.drawn) : "");
  return 0;
}

int cmd_render(const MolArgs& a) {
  chem::DrawStyle style;
  style.renderer = a.renderer;
  style.size = a.size;
  auto image = chem::draw(a.smiles, style);
  if (a.noisy) {
    std::mt19937_64 rng(a.seed);
    image = chem::degrade(image, rng);
  }
  chem::write_png(a.out, image);
  std::cout << fmt::format("{} -> {} ({}×{}, {})\n", chem::inchi_from_smiles(a.smiles), a.out, image.size(1),
                           image.size(0), a.renderer);
  return 0;
}

int cmd_score(const MolArgs& a) {
  const auto s = chem::score_files(a.submission, a.labels);
  std::cout << fmt::format("mean Levenshtein distance {:.4f}, exact match {:.2f}% over {} images\n",
                           s.mean_distance, 100 * s.exact, s.count);
  return 0;
}

}  // namespace

std::vector<Command> add_mol_commands(CLI::App& app) {
  auto a = std::make_shared<MolArgs>();
  auto* mol = app.add_subcommand("mol", "Molecular translation: chemical structure images to InChI (BMS)");
  mol->require_subcommand(1);

  auto* make = mol->add_subcommand("make-dataset", "Draw labelled structure images in the BMS layout");
  add_count(make, "--n", a->n, "Images (default 1000; 1e5 works)");
  make->add_option("--out", a->out, "Folder to create: train_labels.csv, train/a/b/c/ID.png")->required();
  make->add_option("--split", a->split,
                   "Molecules: train, validation, held-out or outside-test (default train)");
  make->add_option("--generated", a->generated,
                   "Train split: fraction of BRICS-recombined molecules (default 0.5)");
  make->add_flag("--clean", a->clean, "Clean drawings (default: BMS-style noisy scans)");
  make->add_option("--seed", a->seed, "Seed (default 0)");
  make->add_option("--threads", a->threads, "Threads (default: all cores; the images do not depend on it)");

  auto* render = mol->add_subcommand("render", "Draw one molecule from its SMILES");
  render->add_option("smiles", a->smiles, "SMILES")->required();
  render->add_option("--out", a->out, "PNG to write")->required();
  render->add_option("--renderer", a->renderer, "rdkit or indigo (default rdkit)");
  render->add_option("--size", a->size, "Canvas side in pixels (default 300)");
  render->add_flag("--noisy", a->noisy, "Degrade it as a BMS scan");
  render->add_option("--seed", a->seed, "Seed of the degradation (default 0)");

  auto* score =
      mol->add_subcommand("score", "The competition's metric: mean Levenshtein distance to the labels");
  score->add_option("submission", a->submission, "CSV image_id,InChI of predictions")->required();
  score->add_option("labels", a->labels, "CSV image_id,InChI of the truth")->required();

  auto* train = mol->add_subcommand("train", "Train the captioner (resumable)");
  train->add_option("--config", a->config, "YAML config (configs/mol/captioner.yaml)");
  train->add_option("--set", a->overrides, "Override a config key: key=value (repeatable)");
  train->add_option("--data", a->data, "Dataset folder in the BMS layout (repeatable)");
  add_count(train, "--images", a->images, "Images to see (with --resume: images to add)");
  train->add_option("--out", a->out, "Run directory to create");
  train->add_option("--resume", a->resume, "Continue the run in this directory from its last checkpoint");

  auto* translate = mol->add_subcommand("translate", "Structure images to InChI, SMILES and a confidence");
  translate->add_option("images", a->files, "PNG files")->required();
  translate->add_option("--model", a->model, "Captioner checkpoint (default: the shipped model)");
  translate->add_option("--beam", a->beam, "Beam width (default 1: greedy)")->check(CLI::Range(1, 64));
  add_reading_options(translate, *a);
  translate->add_option("--attention", a->attention, "Write each image's attention maps (PNG) here");
  translate->add_option("--device", a->device, "cpu, cuda, cuda:N or auto (default cpu)");

  auto* eval =
      mol->add_subcommand("eval", "Mean Levenshtein distance, exact match and validity on labelled images");
  eval->add_option("--labels", a->labels, "CSV image_id,InChI")->required();
  eval->add_option("--images", a->images_dir, "Folder of the images (a/b/c/ID.png)")->required();
  eval->add_option("--model", a->model, "Captioner checkpoint (default: the shipped model)");
  eval->add_option("--beam", a->beam, "Beam width (default 1: greedy)")->check(CLI::Range(1, 64));
  add_reading_options(eval, *a);
  add_count(eval, "--limit", a->limit, "Evaluate the first N labels only");
  eval->add_option("--device", a->device, "cpu, cuda, cuda:N or auto (default cpu)");

  auto* exp = mol->add_subcommand("export", "Write a checkpoint's weights alone (the shipped model's form)");
  exp->add_option("checkpoint", a->model, "A dojo mol train run's checkpoints/best.ckpt")->required();
  exp->add_option("--out", a->out, "File to write")->required();

  return {{exp,
           [a] {
             chem::export_captioner(a->model, a->out);
             std::cout << fmt::format("wrote {} ({:.1f} MB)\n", a->out,
                                      static_cast<double>(std::filesystem::file_size(a->out)) / 1e6);
             return 0;
           }},
          {make, [a] { return cmd_make_dataset(*a); }},
          {train, [a] { return cmd_train(*a); }, /*distributed=*/true},
          {translate, [a] { return cmd_translate(*a); }},
          {eval, [a] { return cmd_eval(*a); }},
          {render, [a] { return cmd_render(*a); }},
          {score, [a] { return cmd_score(*a); }}};
}

}  // namespace dojo::app
