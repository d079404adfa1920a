// The model zoo: classic image classifiers built from the Keras-style layers, in torchvision's layouts
// so their trainable parameter counts equal torchvision's (AlexNet 61,100,840; VGG16 138,357,544;
// ResNet-18 11,689,512). Keras also counts BatchNormalization's moving statistics, as non-trainable.
#pragma once
#include <string>
#include <vector>

#include "core/export.h"
#include "nn/model.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn::zoo {

struct ZooOptions {
  Shape input_shape = {};    // empty: the model's usual input (LeNet-5 32×32×1, the others 224×224×3)
  std::int64_t classes = 0;  // 0: the usual (LeNet-5 10, the others 1000)
};

struct ZooEntry {
  std::string name, description;
};
const std::vector<ZooEntry>& entries();
// lenet5, alexnet, vgg16, vgg19, resnet18, resnet34, resnet50. Throws dojo::Error for another name.
Model build(const std::string& name, ZooOptions options = {});

// A ResNet without its head, for encoders: the stem (7×7/2 convolution, batch norm, ReLU, 3×3/2 max
// pooling) with `stem` filters, then one stage per entry of `blocks` (basic blocks; the first of each
// stage after the first halves the resolution) of `widths[stage]` filters. Output: the feature map
// [H/32, W/32, widths.back()] for four stages (ResNet-18 is blocks {2, 2, 2, 2}, widths {64, 128,
// 256, 512}, stem 64). `bn_momentum` is every batch norm's (Keras' 0.99 by default).
Model resnet_backbone(const Shape& input, const std::vector<int>& blocks,
                      const std::vector<std::int64_t>& widths, std::int64_t stem = 64,
                      const std::string& name = "resnet_backbone", double bn_momentum = 0.99);

}  // namespace dojo::nn::zoo

DOJO_PUBLIC_END
