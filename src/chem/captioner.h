// The image-to-sequence model: a ResNet-style CNN (built with nn) reads the structure image into a
// grid of features; a pre-norm Transformer decoder (Vaswani et al. 2017, with the layer norm before
// each sub-layer as in Xiong et al. 2020) writes the InChI or SMILES token by token, attending to its
// own past tokens (causally) and to the image's features (cross-attention).
//
//   memory = Linear(ResNet(image)) + position            [B, N, d]   (N = (S/32)² cells)
//   x_0    = Embed(tokens) + position                     [B, T, d]
//   x      = x + SelfAttn(LN(x), causal)
//   x      = x + CrossAttn(LN(x), memory)
//   x      = x + FF(LN(x))                                 (× layers)
//   logits = Linear(LN(x))                                [B, T, V]
//
// Decoding one token at a time keeps each layer's keys and values (a cache), so a step costs one
// token's work, not the whole prefix's.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <cstdint>
#include <vector>

#include "core/export.h"
#include "core/options.h"
#include "nn/model.h"

DOJO_PUBLIC_BEGIN
namespace dojo::chem {

struct CaptionerOptions {
  TORCH_ARG(std::int64_t, image_size) = 224;  // square input, pixels
  TORCH_ARG(std::vector<std::int64_t>, blocks) = std::vector<std::int64_t>{1, 1, 1, 1};  // per stage
  TORCH_ARG(std::vector<std::int64_t>, widths) = std::vector<std::int64_t>{32, 64, 128, 256};
  TORCH_ARG(std::int64_t, stem) = 32;
  // The moving statistics inference uses follow the weights this fast: Keras' 0.99 lags ~100 steps,
  // and greedy decoding failed on images the network had already fitted (an 8-image overfit: train
  // loss 0.01, exact 0% at 4,000 images; 100% at 6,000). 0.9 is PyTorch's default (its 0.1).
  TORCH_ARG(double, bn_momentum) = 0.9;
  TORCH_ARG(std::int64_t, d_model) = 256;
  TORCH_ARG(std::int64_t, heads) = 8;
  TORCH_ARG(std::int64_t, layers) = 3;
  TORCH_ARG(std::int64_t, ff) = 1024;
  TORCH_ARG(std::int64_t, max_len) = 256;  // tokens, <sos> and <eos> included
  TORCH_ARG(double, dropout) = 0.1;
  TORCH_ARG(std::int64_t, vocab) = 0;  // from the vocabulary

 public:
  void validate() const;
  template <class F>
  void visit(F&& f) {
    f("image_size", image_size_, core::at_least(64));
    f("blocks", blocks_, core::layer_sizes());
    f("widths", widths_, core::layer_sizes());
    f("stem", stem_, core::positive());
    f("bn_momentum", bn_momentum_, core::in_closed_open(0, 1));
    f("d_model", d_model_, core::positive());
    f("heads", heads_, core::positive());
    f("layers", layers_, core::positive());
    f("ff", ff_, core::positive());
    f("max_len", max_len_, core::at_least(8));
    f("dropout", dropout_, core::in_closed_open(0, 1));
    f("vocab", vocab_, core::at_least(5));
  }
};

// Keys and values of every decoder layer so far (self-attention), and of the image (cross-attention).
struct DecoderCache {
  std::vector<torch::Tensor> self_k, self_v;    // [B, heads, t, d_head] per layer
  std::vector<torch::Tensor> cross_k, cross_v;  // [B, heads, N, d_head] per layer
  std::int64_t length = 0;                      // tokens decoded
  // Keep only these rows (beam search reorders its hypotheses).
  void select(const torch::Tensor& rows);
};

class CaptionerImpl : public torch::nn::Module {
 public:
  explicit CaptionerImpl(CaptionerOptions options);
  const CaptionerOptions& options() const { return opts_; }

  // Images [B, S, S] uint8 (255 paper, 0 ink) -> memory [B, N, d].
  torch::Tensor encode(const torch::Tensor& images);
  // Teacher forcing: tokens [B, T] (starting with <sos>) -> logits [B, T, V] for the next tokens.
  torch::Tensor decode(const torch::Tensor& memory, const torch::Tensor& tokens);
  // One step: the last tokens [B] -> logits [B, V] of the next; the cache grows by one token.
  DecoderCache start(const torch::Tensor& memory);
  torch::Tensor step(DecoderCache& cache, const torch::Tensor& last_tokens);
  // Cross-attention weights of the last step, per layer averaged over heads: [B, N] (attention maps).
  const std::vector<torch::Tensor>& last_cross_attention() const { return last_cross_; }

 private:
  struct Layer {
    torch::nn::LayerNorm norm_self{nullptr}, norm_cross{nullptr}, norm_ff{nullptr};
    torch::nn::Linear q_self{nullptr}, kv_self{nullptr}, out_self{nullptr};
    torch::nn::Linear q_cross{nullptr}, kv_cross{nullptr}, out_cross{nullptr};
    torch::nn::Linear ff1{nullptr}, ff2{nullptr};
  };
  torch::Tensor heads(const torch::Tensor& x) const;  // [B, T, d] -> [B, h, T, d/h]
  torch::Tensor merge(const torch::Tensor& x) const;  // the inverse
  torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& mask, torch::Tensor* weights = nullptr) const;
  torch::Tensor embed(const torch::Tensor& tokens, std::int64_t offset);

  CaptionerOptions opts_;
  nn::Model backbone_;
  torch::nn::Linear project_{nullptr};
  torch::Tensor memory_position_;  // [N, d]
  torch::nn::Embedding token_embedding_{nullptr}, position_embedding_{nullptr};
  std::vector<Layer> layers_;
  torch::nn::LayerNorm final_norm_{nullptr};
  torch::nn::Linear output_{nullptr};
  std::vector<torch::Tensor> last_cross_;
};
TORCH_MODULE(Captioner);

}  // namespace dojo::chem

DOJO_PUBLIC_END
