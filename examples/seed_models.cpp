// The seed's first two models, as in Keras' guides: a Sequential MLP and a two-input functional model.
#include <torch/torch.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "examples/examples.h"
#include "nn/layers.h"
#include "nn/model.h"

namespace dojo::examples {

nlohmann::json seed_mlp(const ExampleOptions& o) {
  nn::Sequential model;
  model.add(nn::Dense(32, {.input_shape = {500}}));
  model.add(nn::Dense(10, {.activation = "softmax"}));
  model.summary();
  model.compile("rmsprop", "categorical_crossentropy", {"accuracy"});

  // Keras' guide trains it on random data: 1,000 samples, 10 random classes.
  const std::int64_t n = o.limit > 0 ? o.limit : 1000;
  auto x = torch::rand({n, 500});
  auto y = torch::one_hot(torch::randint(0, 10, {n}, torch::kLong), 10).to(torch::kFloat32);
  auto history =
      model.fit(x, y, {.batch_size = 32, .epochs = o.epochs > 0 ? o.epochs : 10, .verbose = o.verbose});
  return {{"total_params", model.count_params()},
          {"final_loss", history.history["loss"].back()},
          {"final_accuracy", history.history["accuracy"].back()}};
}

nlohmann::json seed_functional(const ExampleOptions& o) {
  auto a = nn::Input({16});
  auto b = nn::Input({32});
  auto x1 = nn::Dense(8, {.activation = "relu"})(a);
  auto x2 = nn::Dense(8, {.activation = "relu"})(b);
  auto added = nn::Add()({x1, x2});
  auto out = nn::Dense(4)(added);
  nn::Model model({a, b}, out);
  model.summary();

  // A target the model can fit: a fixed linear map of both inputs.
  const std::int64_t n = o.limit > 0 ? o.limit : 2000;
  auto xa = torch::randn({n, 16}), xb = torch::randn({n, 32});
  auto y = torch::matmul(xa, torch::randn({16, 4})) * 0.3 + torch::matmul(xb, torch::randn({32, 4})) * 0.3;
  model.compile("adam", "mse", {"mae"});
  auto history = model.fit(nn::Dataset{{xa, xb}, {y}}, {.batch_size = 32,
                                                        .epochs = o.epochs > 0 ? o.epochs : 10,
                                                        .verbose = o.verbose,
                                                        .validation_split = 0.2});
  return {{"total_params", model.count_params()},
          {"first_val_loss", history.history["val_loss"].front()},
          {"final_val_loss", history.history["val_loss"].back()}};
}

}  // namespace dojo::examples
