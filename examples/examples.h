// The seed's example models, runnable as `dojo example NAME`. Each reads like the Keras script it
// comes from, prints what that script prints, and writes its results under --out when given.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dojo::examples {

struct ExampleOptions {
  std::uint64_t seed = 0;
  std::int64_t epochs = 0;     // 0: the example's own
  std::int64_t n_threads = 0;  // 0: all cores
  std::int64_t limit = 0;      // train on at most this many samples (0: all), for quick runs
  int verbose = 1;             // Keras' fit verbosity
  std::filesystem::path out;   // results (summary.json, model, PNGs) go here when set
  std::filesystem::path data;  // the example's input file, where it takes one
};

struct Example {
  std::string name, description;
  // Returns the figures the example reports (also written to out/summary.json).
  std::function<nlohmann::json(const ExampleOptions&)> run;
  // Trains only through nn's fit, so it runs data parallel as one rank of a process group.
  bool data_parallel = false;
};

const std::vector<Example>& all();
// Throws dojo::Error naming the known examples.
const Example& find(const std::string& name);
// Seeds, sets threads, runs, writes summary.json. In a process group of several ranks only a
// data_parallel example runs (others throw dojo::Error naming those that do).
nlohmann::json run(const std::string& name, const ExampleOptions& options);

nlohmann::json seed_mlp(const ExampleOptions& o);
nlohmann::json seed_functional(const ExampleOptions& o);
nlohmann::json fashion_cnn(const ExampleOptions& o);
nlohmann::json lstm_addition(const ExampleOptions& o);
nlohmann::json recommender(const ExampleOptions& o);
nlohmann::json transfer(const ExampleOptions& o);
nlohmann::json vae(const ExampleOptions& o);
nlohmann::json vae_pixyz(const ExampleOptions& o);
nlohmann::json cvae(const ExampleOptions& o);
nlohmann::json m2(const ExampleOptions& o);
nlohmann::json m2_pixels(const ExampleOptions& o);
nlohmann::json gan(const ExampleOptions& o);
nlohmann::json draw(const ExampleOptions& o);
nlohmann::json tdvae(const ExampleOptions& o);
nlohmann::json gqn(const ExampleOptions& o);
nlohmann::json rbm(const ExampleOptions& o);
nlohmann::json dbn(const ExampleOptions& o);
nlohmann::json videopose(const ExampleOptions& o);

}  // namespace dojo::examples
