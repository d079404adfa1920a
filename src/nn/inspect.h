// Looking inside a trained image classifier: occlusion sensitivity, activation maximisation and the
// first layer's filters, each as an image (Zeiler & Fergus 2014; Erhan et al. 2009).
#pragma once
#include <filesystem>
#include <string>

#include "core/export.h"
#include "nn/model.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn::inspect {

struct OcclusionOptions {
  std::int64_t patch = 4;   // side of the grey square slid over the image, pixels
  std::int64_t stride = 2;  // pixels between positions
  double fill = 0.5;        // value of the square
};
// For an image [H, W, C] and a class: how much the class probability drops with each region hidden,
// [H, W] (each pixel gets the mean drop of the patches covering it).
torch::Tensor occlusion_map(const Model& model, const torch::Tensor& image, std::int64_t class_index,
                            OcclusionOptions options = {});

struct ActivationMaxOptions {
  std::int64_t steps = 200;
  double learning_rate = 0.05;
  double l2 = 1e-3;             // keeps the image from growing without bound
  bool log_activation = false;  // maximise log(activation): for softmax outputs, which saturate
};
// The input [H, W, C] in [0, 1] that most excites `unit` (the last-axis channel) of layer `layer_name`,
// by gradient ascent from grey noise. Throws dojo::Error for an unknown layer or unit.
torch::Tensor activation_maximization(const Model& model, const std::string& layer_name, std::int64_t unit,
                                      ActivationMaxOptions options = {});

// The kernels of a Conv2D layer as images [filters, kh, kw] (first input channel), each scaled to [0, 1].
torch::Tensor conv_filters(const Model& model, const std::string& layer_name);

}  // namespace dojo::nn::inspect

DOJO_PUBLIC_END
