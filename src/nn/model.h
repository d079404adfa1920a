// Keras' models on LibTorch: the functional Model (a graph of layer calls from Inputs to outputs) and
// Sequential (a stack), both layers themselves so models nest; compile/fit/evaluate/predict,
// summary, and save/load of the whole model (architecture as JSON + weights, one file).
#pragma once
#include <torch/optim/optimizer.h>

#include <filesystem>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/export.h"
#include "nn/callbacks.h"
#include "nn/layer.h"
#include "nn/losses.h"
#include "nn/optim.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn {

class Progbar;

// Samples: one tensor per model input (batch first), one target tensor per output, optional
// per-sample weights.
struct Dataset {
  std::vector<torch::Tensor> x;
  std::vector<torch::Tensor> y = {};
  torch::Tensor sample_weight = {};
  std::int64_t size() const;
  bool defined() const { return !x.empty(); }
  Dataset index(const torch::Tensor& rows) const;
  Dataset slice(std::int64_t begin, std::int64_t end) const;
  Dataset to(c10::Device device) const;
};

// An optimizer by name with Keras' defaults ("adam": lr 1e-3, ε 1e-7), or configured.
struct Optimizer {
  Optimizer(const char* name) : Optimizer(std::string(name)) {}  // NOLINT
  Optimizer(const std::string& name);                            // NOLINT
  explicit Optimizer(OptimizerOptions options) : options(std::move(options)) {}
  OptimizerOptions options;
};
namespace optimizers {
Optimizer SGD(double learning_rate = 0.01, double momentum = 0.0, bool nesterov = false);
Optimizer RMSprop(double learning_rate = 1e-3, double rho = 0.9, double momentum = 0.0);
Optimizer Adam(double learning_rate = 1e-3, double beta_1 = 0.9, double beta_2 = 0.999,
               double epsilon = 1e-7);
Optimizer AdamW(double learning_rate = 1e-3, double weight_decay = 0.004);
Optimizer Adagrad(double learning_rate = 1e-3, double initial_accumulator_value = 0.1);
}  // namespace optimizers

struct FitOptions {
  std::int64_t batch_size = 32;
  std::int64_t epochs = 1;
  int verbose = 1;                // 0 silent, 1 progress bar, 2 one line per epoch
  double validation_split = 0.0;  // the last fraction of samples, taken before shuffling
  Dataset validation_data = {};   // overrides validation_split
  bool shuffle = true;
  std::vector<CallbackPtr> callbacks = {};
  std::map<std::int64_t, double> class_weight = {};  // weights samples by their (sparse or one-hot) class
  std::int64_t initial_epoch = 0;
};

struct History {
  std::vector<std::int64_t> epoch;
  std::map<std::string, std::vector<double>> history;
  // Keras' history.history["val_loss"], one value per epoch; throws dojo::Error naming the key and
  // the recorded ones when it is missing.
  const std::vector<double>& operator[](const std::string& key) const;
};

class ModelImpl : public LayerImpl {
 public:
  // A functional model from its inputs to its outputs.
  ModelImpl(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs, std::string name = "");
  ~ModelImpl() override;

  const std::vector<SymbolicTensor>& inputs() const { return inputs_; }
  const std::vector<SymbolicTensor>& outputs() const { return outputs_; }
  // Layers in the order they run (Input layers first for functional models).
  std::vector<Layer> layers() const;
  Layer get_layer(const std::string& name) const;  // throws dojo::Error naming the known layers
  // The output of a layer inside this model's graph (to build a model onto an inner layer).
  SymbolicTensor output_of(const std::string& layer_name) const;

  // Forward on real tensors (batch first, on the model's device), one per input; one result per output.
  std::vector<torch::Tensor> predict_batch(const std::vector<torch::Tensor>& xs);

  // Where the weights, the optimizer's state and each batch live. fit/evaluate/predict take data
  // anywhere (a batch at a time is moved to the device, so a dataset larger than the GPU's memory
  // trains) and predict returns its outputs on the CPU, as Keras returns host arrays. A Sequential
  // built later from its first data, or grown by add(), builds on this device too.
  c10::Device device() const { return device_; }
  using torch::nn::Module::to;
  void to(torch::Device device, torch::Dtype dtype, bool non_blocking = false) override;
  void to(torch::Device device, bool non_blocking = false) override;

