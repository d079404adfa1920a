#include "nn/layers/recurrent.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "nn/activations.h"

namespace dojo::nn {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RecurrentOptions, activation, recurrent_activation, use_bias,
                                                return_sequences, return_state, go_backwards,
                                                unit_forget_bias, kernel_initializer, recurrent_initializer,
                                                bias_initializer, input_shape, name)

namespace {

enum class Cell { kSimple, kLSTM, kGRU };

const char* cell_type(Cell c) { return c == Cell::kSimple ? "SimpleRNN" : c == Cell::kLSTM ? "LSTM" : "GRU"; }
std::int64_t gates(Cell c) { return c == Cell::kSimple ? 1 : c == Cell::kLSTM ? 4 : 3; }

class RecurrentImpl : public LayerImpl {
 public:
  RecurrentImpl(Cell cell, std::int64_t units, RecurrentOptions o)
      : LayerImpl(cell_type(cell), o.name), cell_(cell), units_(units), o_(std::move(o)) {
    if (units_ <= 0) fail("units must be positive, got " + std::to_string(units_));
    const auto where = "layer '" + name() + "'";
    check_activation(o_.activation, where);
    check_activation(o_.recurrent_activation, where);
    check_initializer(o_.kernel_initializer, where);
    check_initializer(o_.recurrent_initializer, where);
    check_initializer(o_.bias_initializer, where);
    set_declared_input_shape(o_.input_shape);
  }
  nlohmann::json config() const override {
    auto o = o_;
    o.name = name();
    nlohmann::json j = o;
    j["units"] = units_;
    return j;
  }
  const RecurrentOptions& options() const { return o_; }
  std::int64_t units() const { return units_; }

 protected:
  std::vector<Shape> do_build(const std::vector<Shape>& shapes) override {
    expect_inputs(shapes, 1);
    const auto& in = shapes[0];
    expect_rank(in, 2, "batch, time, features");
    if (in[1] < 0) fail("needs a known feature count, got " + shape_str(in));
    const auto g = gates(cell_), f = in[1];
    // Kernels are [in, gates × units] with the gates side by side in Keras' order (LSTM: i f c o,
    // GRU: z r h), each block initialised as its own matrix, as Keras does.
    kernel_ = add_weight("kernel", initialize(o_.kernel_initializer, {f, g * units_}, f, g * units_));
    std::vector<torch::Tensor> blocks;
    for (std::int64_t i = 0; i < g; ++i) {
      blocks.push_back(initialize(o_.recurrent_initializer, {units_, units_}, units_, units_));
    }
    recurrent_kernel_ = add_weight("recurrent_kernel", torch::cat(blocks, 1));
    if (o_.use_bias) {
      auto b = initialize(o_.bias_initializer, {cell_ == Cell::kGRU ? 2 : 1, g * units_}, units_, units_);
      if (cell_ == Cell::kLSTM && o_.unit_forget_bias) b.slice(1, units_, 2 * units_).fill_(1.0);
      bias_ = add_weight("bias", cell_ == Cell::kGRU ? b : b.squeeze(0));
    }
    std::vector<Shape> out;
    out.push_back(o_.return_sequences ? Shape{in[0], units_} : Shape{units_});
    if (o_.return_state) {
      out.push_back({units_});
      if (cell_ == Cell::kLSTM) out.push_back({units_});
    }
    return out;
  }

