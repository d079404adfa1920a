// Multi-head scaled dot-product attention (Vaswani et al. 2017), called as Keras calls it: on
// {query, value} or {query, value, key}.
#pragma once
#include <string>

#include "core/export.h"
#include "nn/layer.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn {

struct MultiHeadAttentionOptions {
  std::int64_t value_dim = 0;  // 0: key_dim
  double dropout = 0.0;        // on the attention weights while training
  bool use_bias = true;
  bool use_causal_mask = false;  // query step i sees value steps ≤ i only
  std::int64_t output_dim = 0;   // 0: the query's feature size
  std::string kernel_initializer = "glorot_uniform";
  std::string name = "";
};
Layer MultiHeadAttention(std::int64_t num_heads, std::int64_t key_dim,
                         MultiHeadAttentionOptions options = {});

}  // namespace dojo::nn

DOJO_PUBLIC_END
