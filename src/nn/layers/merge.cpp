#include "nn/layers/merge.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace dojo::nn {

namespace {

enum class Op { kAdd, kSubtract, kMultiply, kAverage, kMaximum, kMinimum };

const char* op_type(Op op) {
  switch (op) {
    case Op::kAdd:
      return "Add";
    case Op::kSubtract:
      return "Subtract";
    case Op::kMultiply:
      return "Multiply";
    case Op::kAverage:
      return "Average";
    case Op::kMaximum:
      return "Maximum";
    case Op::kMinimum:
      return "Minimum";
  }
  return "";
}

// Masks of merged inputs combine: a step holds data only where every input has it.
std::vector<torch::Tensor> merge_masks(const std::vector<torch::Tensor>& masks) {
  torch::Tensor m;
  for (const auto& x : masks) {
    if (x.defined()) m = m.defined() ? (m & x) : x;
  }
  return {m};
}

class ElementwiseImpl : public LayerImpl {
 public:
  ElementwiseImpl(Op op, std::string name) : LayerImpl(op_type(op), std::move(name)), op_(op) {}
  nlohmann::json config() const override { return {{"name", name()}}; }

 protected:
  std::vector<Shape> do_build(const std::vector<Shape>& shapes) override {
    if (op_ == Op::kSubtract) {
      expect_inputs(shapes, 2);
    } else if (shapes.size() < 2) {
      fail("expects at least 2 inputs, got " + std::to_string(shapes.size()));
    }
    Shape out = shapes[0];
    for (std::size_t i = 1; i < shapes.size(); ++i) {
      if (!shape_fits(shapes[0], shapes[i])) {
        fail("inputs must have one shape, got " + shape_str(shapes[0]) + " and " + shape_str(shapes[i]));
      }
      for (std::size_t a = 0; a < out.size(); ++a) out[a] = std::max(out[a], shapes[i][a]);
    }
    return {out};
  }
  std::vector<torch::Tensor> do_call(const std::vector<torch::Tensor>& xs) override {
    torch::Tensor y = xs[0];
    for (std::size_t i = 1; i < xs.size(); ++i) {
      switch (op_) {
        case Op::kAdd:
        case Op::kAverage:
          y = y + xs[i];
          break;
        case Op::kSubtract:
          y = y - xs[i];
          break;
        case Op::kMultiply:
          y = y * xs[i];
          break;
        case Op::kMaximum:
          y = torch::maximum(y, xs[i]);
          break;
        case Op::kMinimum:
          y = torch::minimum(y, xs[i]);
          break;
      }
    }
    if (op_ == Op::kAverage) y = y / static_cast<double>(xs.size());
    return {y};
  }
  std::vector<torch::Tensor> compute_masks(const std::vector<torch::Tensor>&,
                                           const std::vector<torch::Tensor>& masks, std::size_t) override {
    return merge_masks(masks);
  }

 private:
  Op op_;
};

// Keras' axis counts the batch: 1 is the first data axis, -1 the last. Returns the data axis (0-based).
std::int64_t data_axis(std::int64_t axis, std::size_t rank, const LayerImpl& layer, const Shape& shape) {
  const auto full = static_cast<std::int64_t>(rank) + 1;
  const auto a = axis < 0 ? axis + full : axis;
  if (a < 1 || a >= full) {
    throw Error("layer '" + layer.name() + "': axis " + std::to_string(axis) +
                " out of range for input shape " + shape_str(shape));
  }
  return a - 1;
}

class ConcatenateImpl : public LayerImpl {
 public:
  ConcatenateImpl(std::int64_t axis, std::string name)
      : LayerImpl("Concatenate", std::move(name)), axis_(axis) {}
  nlohmann::json config() const override { return {{"axis", axis_}, {"name", name()}}; }

 protected:
  std::vector<Shape> do_build(const std::vector<Shape>& shapes) override {
    if (shapes.size() < 2) fail("expects at least 2 inputs, got " + std::to_string(shapes.size()));
    const auto a = data_axis(axis_, shapes[0].size(), *this, shapes[0]);
    Shape out = shapes[0];
    for (std::size_t i = 1; i < shapes.size(); ++i) {
      bool fits = shapes[i].size() == out.size();
      for (std::size_t d = 0; fits && d < out.size(); ++d) {
        fits = static_cast<std::int64_t>(d) == a || shapes[i][d] < 0 || out[d] < 0 || shapes[i][d] == out[d];
      }
      if (!fits) {
        fail("inputs must match except on the concatenation axis, got " + shape_str(shapes[0]) + " and " +
             shape_str(shapes[i]));
      }
      out[a] = (out[a] < 0 || shapes[i][a] < 0) ? kNone : out[a] + shapes[i][a];
    }
    axis0_ = a + 1;
    return {out};
  }
  std::vector<torch::Tensor> do_call(const std::vector<torch::Tensor>& xs) override {
    return {torch::cat(xs, axis0_)};
  }
  std::vector<torch::Tensor> compute_masks(const std::vector<torch::Tensor>&,
                                           const std::vector<torch::Tensor>& masks, std::size_t) override {
    return axis0_ == static_cast<std::int64_t>(input_shapes()[0].size()) ? merge_masks(masks)
                                                                         : std::vector<torch::Tensor>(1);
  }