  std::vector<torch::Tensor> do_call(const std::vector<torch::Tensor>& inputs) override {
    const auto& x = inputs.at(0);  // [N, T, F]
    const auto n = x.size(0), steps = x.size(1);
    const auto mask = input_mask(0);  // [N, T] bool or undefined
    // The input projection for all steps in one product; only h · U stays inside the loop.
    auto xw = torch::matmul(x, kernel_);
    if (o_.use_bias) xw = xw + (cell_ == Cell::kGRU ? bias_[0] : bias_);
    auto h = torch::zeros({n, units_}, x.options());
    auto c = cell_ == Cell::kLSTM ? torch::zeros({n, units_}, x.options()) : torch::Tensor();
    std::vector<torch::Tensor> outputs(o_.return_sequences ? steps : 0);
    for (std::int64_t s = 0; s < steps; ++s) {
      const auto t = o_.go_backwards ? steps - 1 - s : s;
      auto z = xw.select(1, t);
      torch::Tensor h_new, c_new;
      if (cell_ == Cell::kSimple) {
        h_new = activate(o_.activation, torch::addmm(z, h, recurrent_kernel_));
      } else if (cell_ == Cell::kLSTM) {
        auto g = torch::addmm(z, h, recurrent_kernel_).chunk(4, 1);
        auto i = activate(o_.recurrent_activation, g[0]), f = activate(o_.recurrent_activation, g[1]);
        auto o = activate(o_.recurrent_activation, g[3]);
        c_new = f * c + i * activate(o_.activation, g[2]);
        h_new = o * activate(o_.activation, c_new);
      } else {
        auto inner = torch::matmul(h, recurrent_kernel_);
        if (o_.use_bias) inner = inner + bias_[1];
        auto xz = z.chunk(3, 1), hz = inner.chunk(3, 1);
        auto zg = activate(o_.recurrent_activation, xz[0] + hz[0]);
        auto r = activate(o_.recurrent_activation, xz[1] + hz[1]);
        auto hh = activate(o_.activation, xz[2] + r * hz[2]);
        h_new = zg * h + (1 - zg) * hh;
      }
      torch::Tensor out = h_new;
      if (mask.defined()) {
        auto m = mask.select(1, t).unsqueeze(1);
        h_new = torch::where(m, h_new, h);
        if (c.defined()) c_new = torch::where(m, c_new, c);
        out = h_new * m.to(h_new.dtype());
      }
      h = h_new;
      if (c.defined()) c = c_new;
      if (o_.return_sequences) outputs[s] = out;
    }
    std::vector<torch::Tensor> result{o_.return_sequences ? torch::stack(outputs, 1) : h};
    if (o_.return_state) {
      result.push_back(h);
      if (c.defined()) result.push_back(c);
    }
    return result;
  }
  std::vector<torch::Tensor> compute_masks(const std::vector<torch::Tensor>&,
                                           const std::vector<torch::Tensor>& masks, std::size_t n) override {
    std::vector<torch::Tensor> out(n);
    if (o_.return_sequences && !masks.empty()) out[0] = masks[0];
    return out;
  }

 private:
  Cell cell_;
  std::int64_t units_;
  RecurrentOptions o_;
  torch::Tensor kernel_, recurrent_kernel_, bias_;
};

nlohmann::json layer_json(const LayerImpl& layer) {
  return {{"type", layer.type()}, {"config", layer.config()}};
}

class TimeDistributedImpl : public LayerImpl {
 public:
  TimeDistributedImpl(Layer inner, std::string name)
      : LayerImpl("TimeDistributed", name.empty() ? unique_name("time_distributed") : std::move(name)),
        inner_(std::move(inner)) {
    register_module(inner_->name(), inner_.ptr());
    set_propagates_mask(true);
  }
  nlohmann::json config() const override { return {{"layer", layer_json(*inner_)}, {"name", name()}}; }

 protected:
  std::vector<Shape> do_build(const std::vector<Shape>& shapes) override {
    expect_inputs(shapes, 1);
    if (shapes[0].size() < 2) fail("expects input (batch, time, …), got " + shape_str(shapes[0]));
    Shape step(shapes[0].begin() + 1, shapes[0].end());
    auto inner_out = inner_->build({step});
    if (inner_out.size() != 1) fail("wraps a layer with " + std::to_string(inner_out.size()) + " outputs");
    Shape out{shapes[0][0]};
    out.insert(out.end(), inner_out[0].begin(), inner_out[0].end());
    return {out};
  }
  std::vector<torch::Tensor> do_call(const std::vector<torch::Tensor>& xs) override {
    const auto& x = xs[0];
    const auto n = x.size(0), t = x.size(1);
    auto y = inner_->forward(x.flatten(0, 1));
    auto shape = y.sizes().vec();
    shape[0] = t;
    shape.insert(shape.begin(), n);
    return {y.reshape(shape)};
  }

