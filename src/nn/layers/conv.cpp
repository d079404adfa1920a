#include "nn/layers/conv.h"

#include <torch/torch.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "nn/activations.h"

namespace dojo::nn {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ConvOptions, strides, padding, dilation_rate, activation,
                                                use_bias, kernel_initializer, bias_initializer, input_shape,
                                                name)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PoolOptions, strides, padding, input_shape, name)

namespace {

// Data stays channels-last between layers, as Keras shows it; LibTorch's kernels want channels
// first. The permuted view of a channels-last tensor is a channels_last-strided NCHW tensor, which
// LibTorch's CPU convolution and pooling take as it is, so neither permutation copies.
torch::Tensor to_channels_first(const torch::Tensor& x) {
  return x.dim() == 4 ? x.permute({0, 3, 1, 2}) : x.permute({0, 2, 1});
}
torch::Tensor to_channels_last(const torch::Tensor& x) {
  return x.dim() == 4 ? x.permute({0, 2, 3, 1}) : x.permute({0, 2, 1});
}

std::vector<std::int64_t> per_axis(const std::vector<std::int64_t>& v, std::size_t rank,
                                   const std::string& what, const LayerImpl& layer) {
  if (v.size() != 1 && v.size() != rank) {
    throw Error("layer '" + layer.name() + "': " + what + " needs 1 or " + std::to_string(rank) +
                " values, got " + std::to_string(v.size()));
  }
  for (auto x : v) {
    if (x <= 0)
      throw Error("layer '" + layer.name() + "': " + what + " must be positive, got " + std::to_string(x));
  }
  return v.size() == 1 ? std::vector<std::int64_t>(rank, v[0]) : v;
}

void check_padding(const std::string& padding, const LayerImpl& layer) {
  if (padding != "valid" && padding != "same") {
    throw Error("layer '" + layer.name() + "': unknown padding '" + padding + "', expected valid or same");
  }
}

// TensorFlow's "same": the output has ceil(in / stride) positions; the padding that takes, with the
// odd one at the end.
std::pair<std::int64_t, std::int64_t> same_padding(std::int64_t in, std::int64_t k, std::int64_t s,
                                                   std::int64_t d) {
  const std::int64_t out = (in + s - 1) / s;
  const std::int64_t total = std::max<std::int64_t>((out - 1) * s + (k - 1) * d + 1 - in, 0);
  return {total / 2, total - total / 2};
}

std::int64_t valid_out(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t d) {
  if (in < 0) return kNone;
  return (in - (k - 1) * d - 1) / s + 1;
}

// Pads the spatial axes of a channels-first tensor; pads holds (before, after) per axis.
torch::Tensor pad_spatial(const torch::Tensor& x,
                          const std::vector<std::pair<std::int64_t, std::int64_t>>& pads, double value) {
  std::vector<std::int64_t> flat;  // constant_pad_nd wants the last axis first
  for (auto it = pads.rbegin(); it != pads.rend(); ++it) {
    flat.push_back(it->first);
    flat.push_back(it->second);
  }
  return torch::constant_pad_nd(x, flat, value);
}

class ConvImpl : public UnaryLayer {
 public:
  ConvImpl(std::string type, std::size_t rank, bool transpose, std::int64_t filters,
           std::vector<std::int64_t> kernel, ConvOptions o)
      : UnaryLayer(type, o.name), rank_(rank), transpose_(transpose), filters_(filters), o_(std::move(o)) {
    if (filters_ <= 0) fail("filters must be positive, got " + std::to_string(filters_));
    kernel_ = per_axis(kernel, rank_, "kernel_size", *this);
    strides_ = per_axis(o_.strides, rank_, "strides", *this);
    dilation_ = per_axis(o_.dilation_rate, rank_, "dilation_rate", *this);
    check_padding(o_.padding, *this);
    check_activation(o_.activation, "layer '" + name() + "'");
    check_initializer(o_.kernel_initializer, "layer '" + name() + "'");
    check_initializer(o_.bias_initializer, "layer '" + name() + "'");
    set_declared_input_shape(o_.input_shape);
  }
  nlohmann::json config() const override {
    auto o = o_;
    o.name = name();
    nlohmann::json j = o;
    j["filters"] = filters_;
    j["kernel_size"] = kernel_;
    return j;
  }