  void compile(Optimizer optimizer, Loss loss, std::vector<Metric> metrics = {});
  // Several outputs: one loss each (or one for all), the total weighted by loss_weights; metrics
  // apply to every output. Logs then hold "<output layer>_loss" and "<output layer>_<metric>".
  void compile(Optimizer optimizer, std::vector<Loss> losses, std::vector<Metric> metrics,
               std::vector<double> loss_weights = {});
  History fit(const Dataset& data, FitOptions options = {});
  History fit(const torch::Tensor& x, const torch::Tensor& y, FitOptions options = {});
  Logs evaluate(const Dataset& data, std::int64_t batch_size = 32, int verbose = 0);
  Logs evaluate(const torch::Tensor& x, const torch::Tensor& y, std::int64_t batch_size = 32,
                int verbose = 0);
  // Outputs for all samples, in inference mode (dropout off, moving statistics); the first output.
  torch::Tensor predict(const std::vector<torch::Tensor>& x, std::int64_t batch_size = 32);
  torch::Tensor predict(const torch::Tensor& x, std::int64_t batch_size = 32);
  // One gradient step; returns the loss and metrics of that batch.
  Logs train_on_batch(const std::vector<torch::Tensor>& x, const torch::Tensor& y);

  // Training state, for callbacks.
  bool stop_training = false;
  double learning_rate() const;
  void set_learning_rate(double lr);
  bool compiled() const { return !losses_.empty(); }
  // Copies of every parameter and buffer, and their restoration (EarlyStopping's best weights).
  std::vector<torch::Tensor> get_weights() const;
  void set_weights(const std::vector<torch::Tensor>& weights);

  // Keras' table: Layer (type), Output Shape, Param # (and Connected to for functional models).
  std::string summary_string() const;
  void summary() const;
  std::int64_t trainable_param_count() const;
  std::int64_t non_trainable_param_count() const;

  // The whole model: architecture JSON and weights in one file (written atomically).
  void save(const std::filesystem::path& path) const;
  void save_weights(const std::filesystem::path& path) const;
  // Throws dojo::Error when the file is missing or corrupt, or a weight is absent or of another shape.
  void load_weights(const std::filesystem::path& path);

  nlohmann::json config() const override;

 protected:
  ModelImpl(std::string type, std::string name);  // Sequential: the graph comes later
  void set_graph(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs);
  virtual bool is_sequential() const { return false; }
  std::vector<Shape> do_build(const std::vector<Shape>& input_shapes) override;
  std::vector<torch::Tensor> do_call(const std::vector<torch::Tensor>& inputs) override;
  // Sequential builds itself from the first data when no input shape was declared.
  virtual void ensure_built(const std::vector<torch::Tensor>& /*x*/) {}
  void check_data(const Dataset& data, const std::string& what) const;

 private:
  Logs run_epoch(const Dataset& train, const FitOptions& o, Progbar& bar,
                 std::vector<CallbackPtr>& callbacks);
  Logs test_step_all(const Dataset& data, std::int64_t batch_size);
  struct StepResult {
    torch::Tensor total;               // [batch] weighted loss, differentiable
    std::vector<torch::Tensor> terms;  // batch sums of the logged values in term_names() order
  };
  StepResult step_losses(const Dataset& batch, bool train);
  std::vector<std::string> term_names() const;
  void check_losses() const;

  std::vector<SymbolicTensor> inputs_, outputs_;
  std::vector<std::shared_ptr<Node>> order_;  // nodes in topological order
  std::vector<Layer> layers_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  OptimizerOptions optimizer_options_;
  std::vector<Loss> losses_;
  std::vector<double> loss_weights_;
  std::vector<Metric> metrics_;
  c10::Device device_ = c10::kCPU;
  friend class Sequential;
};

