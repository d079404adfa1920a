#include "nn/zoo.h"

#include "core/error.h"
#include "core/strings.h"
#include "nn/layers.h"

namespace dojo::nn::zoo {

namespace {

Model lenet5(const Shape& input, std::int64_t classes) {
  // LeCun et al. 1998 as usually rebuilt: tanh, average pooling, 6-16 feature maps, 120-84 dense.
  auto x = Input(input);
  auto y = Conv2D(6, {5}, {.activation = "tanh"})(x);
  y = AveragePooling2D({2, 2})(y);
  y = Conv2D(16, {5}, {.activation = "tanh"})(y);
  y = AveragePooling2D({2, 2})(y);
  y = Flatten()(y);
  y = Dense(120, {.activation = "tanh"})(y);
  y = Dense(84, {.activation = "tanh"})(y);
  y = Dense(classes, {.activation = "softmax"})(y);
  return Model(x, y, "lenet5");
}

SymbolicTensor classifier_head(SymbolicTensor y, std::int64_t classes) {
  y = Flatten()(y);
  y = Dropout(0.5)(y);
  y = Dense(4096, {.activation = "relu"})(y);
  y = Dropout(0.5)(y);
  y = Dense(4096, {.activation = "relu"})(y);
  return Dense(classes, {.activation = "softmax"})(y);
}

Model alexnet(const Shape& input, std::int64_t classes) {
  auto x = Input(input);
  auto y = ZeroPadding2D({2})(x);
  y = Conv2D(64, {11}, {.strides = {4}, .activation = "relu"})(y);
  y = MaxPooling2D({3, 3}, {.strides = {2}})(y);
  y = Conv2D(192, {5}, {.padding = "same", .activation = "relu"})(y);
  y = MaxPooling2D({3, 3}, {.strides = {2}})(y);
  y = Conv2D(384, {3}, {.padding = "same", .activation = "relu"})(y);
  y = Conv2D(256, {3}, {.padding = "same", .activation = "relu"})(y);
  y = Conv2D(256, {3}, {.padding = "same", .activation = "relu"})(y);
  y = MaxPooling2D({3, 3}, {.strides = {2}})(y);
  return Model(x, classifier_head(y, classes), "alexnet");
}

Model vgg(const std::string& name, const std::vector<int>& convs_per_stage, const Shape& input,
          std::int64_t classes) {
  auto x = Input(input);
  auto y = x;
  std::int64_t filters = 64;
  for (int n : convs_per_stage) {
    for (int i = 0; i < n; ++i) y = Conv2D(filters, {3}, {.padding = "same", .activation = "relu"})(y);
    y = MaxPooling2D({2, 2})(y);
    filters = std::min<std::int64_t>(filters * 2, 512);
  }
  return Model(x, classifier_head(y, classes), name);
}

SymbolicTensor conv_bn(SymbolicTensor y, std::int64_t filters, std::int64_t k, std::int64_t stride, bool relu,
                       double bn_momentum = 0.99) {
  y = Conv2D(filters, {k}, {.strides = {stride}, .padding = "same", .use_bias = false})(y);
  y = BatchNormalization({.momentum = bn_momentum})(y);
  return relu ? Activation("relu")(y) : y;
}

// He et al. 2016: two 3×3 convolutions (basic) or 1×1-3×3-1×1 with 4× expansion (bottleneck, the
// stride on the 3×3 as in torchvision), plus the input, projected when its shape changes.
SymbolicTensor residual_block(SymbolicTensor x, std::int64_t width, std::int64_t stride, bool bottleneck,
                              double m) {
  const auto out_ch = bottleneck ? 4 * width : width;
  SymbolicTensor y;
  if (bottleneck) {
    y = conv_bn(x, width, 1, 1, true, m);
    y = conv_bn(y, width, 3, stride, true, m);
    y = conv_bn(y, out_ch, 1, 1, false, m);
  } else {
    y = conv_bn(x, width, 3, stride, true, m);
    y = conv_bn(y, width, 3, 1, false, m);
  }
  auto shortcut = (stride != 1 || x.shape().back() != out_ch) ? conv_bn(x, out_ch, 1, stride, false, m) : x;
  return Activation("relu")(Add()({y, shortcut}));
}

SymbolicTensor resnet_body(const SymbolicTensor& x, const std::vector<int>& blocks,
                           const std::vector<std::int64_t>& widths, std::int64_t stem, bool bottleneck,
                           double bn_momentum = 0.99) {
  auto y = ZeroPadding2D({3})(x);
  y = Conv2D(stem, {7}, {.strides = {2}, .use_bias = false})(y);
  y = BatchNormalization({.momentum = bn_momentum})(y);
  y = Activation("relu")(y);
  y = ZeroPadding2D({1})(y);  // zeros pad like -inf here: the values are ≥ 0 after the ReLU
  y = MaxPooling2D({3, 3}, {.strides = {2}})(y);
  for (std::size_t stage = 0; stage < blocks.size(); ++stage) {
    for (int b = 0; b < blocks[stage]; ++b) {
      y = residual_block(y, widths[stage], (stage > 0 && b == 0) ? 2 : 1, bottleneck, bn_momentum);
    }
  }
  return y;
}

Model resnet(const std::string& name, const std::vector<int>& blocks, bool bottleneck, const Shape& input,
             std::int64_t classes) {
  auto x = Input(input);
  auto y = resnet_body(x, blocks, {64, 128, 256, 512}, 64, bottleneck);
  y = GlobalAveragePooling2D()(y);
  y = Dense(classes, {.activation = "softmax"})(y);
  return Model(x, y, name);
}

}  // namespace

const std::vector<ZooEntry>& entries() {
  static const std::vector<ZooEntry> list = {
      {"lenet5", "LeNet-5 (LeCun et al. 1998): 32x32x1, tanh, average pooling"},
      {"alexnet", "AlexNet (Krizhevsky et al. 2012), torchvision layout: 224x224x3"},
      {"vgg16", "VGG16 (Simonyan & Zisserman 2015): 13 conv + 3 dense"},
      {"vgg19", "VGG19: 16 conv + 3 dense"},
      {"resnet18", "ResNet-18 (He et al. 2016): basic blocks [2, 2, 2, 2]"},
      {"resnet34", "ResNet-34: basic blocks [3, 4, 6, 3]"},
      {"resnet50", "ResNet-50: bottleneck blocks [3, 4, 6, 3]"},
  };
  return list;
}

Model build(const std::string& name, ZooOptions o) {
  const bool lenet = name == "lenet5";
  const Shape input = !o.input_shape.empty() ? o.input_shape : lenet ? Shape{32, 32, 1} : Shape{224, 224, 3};
  const std::int64_t classes = o.classes > 0 ? o.classes : lenet ? 10 : 1000;
  if (lenet) return lenet5(input, classes);
  if (name == "alexnet") return alexnet(input, classes);
  if (name == "vgg16") return vgg("vgg16", {2, 2, 3, 3, 3}, input, classes);
  if (name == "vgg19") return vgg("vgg19", {2, 2, 4, 4, 4}, input, classes);
  if (name == "resnet18") return resnet("resnet18", {2, 2, 2, 2}, false, input, classes);
  if (name == "resnet34") return resnet("resnet34", {3, 4, 6, 3}, false, input, classes);
  if (name == "resnet50") return resnet("resnet50", {3, 4, 6, 3}, true, input, classes);
  std::vector<std::string> names;
  for (const auto& e : entries()) names.push_back(e.name);
  throw Error("unknown zoo model '" + name + "'" + core::did_you_mean(name, names) +
              " (have: " + core::join(names, ", ") + ")");
}

Model resnet_backbone(const Shape& input, const std::vector<int>& blocks,
                      const std::vector<std::int64_t>& widths, std::int64_t stem, const std::string& name,
                      double bn_momentum) {
  if (blocks.empty() || blocks.size() != widths.size())
    throw Error("resnet_backbone: " + std::to_string(blocks.size()) + " stages of blocks and " +
                std::to_string(widths.size()) + " widths: expected one width per stage");
  auto x = Input(input);
  return Model(x, resnet_body(x, blocks, widths, stem, false, bn_momentum), name);
}

}  // namespace dojo::nn::zoo