 protected:
  Shape build_one(const Shape& input) override {
    expect_rank(input, rank_ + 1, rank_ == 1 ? "batch, steps, channels" : "batch, height, width, channels");
    const auto in_ch = input.back();
    if (in_ch < 0) fail("needs a known channel count, got " + shape_str(input));
    const std::int64_t receptive = c10::multiply_integers(kernel_);
    std::vector<std::int64_t> wshape =
        transpose_ ? std::vector<std::int64_t>{in_ch, filters_} : std::vector<std::int64_t>{filters_, in_ch};
    wshape.insert(wshape.end(), kernel_.begin(), kernel_.end());
    weight_ = add_weight("kernel",
                         initialize(o_.kernel_initializer, wshape, receptive * in_ch, receptive * filters_));
    if (o_.use_bias)
      bias_ = add_weight(
          "bias", initialize(o_.bias_initializer, {filters_}, receptive * in_ch, receptive * filters_));
    Shape out;
    for (std::size_t a = 0; a < rank_; ++a) {
      const auto in = input[a], k = kernel_[a], s = strides_[a], d = dilation_[a];
      if (transpose_) {
        out.push_back(in < 0 ? kNone : (o_.padding == "same" ? in * s : (in - 1) * s + (k - 1) * d + 1));
        continue;
      }
      if (o_.padding == "same") {
        out.push_back(in < 0 ? kNone : (in + s - 1) / s);
      } else {
        out.push_back(valid_out(in, k, s, d));
        if (in >= 0 && out.back() <= 0) {
          fail("kernel " + shape_str(kernel_) + " does not fit input " + shape_str(input) +
               " with valid padding");
        }
      }
    }
    out.push_back(filters_);
    return out;
  }

  torch::Tensor call_one(const torch::Tensor& x_in) override {
    auto x = to_channels_first(x_in);
    torch::Tensor y;
    if (transpose_) {
      // "same" wants in × stride outputs: symmetric padding p with output_padding making up the rest.
      std::vector<std::int64_t> pad(rank_, 0), out_pad(rank_, 0);
      if (o_.padding == "same") {
        for (std::size_t a = 0; a < rank_; ++a) {
          const auto k = (kernel_[a] - 1) * dilation_[a] + 1, s = strides_[a];
          pad[a] = std::max<std::int64_t>((k - s + 1) / 2, 0);
          out_pad[a] = 2 * pad[a] + s - k;
        }
      }
      y = torch::conv_transpose2d(x, weight_, bias_, strides_, pad, out_pad, 1, dilation_);
    } else {
      std::vector<std::int64_t> sym(rank_, 0);
      if (o_.padding == "same") {
        std::vector<std::pair<std::int64_t, std::int64_t>> pads;
        bool symmetric = true;
        for (std::size_t a = 0; a < rank_; ++a) {
          pads.push_back(same_padding(x.size(2 + a), kernel_[a], strides_[a], dilation_[a]));
          symmetric = symmetric && pads.back().first == pads.back().second;
          sym[a] = pads.back().first;
        }
        if (!symmetric) {
          x = pad_spatial(x, pads, 0.0);
          std::fill(sym.begin(), sym.end(), 0);
        }
      }
      y = rank_ == 2 ? torch::conv2d(x, weight_, bias_, strides_, sym, dilation_)
                     : torch::conv1d(x, weight_, bias_, strides_, sym, dilation_);
    }
    return activate(o_.activation, to_channels_last(y));
  }

 private:
  std::size_t rank_;
  bool transpose_;
  std::int64_t filters_;
  ConvOptions o_;
  std::vector<std::int64_t> kernel_, strides_, dilation_;
  torch::Tensor weight_, bias_;
};

class PoolImpl : public UnaryLayer {
 public:
  PoolImpl(std::string type, std::size_t rank, bool max, std::vector<std::int64_t> pool, PoolOptions o)
      : UnaryLayer(type, o.name), rank_(rank), max_(max), o_(std::move(o)) {
    pool_ = per_axis(pool, rank_, "pool_size", *this);
    strides_ = o_.strides.empty() ? pool_ : per_axis(o_.strides, rank_, "strides", *this);
    check_padding(o_.padding, *this);
    set_declared_input_shape(o_.input_shape);
  }
  nlohmann::json config() const override {
    auto o = o_;
    o.name = name();
    nlohmann::json j = o;
    j["pool_size"] = pool_;
    return j;
  }

 protected:
  Shape build_one(const Shape& input) override {
    expect_rank(input, rank_ + 1, rank_ == 1 ? "batch, steps, channels" : "batch, height, width, channels");
    Shape out;
    for (std::size_t a = 0; a < rank_; ++a) {
      const auto in = input[a];
      out.push_back(in < 0                 ? kNone
                    : o_.padding == "same" ? (in + strides_[a] - 1) / strides_[a]
                                           : valid_out(in, pool_[a], strides_[a], 1));
      if (out.back() == 0) fail("pool " + shape_str(pool_) + " does not fit input " + shape_str(input));
    }
    out.push_back(input.back());
    return out;
  }
  torch::Tensor call_one(const torch::Tensor& x_in) override {
    auto x = to_channels_first(x_in);
    if (o_.padding == "same") {
      std::vector<std::pair<std::int64_t, std::int64_t>> pads;
      for (std::size_t a = 0; a < rank_; ++a)
        pads.push_back(same_padding(x.size(2 + a), pool_[a], strides_[a], 1));
      if (max_) {
        x = pad_spatial(x, pads, -std::numeric_limits<double>::infinity());
      } else {
        // Keras averages over the real values only: divide by the share of each window inside.
        std::vector<std::int64_t> size{1, 1};
        for (std::size_t a = 0; a < rank_; ++a) size.push_back(x.size(2 + a));
        auto inside = pool(pad_spatial(torch::ones(size, x.options()), pads, 0.0));
        return to_channels_last(pool(pad_spatial(x, pads, 0.0)) / inside);
      }
    }
    return to_channels_last(pool(x));
  }

