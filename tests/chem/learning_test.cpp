// The captioner learns: a small one, trained through `dojo mol train` on eight noisy drawings, reads
// them back (InChI exact) after a budget of a minute or so. It checks what no shape test can: the
// encoder, cross-attention, teacher forcing, the schedule and decoding together carry an image to its
// molecule. (The shipped model's figures on held-out molecules are measured outside the suite.)
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli_util.h"
#include "test_util.h"

namespace dojo::chem {
namespace {

namespace fs = std::filesystem;

TEST(Learning, CaptionerMemorisesEightDrawings) {
  using test::dojo;
  const auto dir = test::fresh_path("mol_learning");
  fs::create_directories(dir);
  const auto d = dir.string();
  ASSERT_EQ(dojo("mol make-dataset --n 8 --generated 0 --seed 5 --out " + d + "/set").rc, 0);
  auto r = dojo("mol train --data " + d + "/set --images 4000 --out " + d +
                "/run --set target=smiles --set image_size=128 --set widths=[16,32,64,128] --set stem=16"
                " --set d_model=64 --set heads=4 --set layers=2 --set ff=256 --set dropout=0"
                " --set token_noise=0 --set label_smoothing=0 --set learning_rate=0.001"
                " --set warmup_images=500 --set batch_size=8 --set eval_every=100000 --set validation=" +
                d + "/set --set validation_images=8 --set n_threads=2");
  ASSERT_EQ(r.rc, 0) << r.err;
  r = dojo("mol eval --labels " + d + "/set/train_labels.csv --images " + d + "/set/train --model " + d +
           "/run/checkpoints/last.ckpt");
  ASSERT_EQ(r.rc, 0) << r.err;
  // "mean Levenshtein distance X, exact match Y%, ..."
  const auto at = r.out.find("exact match ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const double exact = std::stod(r.out.substr(at + 12));
  EXPECT_GE(exact, 75.0) << r.out;  // 6 of 8
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dojo::chem
