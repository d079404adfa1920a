// Models: summaries as Keras prints them, Sequential and functional wiring, freezing, fit,
// callbacks, save/load (also in a fresh process), and the zoo's parameter counts.
#include "nn/model.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>

#include "core/checkpoint.h"
#include "core/error.h"
#include "nn/layers.h"
#include "nn/zoo.h"
#include "test_util.h"

namespace dojo::nn {
namespace {

TEST(Summary, SequentialMatchesKeras) {
  reset_names();
  Sequential model;
  model.add(Dense(32, {.input_shape = {500}}));
  model.add(Dense(10, {.activation = "softmax"}));
  const std::string expected =
      "Model: \"sequential\"\n"
      "_________________________________________________________________\n"
      "Layer (type)                 Output Shape              Param #   \n"
      "=================================================================\n"
      "dense (Dense)                (None, 32)                16032     \n"
      "_________________________________________________________________\n"
      "dense_1 (Dense)              (None, 10)                330       \n"
      "=================================================================\n"
      "Total params: 16,362\n"
      "Trainable params: 16,362\n"
      "Non-trainable params: 0\n"
      "_________________________________________________________________\n";
  EXPECT_EQ(model.summary_string(), expected);
}

TEST(Names, FreshNamesCountAfreshAndRestoreTheProcessCount) {
  reset_names();
  EXPECT_EQ(Dense(4)->name(), "dense");
  EXPECT_EQ(Dense(4)->name(), "dense_1");
  {
    const FreshNames fresh;
    EXPECT_EQ(Dense(4)->name(), "dense");  // as in a process that built nothing before
    EXPECT_EQ(Dense(4)->name(), "dense_1");
  }
  EXPECT_EQ(Dense(4)->name(), "dense_2");  // the outer count goes on
}

TEST(Summary, FunctionalShowsConnections) {
  reset_names();
  auto a = Input({16});
  auto b = Input({32});
  auto x1 = Dense(8, {.activation = "relu"})(a);
  auto x2 = Dense(8, {.activation = "relu"})(b);
  auto added = Add()({x1, x2});
  Model m({a, b}, Dense(4)(added));
  const auto s = m.summary_string();
  EXPECT_NE(s.find("Connected to"), std::string::npos);
  EXPECT_NE(s.find("input_1 (InputLayer)            [(None, 16)]         0"), std::string::npos) << s;
  EXPECT_NE(s.find("add (Add)                       (None, 8)            0           dense[0][0]"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("                                                                 dense_1[0][0]"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("Total params: 436"), std::string::npos);
}

TEST(Summary, ThousandsSeparatorsAndNonTrainable) {
  reset_names();
  Sequential model;
  model.add(Dense(1000, {.input_shape = {1000}}));
  model.add(BatchNormalization());
  const auto s = model.summary_string();
  EXPECT_NE(s.find("Total params: 1,005,000"), std::string::npos) << s;
  EXPECT_NE(s.find("Trainable params: 1,003,000"), std::string::npos) << s;
  EXPECT_NE(s.find("Non-trainable params: 2,000"), std::string::npos) << s;
}

TEST(Sequential, AddPopGetLayerAndDeferredBuild) {
  Sequential model;
  model.add(Dense(8, {.name = "hidden"}));
  model.add(Dense(2, {.name = "out"}));
  EXPECT_THROW(model.summary_string(), Error);  // no input shape yet
  auto y = model.predict(torch::randn({5, 3}));
  EXPECT_EQ(y.sizes().vec(), (std::vector<std::int64_t>{5, 2}));
  EXPECT_EQ(model.get_layer("hidden")->output_shapes()[0], (Shape{8}));
  model.pop();
  EXPECT_EQ(model.predict(torch::randn({5, 3})).sizes().vec(), (std::vector<std::int64_t>{5, 8}));
  EXPECT_THROW(model.get_layer("out"), Error);
}

TEST(Functional, SharedLayersAndNestedModels) {
  auto shared = Dense(4);
  auto a = Input({3}), b = Input({3});
  Model siamese({a, b}, Subtract()({shared(a), shared(b)}));
  auto x = torch::randn({2, 3});
  EXPECT_TRUE(siamese.predict({x, x}).abs().max().item<double>() < 1e-6);  // same weights both sides
  auto inner = Sequential({Dense(5, {.input_shape = {3}}), Dense(2)});
  auto in = Input({3});
  Model outer(in, Dense(1)(inner(in)));
  EXPECT_EQ(outer.count_params(), (3 * 5 + 5) + (5 * 2 + 2) + (2 + 1));
  EXPECT_EQ(outer.predict(x).sizes().vec(), (std::vector<std::int64_t>{2, 1}));
}

TEST(Functional, DisconnectedGraphIsAnError) {
  auto a = Input({3}), b = Input({3});
  auto y = Add()({a, b});
  EXPECT_THROW(Model(a, y), Error);
}

TEST(Trainable, FrozenLayersKeepTheirWeights) {
  torch::manual_seed(0);
  auto frozen = Dense(4, {.input_shape = {3}});
  Sequential model({frozen, Dense(1)});
  frozen->set_trainable(false);
  EXPECT_EQ(model->trainable_param_count(), 5);
  EXPECT_EQ(model->non_trainable_param_count(), 16);
  auto before = frozen->named_parameters()["kernel"].clone();
  model.compile("sgd", "mse");
  model.fit(torch::randn({64, 3}), torch::randn({64, 1}), {.epochs = 2, .verbose = 0});
  EXPECT_TRUE(frozen->named_parameters()["kernel"].equal(before));
}

TEST(Fit, LearnsXorAndReportsHistory) {
  torch::manual_seed(0);
  auto x = torch::tensor({{0.f, 0.f}, {0.f, 1.f}, {1.f, 0.f}, {1.f, 1.f}}).repeat({16, 1});
  auto y = torch::tensor({0.f, 1.f, 1.f, 0.f}).repeat({16}).unsqueeze(1);
  Sequential model(
      {Dense(16, {.activation = "tanh", .input_shape = {2}}), Dense(1, {.activation = "sigmoid"})});
  model.compile(optimizers::Adam(0.05), "binary_crossentropy", {"accuracy"});
  auto h = model.fit(x, y, {.batch_size = 8, .epochs = 60, .verbose = 0});
  EXPECT_EQ(h.epoch.size(), 60u);
  EXPECT_LT(h.history["loss"].back(), h.history["loss"].front());
  EXPECT_DOUBLE_EQ(model.evaluate(x, y).at("accuracy"), 1.0);
}

TEST(Fit, SameSeedSameHistory) {
  auto run = [] {
    torch::manual_seed(3);
    Sequential m({Dense(8, {.activation = "relu", .input_shape = {4}}), Dropout(0.2),
                  Dense(3, {.activation = "softmax"})});
    m.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
    auto x = torch::randn({100, 4});
    auto y = torch::randint(0, 3, {100}, torch::kLong);
    return m.fit(x, y, {.batch_size = 16, .epochs = 3, .verbose = 0, .validation_split = 0.2})
        .history["val_loss"];
  };
  EXPECT_EQ(run(), run());
}

TEST(Device, ToKeepsTheOptimizerStateAndPredictReturnsHostTensors) {
  // Two identical models; one is moved (to the CPU it is on: the round trip through the optimizer's
  // state must keep Adam's moments, or its next epoch would differ from the unmoved twin's).
  auto make = [] {
    torch::manual_seed(5);
    Sequential m({Dense(8, {.activation = "tanh", .input_shape = {3}}), Dense(1)});
    m.compile(optimizers::Adam(0.01), "mse");
    return m;
  };
  torch::manual_seed(6);
  const auto x = torch::randn({64, 3}), y = x.sum(1, true);
  auto a = make(), b = make();
  for (auto* m : {&a, &b}) m->fit(x, y, {.batch_size = 16, .epochs = 2, .verbose = 0, .shuffle = false});
  b.to("cpu");
  EXPECT_EQ(b.device(), c10::Device(c10::kCPU));
  for (auto* m : {&a, &b}) m->fit(x, y, {.batch_size = 16, .epochs = 2, .verbose = 0, .shuffle = false});
  EXPECT_TRUE(torch::equal(a.predict(x), b.predict(x)));
  EXPECT_EQ(b.predict(x).device(), c10::Device(c10::kCPU));
  // A device this build cannot use, or a name that is none, is a dojo::Error and moves nothing.
  EXPECT_THROW(b.to("gpu"), Error);
  if (!torch::cuda::is_available()) {
    EXPECT_THROW(b.to("cuda"), Error);
  }
  EXPECT_EQ(b.device(), c10::Device(c10::kCPU));
  // A Sequential built later from its first data builds where the model was put.
  Sequential lazy({Dense(2)});
  lazy.to("auto");
  lazy.compile("sgd", "mse");
  lazy.fit(torch::ones({4, 5}), torch::zeros({4, 2}), {.verbose = 0});
  for (const auto& p : lazy->parameters()) EXPECT_EQ(p.device(), lazy.device());
}

TEST(Fit, BadInputsAreClearErrors) {
  Sequential m({Dense(2, {.input_shape = {4}})});
  EXPECT_THROW(m.fit(torch::randn({8, 4}), torch::randn({8, 2})), Error);  // not compiled
  m.compile("adam", "mse");
  EXPECT_THROW(m.fit(torch::randn({8, 5}), torch::randn({8, 2}), {.verbose = 0}), Error);
  EXPECT_THROW(m.fit(torch::randn({8, 4}), torch::randn({7, 2}), {.verbose = 0}), Error);
  EXPECT_THROW(m.compile("adamm", "mse"), Error);
  EXPECT_THROW(m.compile("adam", "msee"), Error);
  EXPECT_THROW(m.compile("adam", "mse", {"acuracy"}), Error);
}

TEST(Fit, ClassWeightScalesTheLoss) {
  torch::manual_seed(0);
  Sequential m({Dense(2, {.activation = "softmax", .input_shape = {3}})});
  m.compile("sgd", "sparse_categorical_crossentropy");
  auto x = torch::randn({4, 3});
  auto y = torch::tensor({0, 0, 1, 1}, torch::kLong);
  auto w = m->get_weights();
  const double plain =
      m.fit(x, y, {.batch_size = 4, .epochs = 1, .verbose = 0, .shuffle = false}).history["loss"][0];
  m->set_weights(w);
  const double doubled = m.fit(x, y,
                               {.batch_size = 4,
                                .epochs = 1,
                                .verbose = 0,
                                .shuffle = false,
                                .class_weight = {{0, 2.0}, {1, 2.0}}})
                             .history["loss"][0];
  EXPECT_NEAR(doubled, 2 * plain, 1e-5);
}

// A model whose validation loss can only get worse: lr so high that training diverges.
Sequential diverging_model() {
  torch::manual_seed(0);
  Sequential m({Dense(1, {.input_shape = {2}})});
  m.compile(optimizers::SGD(0.9), "mse");
  return m;
}

TEST(Callbacks, EarlyStoppingStopsAndRestoresBestWeights) {
  torch::manual_seed(0);
  auto x = torch::randn({64, 2}) * 3, y = torch::randn({64, 1});
  auto m = diverging_model();
  auto stop = std::make_shared<EarlyStopping>(
      EarlyStoppingOptions{.monitor = "val_loss", .patience = 2, .restore_best_weights = true});
  auto h = m.fit(x, y, {.epochs = 20, .verbose = 0, .validation_split = 0.25, .callbacks = {stop}});
  EXPECT_LT(h.epoch.size(), 20u);
  EXPECT_EQ(stop->stopped_epoch(), static_cast<std::int64_t>(h.epoch.size()) - 1);
  // The restored weights give the best validation loss seen.
  const auto& val = h.history["val_loss"];
  const double best_val = *std::min_element(val.begin(), val.end());
  EXPECT_NEAR(m.evaluate(x.slice(0, 48, 64), y.slice(0, 48, 64)).at("loss"), best_val,
              1e-4 * std::max(1.0, best_val));
}

TEST(Callbacks, ReduceLROnPlateauLowersTheLearningRate) {
  auto m = diverging_model();
  auto reduce = std::make_shared<ReduceLROnPlateau>(
      ReduceLROnPlateauOptions{.monitor = "loss", .factor = 0.5, .patience = 1});
  auto x = torch::randn({32, 2}) * 3, y = torch::randn({32, 1});
  m.fit(x, y, {.epochs = 6, .verbose = 0, .callbacks = {reduce}});
  EXPECT_LT(m->learning_rate(), 0.9);
  EXPECT_GE(m->learning_rate(), 0.9 * std::pow(0.5, 6));
}

TEST(Callbacks, ModelCheckpointKeepsTheBest) {
  const auto dir = test::fresh_path("nn_checkpoint");
  std::filesystem::create_directories(dir);
  auto m = diverging_model();
  auto ckpt = std::make_shared<ModelCheckpoint>(
      dir / "best.dojo", ModelCheckpointOptions{.monitor = "val_loss", .save_best_only = true});
  auto x = torch::randn({64, 2}) * 3, y = torch::randn({64, 1});
  auto h = m.fit(x, y, {.epochs = 6, .verbose = 0, .validation_split = 0.25, .callbacks = {ckpt}});
  const auto& val = h.history["val_loss"];
  const double best = *std::min_element(val.begin(), val.end());
  ASSERT_TRUE(ckpt->best().has_value());
  EXPECT_DOUBLE_EQ(*ckpt->best(), best);
  auto loaded = load_model(dir / "best.dojo");
  loaded.compile("sgd", "mse");
  EXPECT_NEAR(loaded.evaluate(x.slice(0, 48, 64), y.slice(0, 48, 64)).at("loss"), best,
              1e-4 * std::max(1.0, best));
}

TEST(Callbacks, SchedulerCsvLoggerAndTerminateOnNaN) {
  const auto dir = test::fresh_path("nn_csv");
  std::filesystem::create_directories(dir);
  torch::manual_seed(0);
  Sequential m({Dense(1, {.input_shape = {2}})});
  m.compile("sgd", "mse");
  auto sched =
      std::make_shared<LearningRateScheduler>([](std::int64_t epoch, double) { return 0.01 / (1 + epoch); });
  auto csv = std::make_shared<CSVLogger>(dir / "log.csv");
  m.fit(torch::randn({16, 2}), torch::randn({16, 1}), {.epochs = 3, .verbose = 0, .callbacks = {sched, csv}});
  EXPECT_NEAR(m->learning_rate(), 0.01 / 3, 1e-12);
  std::ifstream in(dir / "log.csv");
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header, "epoch,loss");
  int rows = 0;
  while (std::getline(in, line)) ++rows;
  EXPECT_EQ(rows, 3);

  auto bad = torch::full({16, 2}, 1e30f);
  Sequential n({Dense(1, {.input_shape = {2}})});
  n.compile(optimizers::SGD(1e10), "mse");
  auto h =
      n.fit(bad, torch::randn({16, 1}) * 1e30,
            {.batch_size = 4, .epochs = 5, .verbose = 0, .callbacks = {std::make_shared<TerminateOnNaN>()}});
  EXPECT_EQ(h.epoch.size(), 1u);
}

TEST(SaveLoad, WholeModelRoundTripIsBitIdentical) {
  const auto dir = test::fresh_path("nn_save");
  std::filesystem::create_directories(dir);
  torch::manual_seed(0);
  auto a = Input({6, 6, 1}), b = Input({4});
  auto y = Flatten()(MaxPooling2D({2, 2})(Conv2D(3, {3}, {.padding = "same", .activation = "relu"})(a)));
  auto z = Concatenate()({y, Dense(5)(b)});
  Model m({a, b}, Dense(2, {.activation = "softmax"})(BatchNormalization()(z)));
  auto xa = torch::randn({3, 6, 6, 1}), xb = torch::randn({3, 4});
  m.save(dir / "m.dojo");
  auto loaded = load_model(dir / "m.dojo");
  EXPECT_TRUE(loaded.predict({xa, xb}).equal(m.predict({xa, xb})));
  EXPECT_EQ(loaded.summary_string(), m.summary_string());
}

TEST(SaveLoad, FreshProcessPredictsBitIdentical) {
  const auto dir = test::fresh_path("nn_fresh");
  std::filesystem::create_directories(dir);
  torch::manual_seed(0);
  Sequential m({Embedding(20, 4, {.input_shape = {5}}), LSTM(6, {.return_sequences = true}),
                TimeDistributed(Dense(3, {.activation = "softmax"}))});
  auto x = torch::randint(0, 20, {4, 5}, torch::kLong);
  m.save(dir / "m.dojo");
  core::CheckpointWriter in;
  in.put("x0", x);
  in.save(dir / "in.ckpt");
  const auto cmd = std::string(std::getenv("DOJO_BIN")) + " model predict " + (dir / "m.dojo").string() +
                   " --input " + (dir / "in.ckpt").string() + " --output " + (dir / "out.ckpt").string() +
                   " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  core::CheckpointReader out(dir / "out.ckpt");
  EXPECT_TRUE(out.get_tensor("y").equal(m.predict(x)));
}

TEST(SaveLoad, WeightsThatDoNotFitAreAClearError) {
  const auto dir = test::fresh_path("nn_weights");
  std::filesystem::create_directories(dir);
  Sequential a({Dense(4, {.input_shape = {3}, .name = "d"})});
  a.save_weights(dir / "w.dojo");
  Sequential b({Dense(5, {.input_shape = {3}, .name = "d"})});
  try {
    b.load_weights(dir / "w.dojo");
    FAIL() << "expected dojo::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("shape"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_model(dir / "w.dojo"), Error);  // weights only: no architecture
  EXPECT_THROW(load_model(dir / "missing.dojo"), Error);
}

TEST(Zoo, ParameterCountsEqualTorchvision) {
  const std::vector<std::pair<std::string, std::int64_t>> expected = {
      {"lenet5", 61'706},       {"alexnet", 61'100'840},  {"vgg16", 138'357'544},  {"vgg19", 143'667'240},
      {"resnet18", 11'689'512}, {"resnet34", 21'797'672}, {"resnet50", 25'557'032}};
  for (const auto& [name, count] : expected) {
    auto m = zoo::build(name);
    EXPECT_EQ(m->trainable_param_count(), count) << name;
  }
  EXPECT_THROW(zoo::build("resnet19"), Error);
}

TEST(Zoo, SmallInputForwardShape) {
  auto m = zoo::build("resnet18", {.input_shape = {64, 64, 3}, .classes = 7});
  EXPECT_EQ(m.predict(torch::rand({2, 64, 64, 3})).sizes().vec(), (std::vector<std::int64_t>{2, 7}));
}

}  // namespace
}  // namespace dojo::nn

namespace dojo::nn {
namespace {

TEST(Fit, SeveralOutputsTrainWithOneLossEach) {
  torch::manual_seed(0);
  auto in = Input({4});
  auto h = Dense(16, {.activation = "relu"})(in);
  auto cls = Dense(3, {.activation = "softmax", .name = "cls"})(h);
  auto reg = Dense(1, {.name = "reg"})(h);
  Model m(in, std::vector<SymbolicTensor>{cls, reg});
  m.compile(optimizers::Adam(0.01), {"sparse_categorical_crossentropy", "mse"}, {"accuracy"}, {1.0, 0.5});
  auto x = torch::randn({256, 4});
  auto label = (x.select(1, 0) > 0).to(torch::kLong) + (x.select(1, 1) > 0.5).to(torch::kLong);
  auto target = x.sum(1, true);
  auto hist = m.fit(Dataset{{x}, {label, target}}, {.epochs = 30, .verbose = 0});
  for (const auto* key : {"loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_accuracy"}) {
    EXPECT_EQ(hist.history.count(key), 1u) << key;
  }
  EXPECT_NEAR(hist.history["loss"].back(),
              hist.history["cls_loss"].back() + 0.5 * hist.history["reg_loss"].back(), 1e-3);
  EXPECT_LT(hist.history["reg_loss"].back(), 0.5 * hist.history["reg_loss"].front());
  EXPECT_GT(hist.history["cls_accuracy"].back(), 0.8);
  EXPECT_THROW(m.compile("adam", {"mse", "mse", "mse"}, {}), Error);
  EXPECT_THROW(m.fit(Dataset{{x}, {label}}, {.verbose = 0}), Error);
}

}  // namespace
}  // namespace dojo::nn
