// Convolution, pooling, padding and upsampling layers on channels-last data: (steps, channels) for
// 1-D and (height, width, channels) for 2-D, as Keras shows them.
#pragma once
#include <string>

#include "core/export.h"
#include "nn/layer.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn {

struct ConvOptions {
  std::vector<std::int64_t> strides = {1};  // one value for every axis, or one per axis
  std::string padding = "valid";            // valid | same
  std::vector<std::int64_t> dilation_rate = {1};
  std::string activation = "linear";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  Shape input_shape = {};
  std::string name = "";
};
// kernel_size: one value for every axis, or one per axis.
Layer Conv1D(std::int64_t filters, std::vector<std::int64_t> kernel_size, ConvOptions options = {});
Layer Conv2D(std::int64_t filters, std::vector<std::int64_t> kernel_size, ConvOptions options = {});
// The gradient of a Conv2D with respect to its input: upsamples by the strides.
Layer Conv2DTranspose(std::int64_t filters, std::vector<std::int64_t> kernel_size, ConvOptions options = {});

struct PoolOptions {
  std::vector<std::int64_t> strides = {};  // empty: the pool size, as in Keras
  std::string padding = "valid";           // valid | same
  Shape input_shape = {};
  std::string name = "";
};
Layer MaxPooling1D(std::vector<std::int64_t> pool_size = {2}, PoolOptions options = {});
Layer MaxPooling2D(std::vector<std::int64_t> pool_size = {2, 2}, PoolOptions options = {});
Layer AveragePooling1D(std::vector<std::int64_t> pool_size = {2}, PoolOptions options = {});
Layer AveragePooling2D(std::vector<std::int64_t> pool_size = {2, 2}, PoolOptions options = {});
Layer GlobalAveragePooling1D(std::string name = "");
Layer GlobalAveragePooling2D(std::string name = "");
Layer GlobalMaxPooling1D(std::string name = "");
Layer GlobalMaxPooling2D(std::string name = "");

// padding: {p} (all sides), {ph, pw} or {top, bottom, left, right}.
Layer ZeroPadding2D(std::vector<std::int64_t> padding = {1}, std::string name = "");
// size: {s} or {sh, sw}; interpolation nearest | bilinear.
Layer UpSampling2D(std::vector<std::int64_t> size = {2, 2}, std::string interpolation = "nearest",
                   std::string name = "");

}  // namespace dojo::nn

DOJO_PUBLIC_END
