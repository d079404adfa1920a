// The seed's CNN on Fashion-MNIST: Conv2D(64, 2×2, relu) → MaxPooling(2×2) → Flatten → Dense(216) →
// Dropout(0.5) → Dense(10, softmax), Adam, batch 32, 10 epochs. With --out it also saves the model and
// looks inside it: an occlusion map, the maximising input of a few units, the first layer's filters.
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/image.h"
#include "examples/examples.h"
#include "nn/data.h"
#include "nn/inspect.h"
#include "nn/layers.h"
#include "nn/model.h"

namespace dojo::examples {

namespace {

nn::Sequential seed_cnn() {
  nn::Sequential model("fashion_cnn");
  model.add(nn::Conv2D(64, {2}, {.activation = "relu", .input_shape = {28, 28, 1}}));
  model.add(nn::MaxPooling2D({2, 2}));
  model.add(nn::Flatten());
  model.add(nn::Dense(216, {.activation = "relu"}));
  model.add(nn::Dropout(0.5));
  model.add(nn::Dense(10, {.activation = "softmax"}));
  return model;
}

// Seconds per epoch, measured around each epoch's training and validation.
class EpochTimer : public nn::Callback {
 public:
  void on_epoch_begin(std::int64_t, const nn::Logs&) override { t0_ = std::chrono::steady_clock::now(); }
  void on_epoch_end(std::int64_t, const nn::Logs&) override {
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count());
  }
  std::vector<double> seconds;

 private:
  std::chrono::steady_clock::time_point t0_;
};

void look_inside(const nn::Model& model, const nn::data::ImageSplit& data, const std::filesystem::path& out) {
  // Occlusion: the first test image of each class beside its sensitivity map.
  std::vector<torch::Tensor> tiles;
  for (std::int64_t c = 0; c < 10; ++c) {
    const auto i = (data.test_y == c).nonzero()[0][0].item<std::int64_t>();
    auto img = data.test_x[i];
    auto map = nn::inspect::occlusion_map(model, img, c, {.patch = 4, .stride = 2, .fill = 0.5});
    tiles.push_back(img.expand({28, 28, 3}));
    tiles.push_back(core::heat_colors(map / map.abs().max().clamp_min(1e-6)));
  }
  core::save_image_grid(out / "occlusion.png", torch::stack(tiles), 4, 4);
  std::vector<torch::Tensor> maxed;
  for (std::int64_t unit = 0; unit < 10; ++unit) {
    maxed.push_back(nn::inspect::activation_maximization(model, model->layers().back()->name(), unit,
                                                         {.steps = 300, .log_activation = true})
                        .squeeze(-1));
  }
  core::save_image_grid(out / "activation_max.png", torch::stack(maxed), 5, 4);
  core::save_image_grid(out / "filters.png",
                        nn::inspect::conv_filters(model, model->layers().front()->name()), 8, 12);
}

}  // namespace

nlohmann::json fashion_cnn(const ExampleOptions& o) {
  auto data = nn::data::load_fashion_mnist(o.data.empty() ? nn::data::kFashionMnistDir : o.data);
  auto x = data.train_x, y = data.train_y;
  if (o.limit > 0 && o.limit < x.size(0)) {
    x = x.slice(0, 0, o.limit);
    y = y.slice(0, 0, o.limit);
  }
  auto model = seed_cnn();
  model.summary();
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  auto timer = std::make_shared<EpochTimer>();
  auto history = model.fit(x, y,
                           {.batch_size = 32,
                            .epochs = o.epochs > 0 ? o.epochs : 10,
                            .verbose = o.verbose,
                            .validation_data = {{data.test_x}, {data.test_y}},
                            .callbacks = {timer}});
  const auto& acc = history.history["val_accuracy"];
  const double best = *std::max_element(acc.begin(), acc.end());
  std::cout << "test accuracy: " << acc.back() << " after " << acc.size() << " epochs (best " << best
            << ")\n";
  double total = 0;
  for (double s : timer->seconds) total += s;
  nlohmann::json result = {{"test_accuracy", acc.back()},
                           {"best_test_accuracy", best},
                           {"test_accuracy_per_epoch", acc},
                           {"seconds_per_epoch", timer->seconds},
                           {"mean_seconds_per_epoch", total / static_cast<double>(timer->seconds.size())},
                           {"train_samples", x.size(0)}};
  if (!o.out.empty()) {
    model.save(o.out / "model.dojo");
    look_inside(model, data, o.out);
    std::cout << "wrote " << (o.out / "model.dojo").string()
              << ", occlusion.png, activation_max.png, filters.png\n";
  }
  return result;
}

// Transfer learning: a base trained on classes 0-4 is frozen and a new head learns classes 5-9; the
// same head on a frozen random base shows what the learned features are worth.
nlohmann::json transfer(const ExampleOptions& o) {
  auto data = nn::data::load_fashion_mnist(o.data.empty() ? nn::data::kFashionMnistDir : o.data);
  auto subset = [&](const torch::Tensor& x, const torch::Tensor& y, bool first_half, std::int64_t limit) {
    auto idx = (first_half ? (y < 5) : (y >= 5)).nonzero().squeeze(1);
    if (limit > 0 && limit < idx.size(0)) idx = idx.slice(0, 0, limit);
    return std::pair{x.index_select(0, idx), y.index_select(0, idx) - (first_half ? 0 : 5)};
  };
  const auto [xa, ya] = subset(data.train_x, data.train_y, true, o.limit);
  const auto [xb, yb] = subset(data.train_x, data.train_y, false, o.limit);
  const auto [xb_test, yb_test] = subset(data.test_x, data.test_y, false, 0);
  const auto epochs = o.epochs > 0 ? o.epochs : 3;

  auto make_base = [] {
    auto in = nn::Input({28, 28, 1});
    auto y = nn::Conv2D(32, {3}, {.activation = "relu"})(in);
    y = nn::MaxPooling2D({2, 2})(y);
    y = nn::Conv2D(64, {3}, {.activation = "relu"})(y);
    y = nn::MaxPooling2D({2, 2})(y);
    y = nn::Flatten()(y);
    return nn::Model(in, y, "");
  };
  auto head_accuracy = [&](const nn::Model& base) {
    base->set_trainable(false);
    auto in = nn::Input({28, 28, 1});
    auto y = nn::Dense(5, {.activation = "softmax"})(nn::Dense(64, {.activation = "relu"})(base(in)));
    nn::Model model(in, y);
    model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
    model.fit(xb, yb, {.batch_size = 32, .epochs = epochs, .verbose = o.verbose});
    return model.evaluate(xb_test, yb_test).at("accuracy");
  };

  std::cout << "1. base + head on classes 0-4\n";
  auto base = make_base();
  {
    auto in = nn::Input({28, 28, 1});
    nn::Model a(in, nn::Dense(5, {.activation = "softmax"})(base(in)));
    a.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
    a.fit(xa, ya, {.batch_size = 32, .epochs = epochs, .verbose = o.verbose});
  }
  std::cout << "2. frozen trained base, new head on classes 5-9\n";
  const double transferred = head_accuracy(base);
  std::cout << "3. frozen random base, the same head on classes 5-9\n";
  const double random_base = head_accuracy(make_base());
  std::cout << "test accuracy on classes 5-9: transferred base " << transferred << ", random base "
            << random_base << "\n";
  return {{"transferred_accuracy", transferred}, {"random_base_accuracy", random_base}, {"epochs", epochs}};
}

}  // namespace dojo::examples
