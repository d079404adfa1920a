// `dojo example`, `dojo zoo` and `dojo model`: the seed's example models, the model zoo and saved
// Keras-style models.
#include <fmt/format.h>
#include <torch/torch.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/checkpoint.h"
#include "core/distributed.h"
#include "core/error.h"
#include "core/strings.h"
#include "examples/examples.h"
#include "nn/model.h"
#include "nn/zoo.h"

namespace dojo::app {

namespace {

int cmd_example(const std::string& name, const examples::ExampleOptions& o) {
  if (name.empty()) {
    for (const auto& e : examples::all()) std::cout << fmt::format("{:<16} {}\n", e.name, e.description);
    return 0;
  }
  const auto result = examples::run(name, o);
  std::cout << result.dump(2) << "\n";
  return 0;
}

// Loads a saved model without the code that built it and runs it on the tensors x0, x1, … of a
// checkpoint file, writing its first output as "y".
int cmd_model_predict(const std::string& model_path, const std::string& input, const std::string& output,
                      const std::string& device) {
  auto model = nn::load_model(model_path);
  model.to(device);
  core::CheckpointReader in(input);
  std::vector<torch::Tensor> xs;
  for (std::size_t i = 0; i < model->inputs().size(); ++i)
    xs.push_back(in.get_tensor("x" + std::to_string(i)));
  auto y = model.predict(xs);
  core::CheckpointWriter out;
  out.put("y", y);
  out.save(output);
  std::cout << "wrote " << output << ": y " << y.sizes() << "\n";
  return 0;
}

int cmd_zoo_list() {
  for (const auto& e : nn::zoo::entries()) {
    auto model = nn::zoo::build(e.name);
    std::cout << fmt::format("{:<10} {:>11} params  {}\n", e.name,
                             core::thousands(model->trainable_param_count()), e.description);
  }
  return 0;
}

struct ExampleArgs {
  std::string name, out, data;
  examples::ExampleOptions options;
};

struct ModelArgs {
  std::string zoo_name, path, input, output, device = "auto";
};

}  // namespace

std::vector<Command> add_model_commands(CLI::App& app) {
  auto x = std::make_shared<ExampleArgs>();
  auto* example = app.add_subcommand("example", "Run one of the seed's example models (no name: list them)");
  example->add_option("name", x->name, "Example name");
  add_count(example, "--epochs", x->options.epochs, "Epochs (default: the example's own)");
  example->add_option("--seed", x->options.seed, "Seed (default 0)");
  example->add_option("--threads", x->options.n_threads, "Threads (default: all cores)");
  add_count(example, "--limit", x->options.limit, "Train on at most this many samples");
  example
      ->add_option("--verbose", x->options.verbose,
                   "0 silent, 1 progress bar, 2 one line per epoch (default 1)")
      ->check(CLI::Range(0, 2));
  example->add_option("--out", x->out, "Folder for summary.json, the saved model and images");
  example->add_option("--data", x->data, "Input file or folder, where the example reads one");

  auto m = std::make_shared<ModelArgs>();
  auto* zoo = app.add_subcommand("zoo", "The model zoo");
  zoo->require_subcommand(1);
  auto* zoo_list = zoo->add_subcommand("list", "List the zoo's models with their trainable parameter counts");
  auto* zoo_summary = zoo->add_subcommand("summary", "Print a zoo model's summary");
  zoo_summary->add_option("name", m->zoo_name, "Model name")->required();

  auto* model_cmd = app.add_subcommand("model", "Saved Keras-style models");
  model_cmd->require_subcommand(1);
  auto* model_summary = model_cmd->add_subcommand("summary", "Print a saved model's summary");
  auto* model_predict =
      model_cmd->add_subcommand("predict", "Run a saved model on tensors from a checkpoint file");
  model_summary->add_option("model", m->path, "Model file (written by save)")->required();
  model_predict->add_option("model", m->path, "Model file (written by save)")->required();
  model_predict->add_option("--input", m->input, "Checkpoint with tensors x0, x1, …")->required();
  model_predict->add_option("--output", m->output, "Checkpoint to write, with tensor y")->required();
  model_predict->add_option("--device", m->device, "cpu, cuda, cuda:N or auto (default auto)");

  return {{example,
           [x, example] {
             // The library reads 0 as "the example's own"; on the command line 0 epochs is a mistake.
             if (example->count("--epochs") && x->options.epochs <= 0)
               throw Error("--epochs " + std::to_string(x->options.epochs) + ": expected a positive number");
             // Data parallel: rank 0 alone writes the results.
             x->options.out = core::dist_rank() == 0 ? x->out : "";
             x->options.data = x->data;
             return cmd_example(x->name, x->options);
           },
           true},
          {zoo_list, [] { return cmd_zoo_list(); }},
          {zoo_summary,
           [m] {
             nn::zoo::build(m->zoo_name).summary();
             return 0;
           }},
          {model_summary,
           [m] {
             nn::load_model(m->path).summary();
             return 0;
           }},
          {model_predict, [m] { return cmd_model_predict(m->path, m->input, m->output, m->device); }}};
}

}  // namespace dojo::app
