// DRAW (Gregor et al. 2015) on Fashion-MNIST, written with prob: the step's distributions, the KL per
// glimpse summed by IterativeLoss, −log p(x|canvas_T). Adam 1e-3 (the paper's optimiser), batch 128,
// gradients clipped to norm 10 (the LSTMs' early steps can spike). Writes samples from the prior, the
// canvas step by step, and the test negative ELBO in nats per image.
#include "prob/draw.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "core/csv.h"
#include "core/image.h"
#include "core/run_dir.h"
#include "examples/examples.h"
#include "examples/prob_util.h"
#include "nn/data.h"
#include "prob/model.h"

namespace dojo::examples {

nlohmann::json draw(const ExampleOptions& o) {
  auto data = nn::data::load_fashion_mnist(o.data.empty() ? nn::data::kFashionMnistDir : o.data);
  auto train_x = data.train_x.reshape({-1, 784});
  auto test_x = data.test_x.reshape({-1, 784});
  if (o.limit > 0 && o.limit < train_x.size(0)) train_x = train_x.slice(0, 0, o.limit);

  prob::Draw draw_model(prob::DrawOptions{});
  std::cout << "loss: " << draw_model->loss() << "\n";
  prob::Model model(draw_model->loss(), draw_model->distributions(),
                    nn::optimizers::Adam(1e-3, 0.9, 0.999, 1e-8), 10.0);

  const auto out = o.out.empty() ? core::create_run_dir({}, "draw") : o.out;
  core::CsvWriter csv(out / "metrics.csv", {"epoch", "train_loss", "test_loss", "seconds"});
  const std::int64_t batch = 128;
  double test_loss = 0, seconds = 0;
  fit_epochs(
      o.epochs > 0 ? o.epochs : 10, train_x.size(0), test_x.size(0), batch,
      [&](const torch::Tensor& rows) {
        return model.train(draw_model->initial(train_x.index_select(0, rows)));
      },
      [&](std::int64_t b, std::int64_t e) { return model.test(draw_model->initial(test_x.slice(0, b, e))); },
      [&](std::int64_t epoch, double train_loss, double test, double secs) {
        test_loss = test;
        seconds += secs;
        csv.row({static_cast<double>(epoch), train_loss, test, secs});
        if (o.verbose > 0) {
          std::cout << fmt::format("epoch {:>2}: train loss {:.2f}, test negative ELBO {:.2f}, {:.1f} s\n",
                                   epoch, train_loss, test, secs)
                    << std::flush;
        }
      });
  // 64 images from the prior, and how 8 of them were drawn: one row per image, one column per glimpse.
  auto canvases = draw_model->generate(64);
  const auto steps = canvases.size(0);
  core::save_image_grid(out / "samples.png", canvases[steps - 1].view({-1, 28, 28}), 8, 3);
  core::save_image_grid(out / "canvas_steps.png",
                        canvases.slice(1, 0, 8).transpose(0, 1).reshape({-1, 28, 28}), steps, 3);
  std::cout << "run: " << out.string() << "\n";
  return {{"loss", draw_model->loss().str()},
          {"test_negative_elbo", test_loss},
          {"steps", steps},
          {"seconds", seconds}};
}

}  // namespace dojo::examples
