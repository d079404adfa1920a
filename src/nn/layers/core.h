// Core layers: Input, Dense, Activation, Dropout, Flatten, Reshape, Permute, RepeatVector, Embedding,
// Masking. Each factory returns a Layer handle; options are aggregates with Keras' defaults.
#pragma once
#include <string>

#include "core/export.h"
#include "nn/layer.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn {

struct InputOptions {
  std::string name = "";
  std::string dtype = "float32";  // float32 | int64 (indices for Embedding)
};
// A symbolic input of this shape (without the batch dimension).
SymbolicTensor Input(Shape shape, InputOptions options = {});

struct DenseOptions {
  std::string activation = "linear";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  Shape input_shape = {};
  std::string name = "";
};
// y = activation(x · kernel + bias) over the last axis; kernel [in, units].
Layer Dense(std::int64_t units, DenseOptions options = {});

Layer Activation(const std::string& activation, std::string name = "");

struct DropoutOptions {
  Shape input_shape = {};
  std::string name = "";
};
// Zeroes a fraction `rate` of inputs while training and scales the rest by 1/(1-rate).
Layer Dropout(double rate, DropoutOptions options = {});

struct ShapeOptions {
  Shape input_shape = {};
  std::string name = "";
};
Layer Flatten(ShapeOptions options = {});
// target_shape may hold one -1, inferred from the input size.
Layer Reshape(Shape target_shape, ShapeOptions options = {});
// dims are 1-based and leave out the batch axis, as in Keras: Permute({2, 1}) swaps two axes.
Layer Permute(std::vector<std::int64_t> dims, ShapeOptions options = {});
// (features) -> (n, features)
Layer RepeatVector(std::int64_t n, std::string name = "");

struct EmbeddingOptions {
  bool mask_zero = false;  // index 0 is padding: a mask for the layers after it
  std::string embeddings_initializer = "random_uniform";
  Shape input_shape = {};
  std::string name = "";
};
// Integer indices (..., ) -> (..., output_dim).
Layer Embedding(std::int64_t input_dim, std::int64_t output_dim, EmbeddingOptions options = {});

// Masks the time steps whose features all equal mask_value.
Layer Masking(double mask_value = 0.0, std::string name = "");

}  // namespace dojo::nn

DOJO_PUBLIC_END