 private:
  std::int64_t axis_, axis0_ = 1;
};

class DotImpl : public LayerImpl {
 public:
  DotImpl(std::vector<std::int64_t> axes, bool normalize, std::string name)
      : LayerImpl("Dot", std::move(name)), axes_(std::move(axes)), normalize_(normalize) {
    if (axes_.size() == 1) axes_.push_back(axes_[0]);
    if (axes_.size() != 2) fail("axes needs 1 or 2 values, got " + std::to_string(axes_.size()));
  }
  nlohmann::json config() const override {
    return {{"axes", axes_}, {"normalize", normalize_}, {"name", name()}};
  }

 protected:
  std::vector<Shape> do_build(const std::vector<Shape>& shapes) override {
    expect_inputs(shapes, 2);
    a_ = data_axis(axes_[0], shapes[0].size(), *this, shapes[0]);
    b_ = data_axis(axes_[1], shapes[1].size(), *this, shapes[1]);
    const auto da = shapes[0][a_], db = shapes[1][b_];
    if (da >= 0 && db >= 0 && da != db) {
      fail("cannot take the dot product of " + shape_str(shapes[0]) + " and " + shape_str(shapes[1]) +
           " along axes " + std::to_string(axes_[0]) + ", " + std::to_string(axes_[1]));
    }
    Shape out;
    for (std::size_t d = 0; d < shapes[0].size(); ++d) {
      if (static_cast<std::int64_t>(d) != a_) out.push_back(shapes[0][d]);
    }
    for (std::size_t d = 0; d < shapes[1].size(); ++d) {
      if (static_cast<std::int64_t>(d) != b_) out.push_back(shapes[1][d]);
    }
    if (out.empty()) out.push_back(1);
    return {out};
  }
  std::vector<torch::Tensor> do_call(const std::vector<torch::Tensor>& xs) override {
    auto x = xs[0], y = xs[1];
    if (normalize_) {
      x = torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().dim(a_ + 1));
      y = torch::nn::functional::normalize(y, torch::nn::functional::NormalizeFuncOptions().dim(b_ + 1));
    }
    const auto n = x.size(0);
    auto xm = x.movedim(a_ + 1, -1);  // [N, P..., d]
    auto ym = y.movedim(b_ + 1, 1);   // [N, d, Q...]
    std::vector<std::int64_t> out_shape{n};
    for (std::int64_t d = 1; d < xm.dim() - 1; ++d) out_shape.push_back(xm.size(d));
    for (std::int64_t d = 2; d < ym.dim(); ++d) out_shape.push_back(ym.size(d));
    auto z = torch::bmm(xm.reshape({n, -1, xm.size(-1)}), ym.reshape({n, ym.size(1), -1}));
    if (out_shape.size() == 1) out_shape.push_back(1);
    return {z.reshape(out_shape)};
  }

 private:
  std::vector<std::int64_t> axes_;
  bool normalize_;
  std::int64_t a_ = 0, b_ = 0;
};

}  // namespace

Layer Add(std::string n) { return Layer(std::make_shared<ElementwiseImpl>(Op::kAdd, std::move(n))); }
Layer Subtract(std::string n) {
  return Layer(std::make_shared<ElementwiseImpl>(Op::kSubtract, std::move(n)));
}
Layer Multiply(std::string n) {
  return Layer(std::make_shared<ElementwiseImpl>(Op::kMultiply, std::move(n)));
}
Layer Average(std::string n) { return Layer(std::make_shared<ElementwiseImpl>(Op::kAverage, std::move(n))); }
Layer Maximum(std::string n) { return Layer(std::make_shared<ElementwiseImpl>(Op::kMaximum, std::move(n))); }
Layer Minimum(std::string n) { return Layer(std::make_shared<ElementwiseImpl>(Op::kMinimum, std::move(n))); }
Layer Concatenate(std::int64_t axis, std::string n) {
  return Layer(std::make_shared<ConcatenateImpl>(axis, std::move(n)));
}
Layer Dot(std::vector<std::int64_t> axes, bool normalize, std::string n) {
  return Layer(std::make_shared<DotImpl>(std::move(axes), normalize, std::move(n)));
}

void register_merge_layers() {
  for (auto op : {Op::kAdd, Op::kSubtract, Op::kMultiply, Op::kAverage, Op::kMaximum, Op::kMinimum}) {
    register_layer_type(op_type(op), [op](const nlohmann::json& c) {
      return Layer(std::make_shared<ElementwiseImpl>(op, c.at("name")));
    });
  }
  register_layer_type("Concatenate",
                      [](const nlohmann::json& c) { return Concatenate(c.at("axis"), c.at("name")); });
  register_layer_type(
      "Dot", [](const nlohmann::json& c) { return Dot(c.at("axes"), c.at("normalize"), c.at("name")); });
}

}  // namespace dojo::nn
