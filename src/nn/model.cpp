#include "nn/model.h"

#include <torch/torch.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/checkpoint.h"
#include "core/device.h"
#include "core/error.h"
#include "core/strings.h"
#include "nn/layers/core.h"

namespace dojo::nn {

namespace {

bool is_input_node(const Node& node) { return node.layer->type() == "InputLayer"; }

}  // namespace

class SequentialImpl : public ModelImpl {
 public:
  explicit SequentialImpl(std::string name) : ModelImpl("Sequential", std::move(name)) {}

  void add(const Layer& layer) {
    if (!layer) throw Error("model '" + name() + "': add() got an empty layer");
    stack_.push_back(layer);
    if (!input_.defined() && stack_.size() == 1 && !layer->declared_input_shape().empty()) {
      input_ = Input(layer->declared_input_shape());
    }
    if (input_.defined()) rebuild();
  }
  void add_input(const SymbolicTensor& input) {
    if (input_.defined() || !stack_.empty())
      throw Error("model '" + name() + "': an Input can only be added first");
    input_ = input;
  }
  void pop() {
    if (stack_.empty()) throw Error("model '" + name() + "': pop() on a model without layers");
    stack_.pop_back();
    if (input_.defined()) rebuild();
  }
  const std::vector<Layer>& stack() const { return stack_; }
  const SymbolicTensor& input() const { return input_; }

  nlohmann::json config() const override {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : stack_) layers.push_back({{"type", l->type()}, {"config", l->config()}});
    nlohmann::json j = {{"name", name()}, {"layers", layers}};
    if (input_.defined()) {
      j["input_shape"] = input_.shape();
      j["input_dtype"] = input_.node()->layer->config().at("dtype");
      j["input_name"] = input_.node()->layer->name();
    }
    return j;
  }

 protected:
  bool is_sequential() const override { return true; }
  std::vector<Shape> do_build(const std::vector<Shape>& shapes) override {
    if (!input_.defined()) {
      expect_inputs(shapes, 1);
      input_ = Input(shapes[0]);
      wire();
    }
    return ModelImpl::do_build(shapes);
  }
  void ensure_built(const std::vector<torch::Tensor>& x) override {
    if (input_.defined()) return;
    if (x.size() != 1) throw Error("model '" + name() + "' takes 1 input, got " + std::to_string(x.size()));
    if (stack_.empty()) throw Error("model '" + name() + "' has no layers");
    input_ = Input(Shape(x[0].sizes().begin() + 1, x[0].sizes().end()),
                   {.dtype = x[0].is_floating_point() ? "float32" : "int64"});
    rebuild();
  }

 private:
  void wire() {
    auto x = input_;
    for (const auto& l : stack_) x = l(x);
    set_graph({input_}, {x});
  }
  void rebuild() {
    wire();
    mark_unbuilt();
    build({input_.shape()});
    if (!device().is_cpu()) to(device());  // layers build their weights on the CPU
  }
  std::vector<Layer> stack_;
  SymbolicTensor input_;
};

std::int64_t Dataset::size() const { return x.empty() ? 0 : x[0].size(0); }

Dataset Dataset::index(const torch::Tensor& rows) const {
  Dataset d;
  for (const auto& t : x) d.x.push_back(t.index_select(0, rows));
  for (const auto& t : y) d.y.push_back(t.index_select(0, rows));
  if (sample_weight.defined()) d.sample_weight = sample_weight.index_select(0, rows);
  return d;
}

Dataset Dataset::to(c10::Device device) const {
  Dataset d;
  for (const auto& t : x) d.x.push_back(t.to(device));
  for (const auto& t : y) d.y.push_back(t.to(device));
  if (sample_weight.defined()) d.sample_weight = sample_weight.to(device);
  return d;
}

Dataset Dataset::slice(std::int64_t begin, std::int64_t end) const {
  Dataset d;
  for (const auto& t : x) d.x.push_back(t.slice(0, begin, end));
  for (const auto& t : y) d.y.push_back(t.slice(0, begin, end));
  if (sample_weight.defined()) d.sample_weight = sample_weight.slice(0, begin, end);
  return d;
}

ModelImpl::ModelImpl(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs,
                     std::string name)
    : LayerImpl("Functional", name.empty() ? unique_name("model") : std::move(name)) {
  set_graph(std::move(inputs), std::move(outputs));
  std::vector<Shape> shapes;
  for (const auto& i : inputs_) shapes.push_back(i.shape());
  build(shapes);
}

