#include "examples/examples.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "core/distributed.h"
#include "core/error.h"
#include "core/files.h"
#include "core/runtime.h"
#include "core/strings.h"

namespace dojo::examples {

const std::vector<Example>& all() {
  static const std::vector<Example> list = {
      {"seed-mlp", "Dense(32, input 500) -> Dense(10, softmax): summary, then fit on random data", seed_mlp,
       true},
      {"seed-functional",
       "two inputs (16, 32) -> Dense 8 relu each -> Add -> Dense 4: summary with Connected to",
       seed_functional, true},
      {"fashion-cnn", "Conv2D 64 2x2 -> MaxPooling -> Dense 216 -> Dropout -> Dense 10 on Fashion-MNIST",
       fashion_cnn, true},
      {"lstm-addition", "seq2seq LSTM learning two-digit addition (\"34+14\" -> \"48\")", lstm_addition,
       true},
      {"recommender", "user and movie Embeddings -> Dense 70 -> rating, on MovieLens files", recommender,
       true},
      {"transfer", "a Fashion-MNIST CNN frozen after 5 classes, a new head for the other 5", transfer, true},
      {"vae", "VAE 784-400-20, Bernoulli decoder, on Fashion-MNIST (prob: distributions and loss formulas)",
       vae},
      {"vae-pixyz", "Pixyz's README VAE: 784-512-512, z 64, Bernoulli decoder, on Fashion-MNIST", vae_pixyz},
      {"cvae", "conditional VAE: q(z|x,y), p(x|z,y) with the class label; samples by class", cvae},
      {"m2", "M1+M2 semi-supervised VAE with 100 labels (Kingma et al. 2014) against the classifier alone",
       m2},
      {"m2-pixels", "M2 on the pixels with 100 labels, against the classifier alone", m2_pixels},
      {"gan", "GAN (MLP generator and discriminator) on Fashion-MNIST; class histogram of its samples", gan},
      {"draw",
       "DRAW (Gregor et al. 2015): LSTM encoder/decoder drawing on a canvas in 10 glimpses, Fashion-MNIST",
       draw},
      {"tdvae",
       "TD-VAE (Gregor et al. 2019): beliefs and jumpy predictions of Fashion-MNIST items moving sideways",
       tdvae},
      {"gqn",
       "a small GQN (Eslami et al. 2018): render a held-out view of a held-out room from 5 context views",
       gqn},
      {"rbm", "RBM 784-500 on binarised Fashion-MNIST, CD-1 vs persistent CD, log-likelihood by AIS", rbm},
      {"dbn", "DBN 784-500-500 pre-trained greedily, fine-tuned on 1,000 labels vs random initialisation",
       dbn},
      {"videopose",
       "VideoPose3D: dilated temporal convolutions lift 2D keypoints of MuJoCo's humanoid to 3D (27, 243 "
       "frames "
       "vs one)",
       videopose},
  };
  return list;
}

const Example& find(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& e : all()) {
    if (e.name == name) return e;
    names.push_back(e.name);
  }
  throw Error("unknown example '" + name + "'" + core::did_you_mean(name, names) +
              " (have: " + core::join(names, ", ") + ")");
}

nlohmann::json run(const std::string& name, const ExampleOptions& o) {
  const auto& example = find(name);
  if (core::dist_world_size() > 1 && !example.data_parallel) {
    std::vector<std::string> parallel;
    for (const auto& e : all()) {
      if (e.data_parallel) parallel.push_back(e.name);
    }
    throw Error("example '" + name +
                "' does not run data parallel yet (it trains outside nn's fit): expected one process, or "
                "one of: " +
                core::join(parallel, ", "));
  }
  if (o.epochs < 0 || o.limit < 0) throw Error("--epochs and --limit must not be negative");
  if (!o.out.empty()) std::filesystem::create_directories(o.out);
  core::seed_everything(o.seed);
  const auto threads = core::configure_compute(o.n_threads);
  auto result = example.run(o);
  result["example"] = name;
  result["seed"] = o.seed;
  result["threads"] = threads;
  if (!o.out.empty()) core::atomic_write_text(o.out / "summary.json", result.dump(2) + "\n");
  return result;
}

}  // namespace dojo::examples
