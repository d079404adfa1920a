// `dojo mol`: molecular translation — structure images to InChI (the BMS task). Data, drawing and
// scoring here; the captioner's train, eval and translate join them.
#include <fmt/format.h>

#include <iostream>

#include "chem/dataset.h"
#include "chem/image.h"
#include "chem/molecule.h"
#include "chem/render.h"
#include "chem/score.h"
#include "commands.h"
#include "core/error.h"

namespace dojo::app {

namespace {

struct MolArgs {
  std::string out, split = "train", smiles, renderer = "rdkit";
  std::int64_t n = 1000, threads = 0, size = 300;
  double generated = 0.5;
  std::uint64_t seed = 0;
  bool clean = false, noisy = false;
  std::string submission, labels;
};

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
      "wrote {} images ({} of {} molecules, {} generated) to {} in {:.1f} s ({:.1f} images/s)\n", s.images,
      s.real, a.split, s.generated, a.out, s.seconds,
      static_cast<double>(s.images) / std::max(s.seconds, 1e-9));
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

  return {{make, [a] { return cmd_make_dataset(*a); }},
          {render, [a] { return cmd_render(*a); }},
          {score, [a] { return cmd_score(*a); }}};
}

}  // namespace dojo::app