ModelImpl::ModelImpl(std::string type, std::string name)
    : LayerImpl(type, name.empty() ? unique_name(snake_case(type)) : std::move(name)) {}

ModelImpl::~ModelImpl() = default;

void ModelImpl::set_graph(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs) {
  if (inputs.empty() || outputs.empty())
    throw Error("model '" + name() + "' needs at least one input and one output");
  for (const auto& i : inputs) {
    if (!i.defined() || !is_input_node(*i.node())) {
      throw Error("model '" + name() + "': inputs must come from nn::Input, got the output of layer '" +
                  (i.defined() ? i.node()->layer->name() : std::string("?")) + "'");
    }
  }
  // Depth-first from the outputs gives the nodes in an order where every node follows its inputs.
  std::vector<std::shared_ptr<Node>> order;
  std::set<const Node*> done, active;
  std::function<void(const std::shared_ptr<Node>&)> visit = [&](const std::shared_ptr<Node>& node) {
    if (done.count(node.get())) return;
    if (active.count(node.get())) throw Error("model '" + name() + "': the layer graph has a cycle");
    active.insert(node.get());
    for (const auto& in : node->inputs) visit(in.node());
    active.erase(node.get());
    done.insert(node.get());
    order.push_back(node);
  };
  for (const auto& o : outputs) {
    if (!o.defined()) throw Error("model '" + name() + "': an output is undefined");
    visit(o.node());
  }
  for (const auto& node : order) {
    if (!is_input_node(*node)) continue;
    bool given = false;
    for (const auto& i : inputs) given = given || i.node() == node;
    if (!given) {
      throw Error("model '" + name() + "': graph disconnected: the outputs need input '" +
                  node->layer->name() + "', which is not among the model's inputs");
    }
  }
  // Input nodes run first, in the order of the model's inputs.
  std::vector<std::shared_ptr<Node>> sorted;
  for (const auto& i : inputs) {
    if (std::find(sorted.begin(), sorted.end(), i.node()) == sorted.end()) sorted.push_back(i.node());
  }
  for (const auto& node : order) {
    if (!is_input_node(*node)) sorted.push_back(node);
  }

  // Input layers hold no weights and are left out of the module tree, so weight files do not depend on
  // their generated names.
  for (const auto& l : layers_) {
    if (l->type() != "InputLayer") unregister_module(l->name());
  }
  layers_.clear();
  std::map<std::string, const LayerImpl*> by_name;
  for (const auto& node : sorted) {
    const auto& layer = node->layer;
    auto [it, fresh] = by_name.emplace(layer->name(), layer.get());
    if (!fresh) {
      if (it->second != layer.get())
        throw Error("model '" + name() + "': two layers are named '" + layer->name() + "'");
      continue;
    }
    layers_.emplace_back(layer);
    if (layer->type() != "InputLayer") register_module(layer->name(), layer);
  }
  inputs_ = std::move(inputs);
  outputs_ = std::move(outputs);
  order_ = std::move(sorted);
}

std::vector<Layer> ModelImpl::layers() const {
  if (!is_sequential()) return layers_;
  return static_cast<const SequentialImpl*>(this)->stack();
}

Layer ModelImpl::get_layer(const std::string& name) const {
  std::vector<std::string> names;
  for (const auto& l : layers()) {
    if (l->name() == name) return l;
    names.push_back(l->name());
  }
  throw Error("model '" + this->name() + "' has no layer '" + name + "'" + core::did_you_mean(name, names));
}

SymbolicTensor ModelImpl::output_of(const std::string& layer_name) const {
  auto layer = get_layer(layer_name);
  for (const auto& node : order_) {
    if (node->layer == layer.ptr()) return SymbolicTensor(node, 0);
  }
  throw Error("model '" + name() + "': layer '" + layer_name + "' is not in its graph");
}

std::vector<Shape> ModelImpl::do_build(const std::vector<Shape>& shapes) {
  expect_inputs(shapes, inputs_.size());
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    if (!shape_fits(inputs_[i].shape(), shapes[i])) {
      fail("input " + std::to_string(i) + " expects shape " + shape_str(inputs_[i].shape()) + ", got " +
           shape_str(shapes[i]));
    }
  }
  std::vector<Shape> out;
  for (const auto& o : outputs_) out.push_back(o.shape());
  return out;
}