 private:
  torch::Tensor pool(const torch::Tensor& x) const {
    if (rank_ == 2)
      return max_ ? torch::max_pool2d(x, pool_, strides_) : torch::avg_pool2d(x, pool_, strides_);
    return max_ ? torch::max_pool1d(x, pool_, strides_) : torch::avg_pool1d(x, pool_, strides_);
  }
  std::size_t rank_;
  bool max_;
  PoolOptions o_;
  std::vector<std::int64_t> pool_, strides_;
};

class GlobalPoolImpl : public UnaryLayer {
 public:
  GlobalPoolImpl(std::string type, std::size_t rank, bool max, std::string name)
      : UnaryLayer(type, std::move(name)), rank_(rank), max_(max) {}
  nlohmann::json config() const override { return {{"name", name()}}; }

 protected:
  Shape build_one(const Shape& input) override {
    expect_rank(input, rank_ + 1, rank_ == 1 ? "batch, steps, channels" : "batch, height, width, channels");
    return {input.back()};
  }
  torch::Tensor call_one(const torch::Tensor& x) override {
    std::vector<std::int64_t> axes =
        rank_ == 2 ? std::vector<std::int64_t>{1, 2} : std::vector<std::int64_t>{1};
    return max_ ? x.amax(axes) : x.mean(axes);
  }

 private:
  std::size_t rank_;
  bool max_;
};

class ZeroPadding2DImpl : public UnaryLayer {
 public:
  ZeroPadding2DImpl(std::vector<std::int64_t> padding, std::string name)
      : UnaryLayer("ZeroPadding2D", std::move(name)), padding_(std::move(padding)) {
    if (padding_.size() == 1) padding_ = {padding_[0], padding_[0], padding_[0], padding_[0]};
    if (padding_.size() == 2) padding_ = {padding_[0], padding_[0], padding_[1], padding_[1]};
    if (padding_.size() != 4) fail("padding needs 1, 2 or 4 values, got " + std::to_string(padding_.size()));
    for (auto p : padding_) {
      if (p < 0) fail("padding must not be negative, got " + std::to_string(p));
    }
  }
  nlohmann::json config() const override { return {{"padding", padding_}, {"name", name()}}; }

 protected:
  Shape build_one(const Shape& input) override {
    expect_rank(input, 3, "batch, height, width, channels");
    return {input[0] < 0 ? kNone : input[0] + padding_[0] + padding_[1],
            input[1] < 0 ? kNone : input[1] + padding_[2] + padding_[3], input[2]};
  }
  torch::Tensor call_one(const torch::Tensor& x) override {
    return torch::constant_pad_nd(x, {0, 0, padding_[2], padding_[3], padding_[0], padding_[1]}, 0.0);
  }

 private:
  std::vector<std::int64_t> padding_;
};

class UpSampling2DImpl : public UnaryLayer {
 public:
  UpSampling2DImpl(std::vector<std::int64_t> size, std::string interpolation, std::string name)
      : UnaryLayer("UpSampling2D", std::move(name)), interpolation_(std::move(interpolation)) {
    size_ = per_axis(size, 2, "size", *this);
    if (interpolation_ != "nearest" && interpolation_ != "bilinear") {
      fail("unknown interpolation '" + interpolation_ + "', expected nearest or bilinear");
    }
  }
  nlohmann::json config() const override {
    return {{"size", size_}, {"interpolation", interpolation_}, {"name", name()}};
  }

 protected:
  Shape build_one(const Shape& input) override {
    expect_rank(input, 3, "batch, height, width, channels");
    return {input[0] < 0 ? kNone : input[0] * size_[0], input[1] < 0 ? kNone : input[1] * size_[1], input[2]};
  }
  torch::Tensor call_one(const torch::Tensor& x) override {
    if (interpolation_ == "nearest") return x.repeat_interleave(size_[0], 1).repeat_interleave(size_[1], 2);
    auto y =
        torch::upsample_bilinear2d(to_channels_first(x), {x.size(1) * size_[0], x.size(2) * size_[1]}, false);
    return to_channels_last(y);
  }