// The handle most code uses: copies share one model.
class Model {
 public:
  Model(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs, std::string name = "");
  Model(SymbolicTensor input, SymbolicTensor output, std::string name = "")
      : Model(std::vector<SymbolicTensor>{std::move(input)}, std::vector<SymbolicTensor>{std::move(output)},
              std::move(name)) {}
  Model(SymbolicTensor input, std::vector<SymbolicTensor> outputs, std::string name = "")
      : Model(std::vector<SymbolicTensor>{std::move(input)}, std::move(outputs), std::move(name)) {}
  Model(std::vector<SymbolicTensor> inputs, SymbolicTensor output, std::string name = "")
      : Model(std::move(inputs), std::vector<SymbolicTensor>{std::move(output)}, std::move(name)) {}
  explicit Model(std::shared_ptr<ModelImpl> impl) : impl_(std::move(impl)) {}

  ModelImpl* operator->() const { return impl_.get(); }
  ModelImpl& operator*() const { return *impl_; }
  const std::shared_ptr<ModelImpl>& ptr() const { return impl_; }
  // A model is a layer: call it on symbolic tensors to nest it.
  Layer as_layer() const { return Layer(impl_); }
  SymbolicTensor operator()(const SymbolicTensor& x) const { return as_layer()(x); }
  SymbolicTensor operator()(const std::vector<SymbolicTensor>& xs) const { return as_layer()(xs); }
  torch::Tensor operator()(const torch::Tensor& x) const { return impl_->forward(x); }

  void compile(Optimizer optimizer, Loss loss, std::vector<Metric> metrics = {}) const {
    impl_->compile(std::move(optimizer), std::move(loss), std::move(metrics));
  }
  void compile(Optimizer optimizer, std::vector<Loss> losses, std::vector<Metric> metrics,
               std::vector<double> loss_weights = {}) const {
    impl_->compile(std::move(optimizer), std::move(losses), std::move(metrics), std::move(loss_weights));
  }
  History fit(const torch::Tensor& x, const torch::Tensor& y, FitOptions o = {}) const {
    return impl_->fit(x, y, std::move(o));
  }
  History fit(const Dataset& d, FitOptions o = {}) const { return impl_->fit(d, std::move(o)); }
  Logs evaluate(const torch::Tensor& x, const torch::Tensor& y, std::int64_t batch_size = 32) const {
    return impl_->evaluate(x, y, batch_size);
  }
  Logs evaluate(const Dataset& d, std::int64_t batch_size = 32) const {
    return impl_->evaluate(d, batch_size);
  }
  torch::Tensor predict(const torch::Tensor& x, std::int64_t batch_size = 32) const {
    return impl_->predict(x, batch_size);
  }
  torch::Tensor predict(const std::vector<torch::Tensor>& x, std::int64_t batch_size = 32) const {
    return impl_->predict(x, batch_size);
  }
  // Moves the model (weights and optimizer state) to "cpu", "cuda", "cuda:N" or "auto"
  // (core/device.h); throws dojo::Error for a device this LibTorch cannot use.
  void to(const std::string& device) const;
  c10::Device device() const { return impl_->device(); }
  void summary() const { impl_->summary(); }
  std::string summary_string() const { return impl_->summary_string(); }
  Layer get_layer(const std::string& name) const { return impl_->get_layer(name); }
  void save(const std::filesystem::path& p) const { impl_->save(p); }
  void save_weights(const std::filesystem::path& p) const { impl_->save_weights(p); }
  void load_weights(const std::filesystem::path& p) const { impl_->load_weights(p); }
  std::int64_t count_params() const { return impl_->count_params(); }
  const std::string& name() const { return impl_->name(); }

 protected:
  std::shared_ptr<ModelImpl> impl_;
};

class SequentialImpl;
// A stack of layers. The input shape comes from the first layer's `input_shape`, from an Input added
// first, or from the first data.
class Sequential : public Model {
 public:
  explicit Sequential(std::string name = "");
  Sequential(std::vector<Layer> layers, std::string name = "");
  void add(const Layer& layer) const;
  void add(const SymbolicTensor& input) const;  // Keras' model.add(Input(shape))
  void pop() const;

 private:
  SequentialImpl& seq() const;
};

// A model saved with save(), rebuilt without the code that built it.
Model load_model(const std::filesystem::path& path);
// Rebuilds a model (functional or sequential) from config().
std::shared_ptr<ModelImpl> model_from_config(const std::string& type, const nlohmann::json& config);

}  // namespace dojo::nn

DOJO_PUBLIC_END