std::vector<torch::Tensor> ModelImpl::do_call(const std::vector<torch::Tensor>& xs) {
  if (xs.size() != inputs_.size()) {
    fail("takes " + std::to_string(inputs_.size()) + " inputs, got " + std::to_string(xs.size()));
  }
  std::map<const Node*, Output> values;
  for (const auto& node : order_) {
    if (is_input_node(*node)) {
      for (std::size_t i = 0; i < inputs_.size(); ++i) {
        if (inputs_[i].node() == node) values[node.get()] = node->layer->call_masked({xs[i]}, {});
      }
      continue;
    }
    std::vector<torch::Tensor> args, masks;
    bool any_mask = false;
    for (const auto& in : node->inputs) {
      const auto& v = values.at(in.node().get());
      args.push_back(v.values.at(in.index()));
      masks.push_back(v.masks.empty() ? torch::Tensor() : v.masks.at(in.index()));
      any_mask = any_mask || masks.back().defined();
    }
    values[node.get()] = node->layer->call_masked(args, any_mask ? masks : std::vector<torch::Tensor>{});
  }
  std::vector<torch::Tensor> out;
  for (const auto& o : outputs_) out.push_back(values.at(o.node().get()).values.at(o.index()));
  return out;
}

std::vector<torch::Tensor> ModelImpl::predict_batch(const std::vector<torch::Tensor>& xs) {
  ensure_built(xs);
  return call(xs);
}

void ModelImpl::to(torch::Device device, torch::Dtype dtype, bool non_blocking) {
  torch::nn::Module::to(device, dtype, non_blocking);
  device_ = device;
  if (optimizer_) move_state(*optimizer_, device);
}

void ModelImpl::to(torch::Device device, bool non_blocking) {
  torch::nn::Module::to(device, non_blocking);
  device_ = device;
  if (optimizer_) move_state(*optimizer_, device);
}

void Model::to(const std::string& device) const { impl_->to(core::device(device)); }

std::vector<torch::Tensor> ModelImpl::get_weights() const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (const auto& p : parameters()) out.push_back(p.detach().clone());
  for (const auto& b : buffers()) out.push_back(b.detach().clone());
  return out;
}

void ModelImpl::set_weights(const std::vector<torch::Tensor>& weights) {
  torch::NoGradGuard no_grad;
  auto params = parameters();
  auto bufs = buffers();
  if (weights.size() != params.size() + bufs.size()) {
    fail("set_weights got " + std::to_string(weights.size()) + " tensors, expected " +
         std::to_string(params.size() + bufs.size()));
  }
  std::size_t i = 0;
  for (auto& p : params) p.copy_(weights[i++]);
  for (auto& b : bufs) b.copy_(weights[i++]);
}

std::int64_t ModelImpl::trainable_param_count() const { return count_trainable_params(); }
std::int64_t ModelImpl::non_trainable_param_count() const {
  return count_params() - count_trainable_params();
}

