// Training the captioner: a run directory like the agents' (config.yaml, eval.csv, checkpoints/,
// learning_curve.png), batches of cleaned images with their token sequences read ahead on a second
// thread, label smoothing, teacher forcing with token noise (BMS 5th place: some input tokens replaced
// at random, so the decoder learns to recover from its own mistakes), warm-up then cosine decay of the
// learning rate, and a validation pass (greedy, mean Levenshtein distance) every `eval_every` images.
// A checkpoint every `checkpoint_minutes` lets a multi-hour run be stopped and resumed.
#pragma once
#include <torch/arg.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "chem/captioner.h"
#include "chem/image.h"
#include "chem/tokens.h"
#include "core/config.h"
#include "core/export.h"
#include "core/options.h"

DOJO_PUBLIC_BEGIN
namespace dojo::chem {

struct MolTrainOptions {
  TORCH_ARG(std::string, target) = "smiles";         // inchi | smiles (converted to InChI)
  TORCH_ARG(std::vector<std::string>, data) = {};    // dataset folders in the BMS layout
  TORCH_ARG(std::string, validation) = "";           // a dataset folder for the learning curve
  TORCH_ARG(std::int64_t, validation_images) = 200;  // of it, per evaluation
  TORCH_ARG(std::int64_t, images) = 1'000'000;       // to see in all (the run's length)
  TORCH_ARG(std::int64_t, batch_size) = 32;
  TORCH_ARG(double, learning_rate) = 5e-4;  // AdamW
  TORCH_ARG(double, weight_decay) = 0.01;
  TORCH_ARG(std::int64_t, warmup_images) = 20'000;
  TORCH_ARG(double, label_smoothing) = 0.1;
  TORCH_ARG(double, token_noise) = 0.05;
  TORCH_ARG(double, max_grad_norm) = 1.0;
  TORCH_ARG(std::int64_t, eval_every) = 50'000;  // images
  TORCH_ARG(double, checkpoint_minutes) = 10.0;
  TORCH_ARG(bool, clean) = true;  // despeckle, crop, turn before resizing
  TORCH_ARG(std::int64_t, seed) = 0;
  TORCH_ARG(std::int64_t, n_threads) = 0;  // 0: all cores
  // A captioner file (a checkpoint or an exported model, e.g. the shipped one) a new run starts from:
  // its weights, vocabulary, shape, target and cleaning, and its images and hours so far, so a run
  // lost with its machine continues from the last exported model. Fresh optimizer moments.
  TORCH_ARG(std::string, init) = "";

 public:
  void validate() const;
  template <class F>
  void visit(F&& f) {
    f("target", target_, core::one_of({"inchi", "smiles"}));
    f("data", data_);
    f("validation", validation_);
    f("validation_images", validation_images_, core::positive());
    f("images", images_, core::positive());
    f("batch_size", batch_size_, core::positive());
    f("learning_rate", learning_rate_, core::positive());
    f("weight_decay", weight_decay_, core::non_negative());
    f("warmup_images", warmup_images_, core::non_negative());
    f("label_smoothing", label_smoothing_, core::in_closed_open(0, 1));
    f("token_noise", token_noise_, core::in_closed_open(0, 1));
    f("max_grad_norm", max_grad_norm_, core::non_negative("0: no clipping"));
    f("eval_every", eval_every_, core::positive());
    f("checkpoint_minutes", checkpoint_minutes_, core::positive());
    f("clean", clean_);
    f("seed", seed_, core::non_negative());
    f("n_threads", n_threads_, core::non_negative("0: all cores"));
    f("init", init_);
  }
};

struct MolTrainSummary {
  std::filesystem::path run_dir;
  std::int64_t images_seen = 0, steps = 0;
  double hours = 0, best_mean_distance = -1, last_mean_distance = -1;
};

// Every key (training and model) with its value, validated; throws dojo::Error naming an unknown key,
// a bad value, or a data folder without train_labels.csv.
core::Config resolve_mol_config(const core::Config& config);
// A new run in `out` (created; refused when it holds files).
MolTrainSummary train_captioner(const core::Config& resolved, const std::filesystem::path& out);
// Continues a run from checkpoints/last.ckpt; `images` > 0 adds that many images to its length.
MolTrainSummary resume_captioner(const std::filesystem::path& run_dir, std::int64_t images = 0);

// A trained captioner as a checkpoint holds it, ready to translate.
struct TrainedCaptioner {
  Captioner model{nullptr};
  Vocabulary vocab;
  std::string target;  // inchi | smiles
  bool clean = true;
  std::int64_t images_seen = 0;
};
// Throws dojo::Error naming the file when it is missing, corrupt or not a captioner checkpoint.
TrainedCaptioner load_captioner(const std::filesystem::path& checkpoint, const std::string& device = "cpu");

// The shipped model: $DOJO_MOL_MODEL, else mol-captioner.ckpt where this library finds it — the
// installed prefix's share/dojo/models, or the build tree's models link — so the dojo command and the
// Python package find the same file. Throws dojo::Error when there is none.
std::filesystem::path shipped_captioner();

// A checkpoint reduced to what translating needs (weights, config, vocabulary, images seen and hours
// trained): no optimizer moments, a third of the size. The shipped model is one. Written atomically.
void export_captioner(const std::filesystem::path& checkpoint, const std::filesystem::path& out);

// The image as the model sees it: cleaned by the steps `steps` switches on, fitted into size×size.
torch::Tensor prepare_image(const torch::Tensor& image, std::int64_t size, CleanOptions steps);
// All the steps (clean) or none.
torch::Tensor prepare_image(const torch::Tensor& image, std::int64_t size, bool clean);

}  // namespace dojo::chem

DOJO_PUBLIC_END
