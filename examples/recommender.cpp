// The seed's recommender: user and movie ids through Embeddings, concatenated, then a small MLP
// predicting the rating (Dense 70 relu, dropout 0.1 — at 0.3/0.5 it learned only the biases in
// 20 epochs), trained with MSE on MovieLens ratings. Without
// --data it writes and reads synthetic low-rank ratings in u.data's format.
#include <torch/torch.h>
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "examples/examples.h"
#include "nn/data.h"
#include "nn/layers.h"
#include "nn/model.h"

namespace dojo::examples {

nlohmann::json recommender(const ExampleOptions& o) {
  auto path = o.data;
  if (path.empty()) {
    path = o.out.empty()
               ? std::filesystem::temp_directory_path() / ("dojo-u-" + std::to_string(getpid()) + ".data")
               : o.out / "u.data";
    nn::data::write_synthetic_movielens(path, {.seed = o.seed});
    std::cout << "wrote synthetic ratings to " << path.string() << "\n";
  }
  auto r = nn::data::load_movielens(path);
  const auto n = r.rating.size(0);
  std::cout << n << " ratings by " << r.n_users << " users of " << r.n_items << " movies\n";

  // 90/10 split of shuffled ratings.
  auto perm = torch::randperm(n, torch::kLong);
  const auto n_test = n / 10;
  auto test_idx = perm.slice(0, 0, n_test), train_idx = perm.slice(0, n_test, n);
  if (o.limit > 0 && o.limit < train_idx.size(0)) train_idx = train_idx.slice(0, 0, o.limit);
  auto take = [&](const torch::Tensor& idx) {
    return nn::Dataset{{r.user.index_select(0, idx).unsqueeze(1), r.item.index_select(0, idx).unsqueeze(1)},
                       {r.rating.index_select(0, idx).unsqueeze(1)}};
  };
  auto train = take(train_idx), test = take(test_idx);

  const std::int64_t k = 50;  // embedding size
  auto user_in = nn::Input({1}, {.name = "user", .dtype = "int64"});
  auto movie_in = nn::Input({1}, {.name = "movie", .dtype = "int64"});
  auto u = nn::Embedding(r.n_users, k)(user_in);   // (1, 50)
  auto m = nn::Embedding(r.n_items, k)(movie_in);  // (1, 50)
  auto x = nn::Concatenate()({u, m});
  x = nn::Flatten()(x);
  x = nn::Dropout(0.1)(x);
  x = nn::Dense(70, {.activation = "relu"})(x);
  x = nn::Dropout(0.1)(x);
  auto rating = nn::Dense(1)(x);
  nn::Model model({user_in, movie_in}, rating, "recommender");
  model.summary();
  model.compile("adam", "mse", {"mae"});
  model.fit(train, {.batch_size = 64,
                    .epochs = o.epochs > 0 ? o.epochs : 20,
                    .verbose = o.verbose,
                    .validation_split = 0.05});

  const double mean = train.y[0].mean().item<double>();
  const double baseline = (test.y[0] - mean).square().mean().sqrt().item<double>();
  const double rmse = std::sqrt(model.evaluate(test, 256).at("loss"));
  std::cout << "test RMSE " << rmse << " vs " << baseline << " predicting the global mean ("
            << 100.0 * (1.0 - rmse / baseline) << "% lower)\n";
  if (!o.out.empty()) model.save(o.out / "model.dojo");
  return {{"test_rmse", rmse},
          {"global_mean_rmse", baseline},
          {"improvement", 1.0 - rmse / baseline},
          {"ratings", n}};
}

}  // namespace dojo::examples