 private:
  std::vector<std::int64_t> size_;
  std::string interpolation_;
};

Layer make_conv(const std::string& type, std::size_t rank, bool transpose, std::int64_t filters,
                std::vector<std::int64_t> kernel, ConvOptions o) {
  return Layer(std::make_shared<ConvImpl>(type, rank, transpose, filters, std::move(kernel), std::move(o)));
}
Layer make_pool(const std::string& type, std::size_t rank, bool max, std::vector<std::int64_t> pool,
                PoolOptions o) {
  return Layer(std::make_shared<PoolImpl>(type, rank, max, std::move(pool), std::move(o)));
}

}  // namespace

Layer Conv1D(std::int64_t f, std::vector<std::int64_t> k, ConvOptions o) {
  return make_conv("Conv1D", 1, false, f, k, o);
}
Layer Conv2D(std::int64_t f, std::vector<std::int64_t> k, ConvOptions o) {
  return make_conv("Conv2D", 2, false, f, k, o);
}
Layer Conv2DTranspose(std::int64_t f, std::vector<std::int64_t> k, ConvOptions o) {
  return make_conv("Conv2DTranspose", 2, true, f, k, o);
}
Layer MaxPooling1D(std::vector<std::int64_t> p, PoolOptions o) {
  return make_pool("MaxPooling1D", 1, true, p, o);
}
Layer MaxPooling2D(std::vector<std::int64_t> p, PoolOptions o) {
  return make_pool("MaxPooling2D", 2, true, p, o);
}
Layer AveragePooling1D(std::vector<std::int64_t> p, PoolOptions o) {
  return make_pool("AveragePooling1D", 1, false, p, o);
}
Layer AveragePooling2D(std::vector<std::int64_t> p, PoolOptions o) {
  return make_pool("AveragePooling2D", 2, false, p, o);
}
Layer GlobalAveragePooling1D(std::string n) {
  return Layer(std::make_shared<GlobalPoolImpl>("GlobalAveragePooling1D", 1, false, std::move(n)));
}
Layer GlobalAveragePooling2D(std::string n) {
  return Layer(std::make_shared<GlobalPoolImpl>("GlobalAveragePooling2D", 2, false, std::move(n)));
}
Layer GlobalMaxPooling1D(std::string n) {
  return Layer(std::make_shared<GlobalPoolImpl>("GlobalMaxPooling1D", 1, true, std::move(n)));
}
Layer GlobalMaxPooling2D(std::string n) {
  return Layer(std::make_shared<GlobalPoolImpl>("GlobalMaxPooling2D", 2, true, std::move(n)));
}
Layer ZeroPadding2D(std::vector<std::int64_t> padding, std::string name) {
  return Layer(std::make_shared<ZeroPadding2DImpl>(std::move(padding), std::move(name)));
}
Layer UpSampling2D(std::vector<std::int64_t> size, std::string interpolation, std::string name) {
  return Layer(
      std::make_shared<UpSampling2DImpl>(std::move(size), std::move(interpolation), std::move(name)));
}

void register_conv_layers() {
  for (const auto& [type, rank, transpose] : {std::tuple{"Conv1D", 1, false}, std::tuple{"Conv2D", 2, false},
                                              std::tuple{"Conv2DTranspose", 2, true}}) {
    register_layer_type(
        type, [type = std::string(type), rank = rank, transpose = transpose](const nlohmann::json& c) {
          return make_conv(type, rank, transpose, c.at("filters"), c.at("kernel_size"), c.get<ConvOptions>());
        });
  }
  for (const auto& [type, rank, max] :
       {std::tuple{"MaxPooling1D", 1, true}, std::tuple{"MaxPooling2D", 2, true},
        std::tuple{"AveragePooling1D", 1, false}, std::tuple{"AveragePooling2D", 2, false}}) {
    register_layer_type(type, [type = std::string(type), rank = rank, max = max](const nlohmann::json& c) {
      return make_pool(type, rank, max, c.at("pool_size"), c.get<PoolOptions>());
    });
  }
  for (const auto& [type, rank, max] :
       {std::tuple{"GlobalAveragePooling1D", 1, false}, std::tuple{"GlobalAveragePooling2D", 2, false},
        std::tuple{"GlobalMaxPooling1D", 1, true}, std::tuple{"GlobalMaxPooling2D", 2, true}}) {
    register_layer_type(type, [type = std::string(type), rank = rank, max = max](const nlohmann::json& c) {
      return Layer(std::make_shared<GlobalPoolImpl>(type, rank, max, c.at("name")));
    });
  }
  register_layer_type("ZeroPadding2D",
                      [](const nlohmann::json& c) { return ZeroPadding2D(c.at("padding"), c.at("name")); });
  register_layer_type("UpSampling2D", [](const nlohmann::json& c) {
    return UpSampling2D(c.at("size"), c.at("interpolation"), c.at("name"));
  });
}

}  // namespace dojo::nn