 private:
  Layer inner_;
};

class BidirectionalImpl : public LayerImpl {
 public:
  BidirectionalImpl(const Layer& layer, std::string merge_mode, std::string name)
      : LayerImpl("Bidirectional", name.empty() ? unique_name("bidirectional") : std::move(name)),
        merge_mode_(std::move(merge_mode)) {
    auto* rnn = dynamic_cast<RecurrentImpl*>(layer.ptr().get());
    if (rnn == nullptr) fail("wraps recurrent layers only, got " + layer->type());
    if (merge_mode_ != "concat" && merge_mode_ != "sum" && merge_mode_ != "mul" && merge_mode_ != "ave") {
      fail("unknown merge_mode '" + merge_mode_ + "', expected concat, sum, mul or ave");
    }
    if (rnn->options().return_state) fail("does not support return_state");
    // Two independent copies of the wrapped layer's configuration, one of them reversed in time.
    auto config = rnn->config();
    config["name"] = "forward_" + rnn->name();
    forward_ = layer_from_config(rnn->type(), config);
    config["name"] = "backward_" + rnn->name();
    config["go_backwards"] = !rnn->options().go_backwards;
    backward_ = layer_from_config(rnn->type(), config);
    register_module(forward_->name(), forward_.ptr());
    register_module(backward_->name(), backward_.ptr());
    return_sequences_ = rnn->options().return_sequences;
  }
  nlohmann::json config() const override {
    auto inner = layer_json(*forward_);
    inner["config"]["name"] = forward_->name().substr(std::string("forward_").size());
    return {{"layer", inner}, {"merge_mode", merge_mode_}, {"name", name()}};
  }

 protected:
  std::vector<Shape> do_build(const std::vector<Shape>& shapes) override {
    auto f = forward_->build(shapes);
    backward_->build(shapes);
    Shape out = f[0];
    if (merge_mode_ == "concat") out.back() *= 2;
    return {out};
  }
  std::vector<torch::Tensor> do_call(const std::vector<torch::Tensor>& xs) override {
    std::vector<torch::Tensor> masks{input_mask(0)};
    auto f = forward_->call_masked(xs, masks).values[0];
    auto b = backward_->call_masked(xs, masks).values[0];
    if (return_sequences_) b = b.flip(1);  // the backward layer's outputs run from the last step
    if (merge_mode_ == "concat") return {torch::cat({f, b}, -1)};
    if (merge_mode_ == "sum") return {f + b};
    if (merge_mode_ == "mul") return {f * b};
    return {(f + b) / 2};
  }
  std::vector<torch::Tensor> compute_masks(const std::vector<torch::Tensor>&,
                                           const std::vector<torch::Tensor>& masks, std::size_t n) override {
    std::vector<torch::Tensor> out(n);
    if (return_sequences_ && !masks.empty()) out[0] = masks[0];
    return out;
  }

 private:
  std::string merge_mode_;
  Layer forward_, backward_;
  bool return_sequences_ = false;
};

Layer make_rnn(Cell cell, std::int64_t units, RecurrentOptions o) {
  return Layer(std::make_shared<RecurrentImpl>(cell, units, std::move(o)));
}

}  // namespace

Layer SimpleRNN(std::int64_t units, RecurrentOptions o) {
  return make_rnn(Cell::kSimple, units, std::move(o));
}
Layer LSTM(std::int64_t units, RecurrentOptions o) { return make_rnn(Cell::kLSTM, units, std::move(o)); }
Layer GRU(std::int64_t units, RecurrentOptions o) { return make_rnn(Cell::kGRU, units, std::move(o)); }
Layer Bidirectional(const Layer& layer, std::string merge_mode, std::string name) {
  return Layer(std::make_shared<BidirectionalImpl>(layer, std::move(merge_mode), std::move(name)));
}
Layer TimeDistributed(const Layer& layer, std::string name) {
  return Layer(std::make_shared<TimeDistributedImpl>(layer, std::move(name)));
}

void register_recurrent_layers() {
  for (auto cell : {Cell::kSimple, Cell::kLSTM, Cell::kGRU}) {
    register_layer_type(cell_type(cell), [cell](const nlohmann::json& c) {
      return make_rnn(cell, c.at("units"), c.get<RecurrentOptions>());
    });
  }
  register_layer_type("TimeDistributed", [](const nlohmann::json& c) {
    const auto& l = c.at("layer");
    return TimeDistributed(layer_from_config(l.at("type"), l.at("config")), c.at("name"));
  });
  register_layer_type("Bidirectional", [](const nlohmann::json& c) {
    const auto& l = c.at("layer");
    return Bidirectional(layer_from_config(l.at("type"), l.at("config")), c.at("merge_mode"), c.at("name"));
  });
}

}  // namespace dojo::nn
