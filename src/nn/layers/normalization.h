// Normalisation layers over the last (channel) axis.
#pragma once
#include <string>

#include "core/export.h"
#include "nn/layer.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn {

struct BatchNormalizationOptions {
  double momentum = 0.99;  // moving = momentum × moving + (1 − momentum) × batch (Keras' convention)
  double epsilon = 1e-3;
  bool center = true;  // learn beta
  bool scale = true;   // learn gamma
  std::string name = "";
};
// Normalises each channel (last axis) by batch statistics while training and by its moving statistics
// otherwise, or when frozen. gamma and beta train; moving_mean and moving_variance do not.
Layer BatchNormalization(BatchNormalizationOptions options = {});

struct LayerNormalizationOptions {
  double epsilon = 1e-3;
  std::string name = "";
};
// Normalises each sample over its last axis.
Layer LayerNormalization(LayerNormalizationOptions options = {});

}  // namespace dojo::nn

DOJO_PUBLIC_END
