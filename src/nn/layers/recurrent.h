// Recurrent layers over (time, features) inputs, and the wrappers that apply a layer per time step
// or in both directions.
#pragma once
#include <string>

#include "core/export.h"
#include "nn/layer.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn {

struct RecurrentOptions {
  std::string activation = "tanh";
  std::string recurrent_activation = "sigmoid";  // LSTM and GRU gates
  bool use_bias = true;
  bool return_sequences = false;  // every step's output (time, units) instead of the last (units)
  bool return_state = false;      // the final states as extra outputs: h (SimpleRNN, GRU), h and c (LSTM)
  bool go_backwards = false;
  bool unit_forget_bias = true;  // LSTM: forget-gate bias starts at 1
  std::string kernel_initializer = "glorot_uniform";
  std::string recurrent_initializer = "orthogonal";
  std::string bias_initializer = "zeros";
  Shape input_shape = {};
  std::string name = "";
};
// Masked time steps (from Embedding(mask_zero) or Masking) leave the state as it was and give zero
// outputs in the returned sequence.
Layer SimpleRNN(std::int64_t units, RecurrentOptions options = {});
Layer LSTM(std::int64_t units, RecurrentOptions options = {});
// Keras' default GRU (reset_after, two biases), so parameter counts match Keras.
Layer GRU(std::int64_t units, RecurrentOptions options = {});

// Runs a copy of `layer` backwards over time beside it; merge_mode concat | sum | mul | ave.
Layer Bidirectional(const Layer& layer, std::string merge_mode = "concat", std::string name = "");
// Applies `layer` to every time step: (time, ...) -> (time, ...').
Layer TimeDistributed(const Layer& layer, std::string name = "");

}  // namespace dojo::nn

DOJO_PUBLIC_END
