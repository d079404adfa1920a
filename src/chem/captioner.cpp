#include "chem/captioner.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "nn/zoo.h"

namespace dojo::chem {

void CaptionerOptions::validate() const {
  core::check_options(*this);
  if (d_model_ % heads_ != 0)
    throw Error("d_model = " + std::to_string(d_model_) + ": expected a multiple of heads (" +
                std::to_string(heads_) + ")");
  if (blocks_.size() != widths_.size())
    throw Error("blocks and widths: expected one width per stage, got " + std::to_string(blocks_.size()) +
                " and " + std::to_string(widths_.size()));
}

void DecoderCache::select(const torch::Tensor& rows) {
  for (auto* list : {&self_k, &self_v, &cross_k, &cross_v}) {
    for (auto& t : *list) t = t.index_select(0, rows);
  }
}

namespace {

nn::Model backbone(const CaptionerOptions& o) {
  const auto s = o.image_size();
  const std::vector<int> blocks(o.blocks().begin(), o.blocks().end());
  // Its parameters are saved by layer name: the same names in every process, however many captioners
  // it built before (a Python session translating with two models).
  const nn::FreshNames fresh;
  return nn::zoo::resnet_backbone({s, s, 1}, blocks, o.widths(), o.stem(), "encoder", o.bn_momentum());
}

}  // namespace

CaptionerImpl::CaptionerImpl(CaptionerOptions options)
    : opts_((options.validate(), std::move(options))), backbone_(backbone(opts_)) {
  register_module("backbone", backbone_.ptr());
  const auto& grid = backbone_->outputs()[0].shape();  // [h, w, C]
  const auto cells = grid[0] * grid[1], d = opts_.d_model();
  project_ = register_module("project", torch::nn::Linear(grid[2], d));
  memory_position_ = register_parameter("memory_position", torch::randn({cells, d}) * 0.02);
  token_embedding_ = register_module("token_embedding", torch::nn::Embedding(opts_.vocab(), d));
  position_embedding_ = register_module("position_embedding", torch::nn::Embedding(opts_.max_len(), d));
  for (std::int64_t i = 0; i < opts_.layers(); ++i) {
    Layer l;
    const auto name = "layer" + std::to_string(i) + "_";
    l.norm_self = register_module(name + "norm_self", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    l.norm_cross =
        register_module(name + "norm_cross", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    l.norm_ff = register_module(name + "norm_ff", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    l.q_self = register_module(name + "q_self", torch::nn::Linear(d, d));
    l.kv_self = register_module(name + "kv_self", torch::nn::Linear(d, 2 * d));
    l.out_self = register_module(name + "out_self", torch::nn::Linear(d, d));
    l.q_cross = register_module(name + "q_cross", torch::nn::Linear(d, d));
    l.kv_cross = register_module(name + "kv_cross", torch::nn::Linear(d, 2 * d));
    l.out_cross = register_module(name + "out_cross", torch::nn::Linear(d, d));
    l.ff1 = register_module(name + "ff1", torch::nn::Linear(d, opts_.ff()));
    l.ff2 = register_module(name + "ff2", torch::nn::Linear(opts_.ff(), d));
    layers_.push_back(l);
  }
  final_norm_ = register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  output_ = register_module("output", torch::nn::Linear(d, opts_.vocab()));
}

torch::Tensor CaptionerImpl::encode(const torch::Tensor& images) {
  const auto s = opts_.image_size();
  if (images.dim() != 3 || images.size(1) != s || images.size(2) != s)
    throw Error("captioner: images of shape " + c10::str(images.sizes()) + ", expected [B, " +
                std::to_string(s) + ", " + std::to_string(s) + "]");
  // Ink is 1, paper 0: the network sees the drawing, not the page.
  const auto x = (255.0 - images.to(torch::kFloat32)) / 255.0;
  backbone_->train(is_training());
  auto features = backbone_->predict_batch({x.unsqueeze(-1)})[0];  // [B, h, w, C]
  features = features.flatten(1, 2);                               // [B, N, C]
  return project_->forward(features) + memory_position_;
}

torch::Tensor CaptionerImpl::heads(const torch::Tensor& x) const {
  const auto b = x.size(0), t = x.size(1), h = opts_.heads();
  return x.view({b, t, h, opts_.d_model() / h}).transpose(1, 2);
}

torch::Tensor CaptionerImpl::merge(const torch::Tensor& x) const {
  const auto b = x.size(0), t = x.size(2);
  return x.transpose(1, 2).reshape({b, t, opts_.d_model()});
}

torch::Tensor CaptionerImpl::attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                    const torch::Tensor& mask, torch::Tensor* weights) const {
  auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(-1)));
  if (mask.defined()) scores = scores.masked_fill(mask, -std::numeric_limits<float>::infinity());
  auto w = torch::softmax(scores, -1);
  if (weights) *weights = w;
  w = torch::dropout(w, opts_.dropout(), is_training());
  return torch::matmul(w, v);
}

torch::Tensor CaptionerImpl::embed(const torch::Tensor& tokens, std::int64_t offset) {
  const auto t = tokens.size(1);
  if (offset + t > opts_.max_len())
    throw Error("captioner: " + std::to_string(offset + t) + " tokens, expected at most max_len " +
                std::to_string(opts_.max_len()));
  const auto positions = torch::arange(offset, offset + t, torch::TensorOptions().device(tokens.device()));
  auto x = token_embedding_->forward(tokens) * std::sqrt(static_cast<double>(opts_.d_model())) +
           position_embedding_->forward(positions).unsqueeze(0);
  return torch::dropout(x, opts_.dropout(), is_training());
}

torch::Tensor CaptionerImpl::decode(const torch::Tensor& memory, const torch::Tensor& tokens) {
  const auto t = tokens.size(1);
  auto x = embed(tokens, 0);
  // Position i sees positions ≤ i.
  const auto causal =
      torch::ones({t, t}, torch::TensorOptions().dtype(torch::kBool).device(tokens.device())).triu(1);
  const auto d = opts_.d_model();
  for (auto& l : layers_) {
    auto h = l.norm_self->forward(x);
    auto kv = l.kv_self->forward(h).split(d, -1);
    x = x + torch::dropout(l.out_self->forward(merge(
                               attend(heads(l.q_self->forward(h)), heads(kv[0]), heads(kv[1]), causal))),
                           opts_.dropout(), is_training());
    h = l.norm_cross->forward(x);
    auto mkv = l.kv_cross->forward(memory).split(d, -1);
    x = x + torch::dropout(l.out_cross->forward(
                               merge(attend(heads(l.q_cross->forward(h)), heads(mkv[0]), heads(mkv[1]), {}))),
                           opts_.dropout(), is_training());
    h = l.norm_ff->forward(x);
    x = x + torch::dropout(l.ff2->forward(torch::gelu(l.ff1->forward(h))), opts_.dropout(), is_training());
  }
  return output_->forward(final_norm_->forward(x));
}

DecoderCache CaptionerImpl::start(const torch::Tensor& memory) {
  DecoderCache c;
  const auto d = opts_.d_model();
  for (auto& l : layers_) {
    auto mkv = l.kv_cross->forward(memory).split(d, -1);
    c.cross_k.push_back(heads(mkv[0]));
    c.cross_v.push_back(heads(mkv[1]));
    c.self_k.emplace_back();
    c.self_v.emplace_back();
  }
  return c;
}

torch::Tensor CaptionerImpl::step(DecoderCache& c, const torch::Tensor& last_tokens) {
  auto x = embed(last_tokens.unsqueeze(1), c.length);  // [B, 1, d]
  const auto d = opts_.d_model();
  last_cross_.clear();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    auto& l = layers_[i];
    auto h = l.norm_self->forward(x);
    auto kv = l.kv_self->forward(h).split(d, -1);
    auto k = heads(kv[0]), v = heads(kv[1]);
    c.self_k[i] = c.self_k[i].defined() ? torch::cat({c.self_k[i], k}, 2) : k;
    c.self_v[i] = c.self_v[i].defined() ? torch::cat({c.self_v[i], v}, 2) : v;
    x = x + l.out_self->forward(merge(attend(heads(l.q_self->forward(h)), c.self_k[i], c.self_v[i], {})));
    h = l.norm_cross->forward(x);
    torch::Tensor w;
    x = x +
        l.out_cross->forward(merge(attend(heads(l.q_cross->forward(h)), c.cross_k[i], c.cross_v[i], {}, &w)));
    last_cross_.push_back(w.mean(1).squeeze(1));  // [B, N]
    h = l.norm_ff->forward(x);
    x = x + l.ff2->forward(torch::gelu(l.ff1->forward(h)));
  }
  ++c.length;
  return output_->forward(final_norm_->forward(x)).squeeze(1);
}

}  // namespace dojo::chem