// Keras' print_summary: fields cut or padded to fixed column ends, rows separated by '_' and the
// header and last row by '='.
std::string ModelImpl::summary_string() const {
  if (!built()) {
    throw Error("model '" + name() +
                "' is not built yet: give the first layer an input_shape, add an Input, or "
                "call it on data first");
  }
  const bool functional = !is_sequential();
  const int width = functional ? 98 : 65;
  const std::vector<int> ends = functional ? std::vector<int>{32, 53, 65, 98} : std::vector<int>{29, 55, 65};
  std::ostringstream out;
  auto row = [&](const std::vector<std::string>& fields) {
    std::string line;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) line.back() = ' ';  // Keras overwrites the column's last character with a space
      line += fields[i];
      line.resize(static_cast<std::size_t>(ends[i]), ' ');  // cut or pad to the column's end
    }
    out << line << "\n";
  };
  auto shapes_str = [](const LayerImpl& l) {
    const auto& shapes = l.output_shapes();
    if (shapes.size() == 1 && l.type() != "InputLayer") return shape_str(shapes[0]);
    std::vector<std::string> parts;
    for (const auto& s : shapes) parts.push_back(shape_str(s));
    std::string list = "[";  // appended, not "[" + …: GCC 12 warns falsely (-Wstringop-overflow) on that
    list += core::join(parts, ", ");
    list += ']';
    return list;
  };
  out << "Model: \"" << name() << "\"\n" << std::string(width, '_') << "\n";
  if (functional) {
    row({"Layer (type)", "Output Shape", "Param #", "Connected to"});
  } else {
    row({"Layer (type)", "Output Shape", "Param #"});
  }
  out << std::string(width, '=') << "\n";
  const auto shown = layers();
  for (std::size_t li = 0; li < shown.size(); ++li) {
    const auto& l = shown[li];
    const auto head = l->name() + " (" + l->type() + ")";
    if (!functional) {
      row({head, shapes_str(*l), std::to_string(l->count_params())});
    } else {
      std::vector<std::string> connections;
      for (const auto& node : order_) {
        if (node->layer != l.ptr()) continue;
        for (const auto& in : node->inputs) {
          connections.push_back(in.node()->layer->name() + "[" + std::to_string(in.node()->index_in_layer) +
                                "][" + std::to_string(in.index()) + "]");
        }
      }
      row({head, shapes_str(*l), std::to_string(l->count_params()),
           connections.empty() ? "" : connections[0]});
      for (std::size_t c = 1; c < connections.size(); ++c) row({"", "", "", connections[c]});
    }
    out << std::string(width, li + 1 == shown.size() ? '=' : '_') << "\n";
  }
  if (shown.empty()) out << std::string(width, '=') << "\n";
  out << "Total params: " << core::thousands(count_params()) << "\n"
      << "Trainable params: " << core::thousands(trainable_param_count()) << "\n"
      << "Non-trainable params: " << core::thousands(non_trainable_param_count()) << "\n"
      << std::string(width, '_') << "\n";
  return out.str();
}

void ModelImpl::summary() const { std::cout << summary_string() << std::flush; }

nlohmann::json ModelImpl::config() const {
  std::map<const Node*, std::size_t> position;
  nlohmann::json layers = nlohmann::json::array(), nodes = nlohmann::json::array();
  for (const auto& l : layers_)
    layers.push_back({{"name", l->name()}, {"type", l->type()}, {"config", l->config()}});
  for (std::size_t i = 0; i < order_.size(); ++i) {
    position[order_[i].get()] = i;
    nlohmann::json inbound = nlohmann::json::array();
    for (const auto& in : order_[i]->inputs) inbound.push_back({position.at(in.node().get()), in.index()});
    nodes.push_back({{"layer", order_[i]->layer->name()}, {"inbound", inbound}});
  }
  auto refs = [&](const std::vector<SymbolicTensor>& ts) {
    nlohmann::json r = nlohmann::json::array();
    for (const auto& t : ts) r.push_back({position.at(t.node().get()), t.index()});
    return r;
  };
  return {{"name", name()},
          {"layers", layers},
          {"nodes", nodes},
          {"inputs", refs(inputs_)},
          {"outputs", refs(outputs_)}};
}

std::shared_ptr<ModelImpl> model_from_config(const std::string& type, const nlohmann::json& c) {
  try {
    if (type == "Sequential") {
      auto seq = std::make_shared<SequentialImpl>(c.at("name"));
      if (c.contains("input_shape")) {
        seq->add_input(Input(c.at("input_shape").get<Shape>(),
                             {.name = c.value("input_name", std::string()),
                              .dtype = c.value("input_dtype", std::string("float32"))}));
      }
      for (const auto& l : c.at("layers")) seq->add(layer_from_config(l.at("type"), l.at("config")));
      return seq;
    }
    if (type != "Functional")
      throw Error("unknown model type '" + type + "', expected Functional or Sequential");
    std::map<std::string, nlohmann::json> layer_configs;
    std::map<std::string, Layer> layers;
    for (const auto& l : c.at("layers")) {
      const std::string name = l.at("name"), ltype = l.at("type");
      layer_configs[name] = l;
      if (ltype != "InputLayer") layers[name] = layer_from_config(ltype, l.at("config"));
    }
    std::vector<std::vector<SymbolicTensor>> node_outputs;
    for (const auto& n : c.at("nodes")) {
      const std::string lname = n.at("layer");
      const auto& lc = layer_configs.at(lname);
      if (lc.at("type") == "InputLayer") {
        const auto& ic = lc.at("config");
        node_outputs.push_back(
            {Input(ic.at("shape").get<Shape>(), {.name = lname, .dtype = ic.at("dtype")})});
        continue;
      }
      std::vector<SymbolicTensor> args;
      for (const auto& ref : n.at("inbound")) {
        args.push_back(node_outputs.at(ref.at(0).get<std::size_t>()).at(ref.at(1).get<std::size_t>()));
      }
      node_outputs.push_back(layers.at(lname).call_multi(args));
    }
    auto refs = [&](const nlohmann::json& r) {
      std::vector<SymbolicTensor> out;
      for (const auto& ref : r)
        out.push_back(node_outputs.at(ref.at(0).get<std::size_t>()).at(ref.at(1).get<std::size_t>()));
      return out;
    };
    return std::make_shared<ModelImpl>(refs(c.at("inputs")), refs(c.at("outputs")), c.at("name"));
  } catch (const nlohmann::json::exception& e) {
    throw Error("model architecture: bad " + type + " config (" + e.what() + ")");
  } catch (const std::out_of_range& e) {
    throw Error("model architecture: a node refers to a layer or node that does not exist");
  }
}

