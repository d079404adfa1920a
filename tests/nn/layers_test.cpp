// Every layer: the output shape it declares equals the one it computes, and its gradients agree with
// finite differences (in double precision); merge layers compute what their names say.
#include "nn/layers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "nn/model.h"

namespace dojo::nn {
namespace {

struct Case {
  std::string name;
  std::function<Layer()> make;
  std::vector<Shape> inputs;  // without batch
  bool integer_input = false;
};

// Test names print as the case's name, not its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<torch::Tensor> make_inputs(const Case& c, std::int64_t batch) {
  std::vector<torch::Tensor> xs;
  for (const auto& s : c.inputs) {
    std::vector<std::int64_t> full{batch};
    full.insert(full.end(), s.begin(), s.end());
    xs.push_back(c.integer_input ? torch::randint(1, 9, full, torch::kLong)
                                 : torch::randn(full, torch::kFloat64));
  }
  return xs;
}

// d(sum(out · w))/d(input or weight) by central differences against autograd.
void gradient_check(LayerImpl& layer, std::vector<torch::Tensor> xs, const std::string& name) {
  std::vector<torch::Tensor> targets;
  for (auto& x : xs) {
    if (x.is_floating_point()) targets.push_back(x.requires_grad_(true));
  }
  for (auto& p : layer.parameters()) targets.push_back(p);
  auto outs = layer.call(xs);
  std::vector<torch::Tensor> weights;
  for (auto& o : outs) weights.push_back(torch::randn_like(o));
  auto objective = [&] {
    auto y = layer.call(xs);
    torch::Tensor total = torch::zeros({}, torch::kFloat64);
    for (std::size_t i = 0; i < y.size(); ++i) total = total + (y[i] * weights[i]).sum();
    return total;
  };
  auto grads = torch::autograd::grad({objective()}, targets, {}, false, false, true);
  torch::NoGradGuard no_grad;
  const double eps = 1e-6;
  for (std::size_t t = 0; t < targets.size(); ++t) {
    auto flat = targets[t].view({-1});
    const auto n = std::min<std::int64_t>(flat.numel(), 12);  // a sample of coordinates keeps it fast
    for (std::int64_t k = 0; k < n; ++k) {
      const auto i = (k * 7919) % flat.numel();
      const double orig = flat[i].item<double>();
      flat[i] = orig + eps;
      const double up = objective().item<double>();
      flat[i] = orig - eps;
      const double down = objective().item<double>();
      flat[i] = orig;
      const double numeric = (up - down) / (2 * eps);
      const double analytic = grads[t].defined() ? grads[t].reshape({-1})[i].item<double>() : 0.0;
      EXPECT_NEAR(analytic, numeric, 1e-4 * std::max(1.0, std::abs(numeric)))
          << name << ": target " << t << " coordinate " << i;
    }
  }
}

std::vector<Case> cases() {
  return {
      {"Dense", [] { return Dense(3, {.activation = "tanh"}); }, {{4}}},
      {"Dense3D", [] { return Dense(3); }, {{2, 4}}},
      {"Activation", [] { return Activation("elu"); }, {{5}}},
      {"ActivationSoftmax", [] { return Activation("softmax"); }, {{5}}},
      {"Dropout", [] { return Dropout(0.5); }, {{6}}},
      {"Flatten", [] { return Flatten(); }, {{2, 3, 2}}},
      {"Reshape",
       [] {
         return Reshape({3, -1});
       },
       {{6}}},
      {"Permute",
       [] {
         return Permute({2, 1});
       },
       {{3, 4}}},
      {"RepeatVector", [] { return RepeatVector(3); }, {{4}}},
      {"Embedding", [] { return Embedding(10, 3); }, {{4}}, true},
      {"Masking", [] { return Masking(0.0); }, {{3, 2}}},
      {"Conv1D", [] { return Conv1D(3, {3}, {.padding = "same"}); }, {{7, 2}}},
      {"Conv2D",
       [] { return Conv2D(3, {3}, {.strides = {2}, .padding = "same", .activation = "relu"}); },
       {{7, 6, 2}}},
      {"Conv2DDilated",
       [] {
         return Conv2D(2, {2, 3}, {.dilation_rate = {2}});
       },
       {{7, 8, 1}}},
      {"Conv2DTranspose",
       [] { return Conv2DTranspose(2, {3}, {.strides = {2}, .padding = "same"}); },
       {{3, 4, 2}}},
      {"Conv2DTransposeValid", [] { return Conv2DTranspose(2, {3}, {.strides = {2}}); }, {{3, 4, 2}}},
      {"MaxPooling1D", [] { return MaxPooling1D({2}); }, {{6, 2}}},
      {"MaxPooling2D",
       [] {
         return MaxPooling2D({2, 2}, {.padding = "same"});
       },
       {{5, 5, 2}}},
      {"AveragePooling1D", [] { return AveragePooling1D({3}, {.strides = {1}}); }, {{6, 2}}},
      {"AveragePooling2D",
       [] {
         return AveragePooling2D({2, 2}, {.padding = "same"});
       },
       {{5, 4, 2}}},
      {"GlobalAveragePooling1D", [] { return GlobalAveragePooling1D(); }, {{4, 3}}},
      {"GlobalAveragePooling2D", [] { return GlobalAveragePooling2D(); }, {{3, 4, 2}}},
      {"GlobalMaxPooling1D", [] { return GlobalMaxPooling1D(); }, {{4, 3}}},
      {"GlobalMaxPooling2D", [] { return GlobalMaxPooling2D(); }, {{3, 4, 2}}},
      {"ZeroPadding2D",
       [] {
         return ZeroPadding2D({1, 2, 0, 1});
       },
       {{3, 3, 2}}},
      {"UpSampling2D",
       [] {
         return UpSampling2D({2, 3});
       },
       {{2, 2, 1}}},
      {"UpSampling2DBilinear", [] { return UpSampling2D({2}, "bilinear"); }, {{2, 3, 1}}},
      {"BatchNormalization", [] { return BatchNormalization(); }, {{3, 4}}},
      {"LayerNormalization", [] { return LayerNormalization(); }, {{2, 5}}},
      {"SimpleRNN", [] { return SimpleRNN(3, {.return_sequences = true}); }, {{4, 2}}},
      {"LSTM", [] { return LSTM(3, {.return_state = true}); }, {{4, 2}}},
      {"GRU", [] { return GRU(3); }, {{4, 2}}},
      {"Bidirectional", [] { return Bidirectional(LSTM(3, {.return_sequences = true})); }, {{4, 2}}},
      {"TimeDistributed", [] { return TimeDistributed(Dense(2)); }, {{3, 4}}},
      {"MultiHeadAttention", [] { return MultiHeadAttention(2, 3); }, {{4, 5}, {3, 6}}},
      {"MultiHeadAttentionCausal",
       [] { return MultiHeadAttention(2, 3, {.use_causal_mask = true}); },
       {{4, 5}, {4, 5}}},
      {"Add", [] { return Add(); }, {{3}, {3}}},
      {"Subtract", [] { return Subtract(); }, {{3}, {3}}},
      {"Multiply", [] { return Multiply(); }, {{3}, {3}, {3}}},
      {"Average", [] { return Average(); }, {{3}, {3}}},
      {"Maximum", [] { return Maximum(); }, {{3}, {3}}},
      {"Minimum", [] { return Minimum(); }, {{3}, {3}}},
      {"Concatenate", [] { return Concatenate(1); }, {{2, 3}, {4, 3}}},
      {"Dot", [] { return Dot({1}, true); }, {{4}, {4}}},
      {"DotSequences",
       [] {
         return Dot({2, 2});
       },
       {{3, 4}, {5, 4}}},
  };
}

class LayerCase : public ::testing::TestWithParam<Case> {};

TEST_P(LayerCase, DeclaredShapeMatchesComputedShape) {
  torch::manual_seed(0);
  const auto& c = GetParam();
  auto layer = c.make();
  auto declared = layer->build(c.inputs);
  layer->to(torch::kFloat64);
  layer->eval();
  auto outs = layer->call(make_inputs(c, 3));
  ASSERT_EQ(outs.size(), declared.size());
  for (std::size_t i = 0; i < outs.size(); ++i) {
    std::vector<std::int64_t> expected{3};
    expected.insert(expected.end(), declared[i].begin(), declared[i].end());
    EXPECT_EQ(outs[i].sizes().vec(), expected) << c.name << " output " << i;
  }
}

TEST_P(LayerCase, GradientsMatchFiniteDifferences) {
  torch::manual_seed(1);
  const auto& c = GetParam();
  auto layer = c.make();
  layer->build(c.inputs);
  layer->to(torch::kFloat64);
  layer->eval();  // dropout off, moving statistics: a deterministic function to differentiate
  gradient_check(*layer, make_inputs(c, 2), c.name);
}

INSTANTIATE_TEST_SUITE_P(AllLayers, LayerCase, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

TEST(Merge, LayersComputeTheirOperation) {
  auto a = torch::tensor({{1.0, -2.0, 3.0}}), b = torch::tensor({{4.0, 5.0, -6.0}});
  EXPECT_TRUE(Add()->call({a, b})[0].equal(torch::tensor({{5.0, 3.0, -3.0}})));
  EXPECT_TRUE(Subtract()->call({a, b})[0].equal(torch::tensor({{-3.0, -7.0, 9.0}})));
  EXPECT_TRUE(Multiply()->call({a, b})[0].equal(torch::tensor({{4.0, -10.0, -18.0}})));
  EXPECT_TRUE(Average()->call({a, b})[0].equal(torch::tensor({{2.5, 1.5, -1.5}})));
  EXPECT_TRUE(Maximum()->call({a, b})[0].equal(torch::tensor({{4.0, 5.0, 3.0}})));
  EXPECT_TRUE(Minimum()->call({a, b})[0].equal(torch::tensor({{1.0, -2.0, -6.0}})));
  EXPECT_EQ(Concatenate()->call({a, b})[0].sizes().vec(), (std::vector<std::int64_t>{1, 6}));
  EXPECT_NEAR(Dot({1})->call({a, b})[0].item<double>(), 4 - 10 - 18, 1e-9);
  const double cosine = -24.0 / (std::sqrt(14.0) * std::sqrt(77.0));
  EXPECT_NEAR(Dot({1}, true)->call({a, b})[0].item<double>(), cosine, 1e-6);
}

TEST(Merge, SubtractTakesExactlyTwoInputs) {
  auto x = Input({3});
  EXPECT_THROW(Subtract()({x, x, x}), Error);
  EXPECT_THROW(Add()({x}), Error);
}

TEST(Errors, MismatchedShapeNamesLayerAndBothShapes) {
  auto dense = Dense(4, {.input_shape = {500}, .name = "classifier"});
  try {
    dense(Input({400}));
    FAIL() << "expected dojo::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("classifier"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(None, 500)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(None, 400)"), std::string::npos) << msg;
  }
  auto add = Add("sum");
  try {
    add({Input({3}), Input({4})});
    FAIL() << "expected dojo::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("sum"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(None, 3)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(None, 4)"), std::string::npos) << msg;
  }
}

TEST(Errors, BadOptionsAreRejectedAtConstruction) {
  EXPECT_THROW(Dense(0), Error);
  EXPECT_THROW(Dense(3, {.activation = "relux"}), Error);
  EXPECT_THROW(Conv2D(3, {3}, {.padding = "full"}), Error);
  EXPECT_THROW(Dropout(1.5), Error);
  EXPECT_THROW(Reshape({-1, -1}), Error);
}

TEST(Masking, EmbeddingMaskZeroKeepsLstmStateOverPadding) {
  torch::manual_seed(0);
  auto in = Input({kNone}, {.dtype = "int64"});
  auto emb = Embedding(10, 3, {.mask_zero = true});
  auto lstm = LSTM(5);
  Model model(in, lstm(emb(in)));
  // The same sequence with and without trailing padding gives the same final state.
  auto padded = torch::tensor({{3, 4, 0, 0}}, torch::kLong);
  auto a = model.predict(padded);
  auto b = model.predict(torch::tensor({{3, 4}}, torch::kLong));
  EXPECT_TRUE(torch::allclose(a, b, 1e-6, 1e-6));
}

}  // namespace
}  // namespace dojo::nn
