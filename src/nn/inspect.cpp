#include "nn/inspect.h"

#include <torch/torch.h>

#include "core/error.h"

namespace dojo::nn::inspect {

torch::Tensor occlusion_map(const Model& model, const torch::Tensor& image, std::int64_t class_index,
                            OcclusionOptions o) {
  if (image.dim() != 3)
    throw Error("occlusion_map: expected one image [H, W, C], got " + c10::str(image.sizes()));
  if (o.patch <= 0 || o.stride <= 0) throw Error("occlusion_map: patch and stride must be positive");
  const auto h = image.size(0), w = image.size(1);
  auto base = model.predict(image.unsqueeze(0));
  if (class_index < 0 || class_index >= base.size(-1)) {
    throw Error("occlusion_map: class " + std::to_string(class_index) + " out of range [0, " +
                std::to_string(base.size(-1)) + ")");
  }
  const double p0 = base[0][class_index].item<double>();
  // Every occluded copy in one batch.
  std::vector<torch::Tensor> copies;
  std::vector<std::pair<std::int64_t, std::int64_t>> corners;
  for (std::int64_t y = 0; y + o.patch <= h; y += o.stride) {
    for (std::int64_t x = 0; x + o.patch <= w; x += o.stride) {
      auto c = image.clone();
      c.slice(0, y, y + o.patch).slice(1, x, x + o.patch).fill_(o.fill);
      copies.push_back(c);
      corners.emplace_back(y, x);
    }
  }
  auto probs = model.predict(torch::stack(copies), 256).select(1, class_index);
  auto drop = torch::zeros({h, w}), count = torch::zeros({h, w});
  for (std::size_t i = 0; i < corners.size(); ++i) {
    const auto [y, x] = corners[i];
    drop.slice(0, y, y + o.patch).slice(1, x, x + o.patch) +=
        p0 - probs[static_cast<std::int64_t>(i)].item<double>();
    count.slice(0, y, y + o.patch).slice(1, x, x + o.patch) += 1;
  }
  return drop / count.clamp_min(1);
}

torch::Tensor activation_maximization(const Model& model, const std::string& layer_name, std::int64_t unit,
                                      ActivationMaxOptions o) {
  const auto& inputs = model->inputs();
  if (inputs.size() != 1) throw Error("activation_maximization: the model must have one input");
  Model probe(inputs, model->output_of(layer_name), model.name() + "_probe");
  const auto channels = probe->outputs()[0].shape().back();
  if (unit < 0 || unit >= channels) {
    throw Error("activation_maximization: unit " + std::to_string(unit) + " out of range [0, " +
                std::to_string(channels) + ") for layer '" + layer_name + "'");
  }
  Shape shape = inputs[0].shape();
  std::vector<std::int64_t> full{1};
  full.insert(full.end(), shape.begin(), shape.end());
  auto img = (0.5 + 0.1 * torch::randn(full)).clamp(0, 1).requires_grad_(true);
  torch::optim::Adam opt({img}, torch::optim::AdamOptions(o.learning_rate));
  probe->eval();
  for (std::int64_t s = 0; s < o.steps; ++s) {
    opt.zero_grad();
    auto unit_out = probe->forward(img).select(-1, unit);
    auto act = (o.log_activation ? unit_out.clamp_min(1e-12).log() : unit_out).mean();
    auto loss = -act + o.l2 * img.square().sum();
    loss.backward();
    opt.step();
    torch::NoGradGuard no_grad;
    img.clamp_(0, 1);
  }
  return img.detach()[0];
}

torch::Tensor conv_filters(const Model& model, const std::string& layer_name) {
  auto layer = model.get_layer(layer_name);
  if (layer->type() != "Conv2D")
    throw Error("conv_filters: layer '" + layer_name + "' is a " + layer->type() + ", not a Conv2D");
  auto k = layer->named_parameters()["kernel"].detach().select(1, 0);  // [filters, kh, kw]
  auto lo = k.flatten(1).amin(1).view({-1, 1, 1}), hi = k.flatten(1).amax(1).view({-1, 1, 1});
  return (k - lo) / (hi - lo).clamp_min(1e-12);
}

}  // namespace dojo::nn::inspect