void register_model_types() {
  for (const std::string type : {"Functional", "Sequential"}) {
    register_layer_type(type, [type](const nlohmann::json& c) { return Layer(model_from_config(type, c)); });
  }
}

namespace {
constexpr const char* kModelFormat = "dojo-keras-model";
}

const std::vector<double>& History::operator[](const std::string& key) const {
  const auto it = history.find(key);
  if (it == history.end()) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : history) keys.push_back(k);
    throw Error("history has no '" + key + "'" + core::did_you_mean(key, keys) +
                "; recorded: " + core::join(keys, ", "));
  }
  return it->second;
}

void ModelImpl::save(const std::filesystem::path& path) const {
  core::CheckpointWriter w;
  w.put("kind", std::string(kModelFormat));
  w.put("type", type());
  w.put("architecture", config().dump());
  w.put("weights", *this);
  w.save(path);
}

void ModelImpl::save_weights(const std::filesystem::path& path) const {
  core::CheckpointWriter w;
  w.put("kind", std::string("dojo-keras-weights"));
  w.put("weights", *this);
  w.save(path);
}

void ModelImpl::load_weights(const std::filesystem::path& path) {
  core::CheckpointReader r(path, device_);
  r.get("weights", *this);
}

Model load_model(const std::filesystem::path& path) {
  core::CheckpointReader r(path);
  if (!r.has("kind") && r.has("algo")) {  // an agent's checkpoint, from a run directory
    throw Error("'" + path.string() + "' is a " + r.get_string("algo") +
                " agent's checkpoint, not a Keras-style model: `dojo eval RUN_DIR` reads it");
  }
  if (!r.has("kind")) {
    throw Error("'" + path.string() +
                "' is a dojo checkpoint but not a Keras-style model: expected a file "
                "written by Model::save");
  }
  if (r.get_string("kind") != kModelFormat) {
    throw Error("'" + path.string() +
                "' holds weights only, not a whole model; build the model and call load_weights");
  }
  nlohmann::json arch;
  try {
    arch = nlohmann::json::parse(r.get_string("architecture"));
  } catch (const nlohmann::json::exception& e) {
    throw Error("'" + path.string() + "': the model architecture is not valid JSON (" + e.what() + ")");
  }
  auto model = model_from_config(r.get_string("type"), arch);
  r.get("weights", *model);
  return Model(model);
}

Model::Model(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs, std::string name)
    : impl_(std::make_shared<ModelImpl>(std::move(inputs), std::move(outputs), std::move(name))) {}

Sequential::Sequential(std::string name) : Model(std::make_shared<SequentialImpl>(std::move(name))) {}
Sequential::Sequential(std::vector<Layer> layers, std::string name) : Sequential(std::move(name)) {
  for (const auto& l : layers) add(l);
}
SequentialImpl& Sequential::seq() const { return static_cast<SequentialImpl&>(*impl_); }
void Sequential::add(const Layer& layer) const { seq().add(layer); }
void Sequential::add(const SymbolicTensor& input) const { seq().add_input(input); }
void Sequential::pop() const { seq().pop(); }

}  // namespace dojo::nn
