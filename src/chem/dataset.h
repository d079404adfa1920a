// Labelled structure images in the BMS competition's layout, made from our own molecules:
//   DIR/train_labels.csv          image_id,InChI   (the competition's file)
//   DIR/train/a/b/c/abc….png      each image, by the first three characters of its id
//   DIR/molecules.csv             image_id,SMILES,source,renderer,heavy_atoms   (ours, for analysis)
//   DIR/make-dataset.yaml         the options (an unfinished run resumes from it)
// so one loader reads ours and the competition's.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

#include "chem/image.h"
#include "chem/sources.h"
#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::chem {

struct DatasetOptions {
  std::int64_t n = 1000;
  Split split = Split::train;  // whose real molecules are drawn
  double generated = 0.5;      // train split: the fraction of images of BRICS-recombined molecules
  bool noisy = true;           // BMS-style degradation (else the clean drawing, binarised)
  DegradeOptions degrade = {};
  std::uint64_t seed = 0;
  std::int64_t threads = 0;  // 0: all cores; the images do not depend on it
};

struct DatasetSummary {
  std::int64_t images = 0, generated = 0, real = 0;
  std::int64_t drawn = 0;  // images drawn by this call (fewer than `images` when it resumed a run)
  double seconds = 0;
};

// Writes the dataset into `out` (created; refused when it holds files, unless it is an unfinished run
// with the same options — make-dataset.yaml and no train_labels.csv — which resumes, drawing only the
// missing images). Image i depends only on (seed, i). Throws dojo::Error for a bad option or an `out`
// that is neither empty nor resumable.
DatasetSummary make_dataset(const std::filesystem::path& out, const DatasetOptions& options);

}  // namespace dojo::chem

DOJO_PUBLIC_END
