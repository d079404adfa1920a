// compile / fit / evaluate / predict: Keras' training loop on LibTorch.
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <iostream>

#include "core/distributed.h"
#include "core/error.h"
#include "core/strings.h"
#include "nn/model.h"
#include "nn/progbar.h"

namespace dojo::nn {

Optimizer::Optimizer(const std::string& name) {
  // Keras' defaults per optimizer (its epsilon is 1e-7 where LibTorch's is 1e-8).
  options.name = name;
  options.eps = 1e-7;
  if (name == "adam") {
    options.learning_rate = 1e-3;
  } else if (name == "adamw") {
    options.learning_rate = 1e-3;
    options.weight_decay = 0.004;
  } else if (name == "rmsprop") {
    options.learning_rate = 1e-3;
    options.alpha = 0.9;
  } else if (name == "sgd") {
    options.learning_rate = 0.01;
  } else if (name == "adagrad") {
    options.learning_rate = 1e-3;
    options.initial_accumulator_value = 0.1;
  } else {
    throw Error("unknown optimizer '" + name + "'" +
                core::did_you_mean(name, {"adam", "adamw", "rmsprop", "sgd", "adagrad"}));
  }
}

namespace optimizers {
Optimizer SGD(double lr, double momentum, bool nesterov) {
  Optimizer o("sgd");
  o.options.learning_rate = lr;
  o.options.momentum = momentum;
  o.options.nesterov = nesterov;
  return o;
}
Optimizer RMSprop(double lr, double rho, double momentum) {
  Optimizer o("rmsprop");
  o.options.learning_rate = lr;
  o.options.alpha = rho;
  o.options.momentum = momentum;
  return o;
}
Optimizer Adam(double lr, double beta_1, double beta_2, double epsilon) {
  Optimizer o("adam");
  o.options.learning_rate = lr;
  o.options.beta1 = beta_1;
  o.options.beta2 = beta_2;
  o.options.eps = epsilon;
  return o;
}
Optimizer AdamW(double lr, double weight_decay) {
  Optimizer o("adamw");
  o.options.learning_rate = lr;
  o.options.weight_decay = weight_decay;
  return o;
}
Optimizer Adagrad(double lr, double initial_accumulator_value) {
  Optimizer o("adagrad");
  o.options.learning_rate = lr;
  o.options.initial_accumulator_value = initial_accumulator_value;
  return o;
}
}  // namespace optimizers

void ModelImpl::compile(Optimizer optimizer, Loss loss, std::vector<Metric> metrics) {
  compile(std::move(optimizer), std::vector<Loss>{std::move(loss)}, std::move(metrics));
}

void ModelImpl::compile(Optimizer optimizer, std::vector<Loss> losses, std::vector<Metric> metrics,
                        std::vector<double> loss_weights) {
  if (optimizer.options.learning_rate <= 0) {
    throw Error("optimizer '" + optimizer.options.name + "': learning_rate must be positive, got " +
                std::to_string(optimizer.options.learning_rate));
  }
  if (losses.empty()) throw Error("compile: no loss given");
  if (losses.size() != 1 && losses.size() != outputs_.size() && built()) {
    throw Error("compile: " + std::to_string(losses.size()) + " losses for " +
                std::to_string(outputs_.size()) + " outputs; give one loss, or one per output");
  }
  if (!loss_weights.empty() && loss_weights.size() != std::max(losses.size(), outputs_.size())) {
    throw Error("compile: loss_weights needs one weight per output");
  }
  optimizer_options_ = optimizer.options;
  optimizer_.reset();  // made at the first step, from the weights that train then
  losses_ = std::move(losses);
  loss_weights_ = std::move(loss_weights);
  metrics_.clear();
  for (const auto& m : metrics) metrics_.push_back(m.resolved(losses_[0]));
}

double ModelImpl::learning_rate() const {
  if (optimizer_) return optimizer_->param_groups().at(0).options().get_lr();
  return optimizer_options_.learning_rate;
}

void ModelImpl::set_learning_rate(double lr) {
  optimizer_options_.learning_rate = lr;
  if (optimizer_) nn::set_learning_rate(*optimizer_, lr);
}

void ModelImpl::check_data(const Dataset& data, const std::string& what) const {
  const auto where = "model '" + name() + "' " + what;
  if (data.x.size() != inputs_.size()) {
    throw Error(where + ": takes " + std::to_string(inputs_.size()) + " input(s), got " +
                std::to_string(data.x.size()));
  }
  const auto n = data.size();
  for (std::size_t i = 0; i < data.x.size(); ++i) {
    const auto& x = data.x[i];
    if (!x.defined() || x.dim() < 1) throw Error(where + ": input " + std::to_string(i) + " is empty");
    Shape shape(x.sizes().begin() + 1, x.sizes().end());
    if (!shape_fits(inputs_[i].shape(), shape)) {
      throw Error(where + ": input " + std::to_string(i) + " ('" + inputs_[i].node()->layer->name() +
                  "') expects shape " + shape_str(inputs_[i].shape()) + ", got " + shape_str(shape));
    }
    if (x.size(0) != n) throw Error(where + ": inputs hold different numbers of samples");
  }
  if (!data.y.empty() && data.y.size() != outputs_.size()) {
    throw Error(where + ": " + std::to_string(data.y.size()) + " targets for " +
                std::to_string(outputs_.size()) + " outputs");
  }
  for (const auto& y : data.y) {
    if (y.defined() && y.size(0) == n) continue;
    throw Error(where + ": " + std::to_string(n) + " samples but " +
                std::to_string(y.defined() ? y.size(0) : 0) + " targets");
  }
}

void ModelImpl::check_losses() const {
  if (losses_.size() != 1 && losses_.size() != outputs_.size()) {
    throw Error("model '" + name() + "' has " + std::to_string(outputs_.size()) +
                " outputs but was compiled with " + std::to_string(losses_.size()) + " losses");
  }
  if (!loss_weights_.empty() && loss_weights_.size() != outputs_.size()) {
    throw Error("model '" + name() + "': " + std::to_string(loss_weights_.size()) + " loss weights for " +
                std::to_string(outputs_.size()) + " outputs");
  }
}

ModelImpl::StepResult ModelImpl::step_losses(const Dataset& batch_in, bool train) {
  const auto batch = batch_in.to(device_);
  auto outputs = call(batch.x);
  StepResult r;
  std::vector<torch::Tensor> output_losses;
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    auto per_sample = losses_[losses_.size() == 1 ? 0 : o].per_sample(outputs[o], batch.y[o]);
    if (batch.sample_weight.defined()) per_sample = per_sample * batch.sample_weight;
    const double w = loss_weights_.empty() ? 1.0 : loss_weights_[o];
    r.total = r.total.defined() ? r.total + w * per_sample : w * per_sample;
    output_losses.push_back(per_sample);
  }
  torch::NoGradGuard no_grad;
  // Several outputs: each one's loss, then each one's metrics (Keras' "<output>_loss",
  // "<output>_<metric>"); one output: its metrics.
  if (outputs.size() > 1) {
    for (const auto& l : output_losses) r.terms.push_back(l.detach().sum());
  }
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    auto p = train ? outputs[o].detach() : outputs[o];
    for (const auto& m : metrics_) r.terms.push_back(m.per_sample(p, batch.y[o]).sum());
  }
  return r;
}

std::vector<std::string> ModelImpl::term_names() const {
  std::vector<std::string> names;
  if (outputs_.size() == 1) {
    for (const auto& m : metrics_) names.push_back(m.name());
    return names;
  }
  for (const auto& o : outputs_) names.push_back(o.node()->layer->name() + "_loss");
  for (const auto& o : outputs_) {
    for (const auto& m : metrics_) names.push_back(o.node()->layer->name() + "_" + m.name());
  }
  return names;
}

namespace {

// Keras' class_weight: each sample weighs as much as its class (sparse labels or one-hot rows).
torch::Tensor class_weights(const torch::Tensor& y, const std::map<std::int64_t, double>& weights) {
  auto labels = (y.dim() >= 2 && y.size(-1) > 1) ? y.argmax(-1) : y.reshape({y.size(0), -1}).select(1, 0);
  labels = labels.to(torch::kLong).reshape({y.size(0), -1}).select(1, 0);
  const auto max_label = labels.max().item<std::int64_t>();
  std::vector<float> table(static_cast<std::size_t>(max_label + 1), 1.0f);
  for (std::int64_t c = 0; c <= max_label; ++c) {
    auto it = weights.find(c);
    if (it == weights.end()) {
      if ((labels == c).any().item<bool>()) {
        throw Error("class_weight has no weight for class " + std::to_string(c) +
                    ", which occurs in the targets");
      }
      continue;
    }
    table[static_cast<std::size_t>(c)] = static_cast<float>(it->second);
  }
  return torch::tensor(table).index_select(0, labels);
}

bool stdout_is_terminal() { return isatty(STDOUT_FILENO) != 0; }

}  // namespace

Logs ModelImpl::run_epoch(const Dataset& train, const FitOptions& o, Progbar& bar,
                          std::vector<CallbackPtr>& callbacks) {
  const auto n = train.size();
  // Data parallel (DDP with a DistributedSampler): every step takes world × batch_size samples of one
  // permutation (rank 0's), each rank every world-th of them, and the gradients are averaged over all
  // of them; so W ranks with batch B take the steps one process takes with batch W·B.
  const int world = core::dist_world_size(), rank = core::dist_rank();
  const auto global_batch = o.batch_size * world;
  const auto steps = (n + global_batch - 1) / global_batch;
  auto perm = o.shuffle ? torch::randperm(n, torch::kLong) : torch::Tensor();
  if (world > 1) {
    if (!perm.defined()) perm = torch::arange(n, torch::kLong);
    std::vector<torch::Tensor> shared{perm};
    core::process_group()->broadcast(shared);
  }
  const auto names = term_names();
  double loss_sum = 0;
  std::vector<double> sums(names.size(), 0.0);
  std::int64_t seen = 0;
  Logs logs;
  const auto report = [&](double count) {
    logs = Logs();
    logs.set("loss", loss_sum / count);
    for (std::size_t t = 0; t < names.size(); ++t) logs.set(names[t], sums[t] / count);
  };
  this->train();
  for (std::int64_t step = 0; step < steps; ++step) {
    const auto begin = step * global_batch, end = std::min(n, begin + global_batch);
    Dataset batch;
    if (world > 1) {
      batch = train.index(perm.slice(0, begin + rank, end, world));
    } else {
      batch = o.shuffle ? train.index(perm.slice(0, begin, end)) : train.slice(begin, end);
    }
    const auto bs = batch.size();
    for (auto& cb : callbacks) cb->on_train_batch_begin(step, logs);
    double loss = 0;
    if (bs > 0) {
      auto r = step_losses(batch, true);
      loss = backward(*optimizer_, r.total.mean());
      for (std::size_t t = 0; t < names.size(); ++t) sums[t] += r.terms[t].item<double>();
    } else {  // the last step can leave a rank without samples; it still joins the average
      for (auto& p : optimizer_params(*optimizer_)) p.mutable_grad().reset();
    }
    core::average_gradients(optimizer_params(*optimizer_), bs, end - begin);
    clip_and_step(*optimizer_, 0.0);
    loss_sum += loss * static_cast<double>(bs);
    seen += bs;
    report(static_cast<double>(std::max<std::int64_t>(seen, 1)));
    for (auto& cb : callbacks) cb->on_train_batch_end(step, logs);
    if (step + 1 < steps) bar.update(step + 1, logs);
    // Every rank must stop at the same step, or the others wait in a collective for it.
    if (world > 1) stop_training = core::process_group()->allreduce_sum({stop_training ? 1.0 : 0.0})[0] > 0;
    if (stop_training) break;
  }
  if (world > 1) {  // the epoch's figures over every rank's samples
    std::vector<double> totals{loss_sum, static_cast<double>(seen)};
    totals.insert(totals.end(), sums.begin(), sums.end());
    totals = core::process_group()->allreduce_sum(totals);
    loss_sum = totals[0];
    std::copy(totals.begin() + 2, totals.end(), sums.begin());
    report(std::max(totals[1], 1.0));
  }
  this->eval();
  return logs;
}

Logs ModelImpl::test_step_all(const Dataset& data, std::int64_t batch_size) {
  torch::NoGradGuard no_grad;
  this->eval();
  // Data parallel: each rank evaluates every world-th sample and the sums are added up.
  const int world = core::dist_world_size(), rank = core::dist_rank();
  const auto shard = world > 1 ? data.index(torch::arange(rank, data.size(), world, torch::kLong)) : data;
  const auto n = shard.size();
  const auto names = term_names();
  std::vector<double> sums(names.size() + 1, 0.0);  // the loss, then each term
  for (std::int64_t begin = 0; begin < n; begin += batch_size) {
    auto r = step_losses(shard.slice(begin, std::min(n, begin + batch_size)), false);
    sums[0] += r.total.sum().item<double>();
    for (std::size_t t = 0; t < names.size(); ++t) sums[t + 1] += r.terms[t].item<double>();
  }
  if (world > 1) sums = core::process_group()->allreduce_sum(sums);
  const auto count = static_cast<double>(std::max<std::int64_t>(data.size(), 1));
  Logs logs;
  logs.set("loss", sums[0] / count);
  for (std::size_t t = 0; t < names.size(); ++t) logs.set(names[t], sums[t + 1] / count);
  return logs;
}

History ModelImpl::fit(const torch::Tensor& x, const torch::Tensor& y, FitOptions o) {
  return fit(Dataset{{x}, {y}}, std::move(o));
}

History ModelImpl::fit(const Dataset& data_in, FitOptions o) {
  if (losses_.empty()) throw Error("model '" + name() + "': call compile() before fit()");
  if (o.batch_size <= 0) throw Error("fit: batch_size must be positive, got " + std::to_string(o.batch_size));
  if (o.epochs < 0 || o.initial_epoch < 0) throw Error("fit: epochs and initial_epoch must not be negative");
  if (!(o.validation_split >= 0 && o.validation_split < 1)) {
    throw Error("fit: validation_split must be in [0, 1), got " + std::to_string(o.validation_split));
  }
  if (o.verbose < 0 || o.verbose > 2)
    throw Error("fit: verbose must be 0, 1 or 2, got " + std::to_string(o.verbose));
  if (data_in.y.empty()) throw Error("fit: targets (y) are missing");
  ensure_built(data_in.x);
  check_losses();
  check_data(data_in, "fit");
  Dataset train = data_in, val = o.validation_data;
  if (!val.defined() && o.validation_split > 0) {
    // Keras takes the last samples, before any shuffling.
    const auto split_at =
        static_cast<std::int64_t>(static_cast<double>(train.size()) * (1.0 - o.validation_split));
    val = data_in.slice(split_at, data_in.size());
    train = data_in.slice(0, split_at);
  }
  if (val.defined()) check_data(val, "validation data");
  if (train.size() == 0) throw Error("fit: no training samples");
  if (!o.class_weight.empty()) {
    if (outputs_.size() != 1) throw Error("fit: class_weight applies to single-output models");
    auto w = class_weights(train.y[0], o.class_weight);
    train.sample_weight = train.sample_weight.defined() ? train.sample_weight * w : w;
  }
  if (!optimizer_) {
    std::vector<torch::Tensor> params;
    for (const auto& p : parameters()) {
      if (p.requires_grad()) params.push_back(p);
    }
    if (params.empty()) throw Error("model '" + name() + "' has no trainable weights");
    optimizer_ = make_optimizer(params, optimizer_options_);
  }
  core::broadcast_module(*this);  // data parallel: every rank starts from rank 0's weights

  History history;
  auto callbacks = o.callbacks;
  for (auto& cb : callbacks) cb->set_model(this);
  stop_training = false;
  for (auto& cb : callbacks) cb->on_train_begin({});
  Logs logs;
  // Steps an epoch: data parallel, each takes batch_size samples on every rank.
  const auto global_batch = o.batch_size * core::dist_world_size();
  const auto steps = (train.size() + global_batch - 1) / global_batch;
  for (std::int64_t epoch = o.initial_epoch; epoch < o.epochs; ++epoch) {
    if (o.verbose > 0) std::cout << "Epoch " << epoch + 1 << "/" << o.epochs << "\n" << std::flush;
    for (auto& cb : callbacks) cb->on_epoch_begin(epoch, {});
    Progbar bar(steps, o.verbose, std::cout, stdout_is_terminal());
    logs = run_epoch(train, o, bar, callbacks);
    if (val.defined() && !stop_training) {
      auto v = test_step_all(val, o.batch_size);
      for (const auto& [k, value] : v.items()) logs.set("val_" + k, value);
    }
    bar.update(steps, logs, true);
    for (auto& cb : callbacks) cb->on_epoch_end(epoch, logs);
    history.epoch.push_back(epoch);
    for (const auto& [k, value] : logs.items()) history.history[k].push_back(value);
    if (stop_training) break;
  }
  for (auto& cb : callbacks) cb->on_train_end(logs);
  return history;
}

Logs ModelImpl::train_on_batch(const std::vector<torch::Tensor>& x, const torch::Tensor& y) {
  FitOptions o;
  o.batch_size = x.empty() ? 1 : std::max<std::int64_t>(x[0].size(0), 1);
  o.verbose = 0;
  o.shuffle = false;
  o.epochs = 1;
  auto h = fit(Dataset{x, {y}}, o);
  Logs logs;
  for (const auto& [k, v] : h.history) logs.set(k, v.back());
  return logs;
}

Logs ModelImpl::evaluate(const torch::Tensor& x, const torch::Tensor& y, std::int64_t batch_size,
                         int verbose) {
  return evaluate(Dataset{{x}, {y}}, batch_size, verbose);
}

Logs ModelImpl::evaluate(const Dataset& data, std::int64_t batch_size, int verbose) {
  if (losses_.empty()) throw Error("model '" + name() + "': call compile() before evaluate()");
  if (batch_size <= 0)
    throw Error("evaluate: batch_size must be positive, got " + std::to_string(batch_size));
  ensure_built(data.x);
  check_losses();
  check_data(data, "evaluate");
  auto logs = test_step_all(data, batch_size);
  if (verbose > 0) {
    Progbar bar((data.size() + batch_size - 1) / batch_size, verbose, std::cout, stdout_is_terminal());
    bar.update((data.size() + batch_size - 1) / batch_size, logs, true);
  }
  return logs;
}

torch::Tensor ModelImpl::predict(const torch::Tensor& x, std::int64_t batch_size) {
  return predict(std::vector<torch::Tensor>{x}, batch_size);
}

torch::Tensor ModelImpl::predict(const std::vector<torch::Tensor>& x, std::int64_t batch_size) {
  if (batch_size <= 0) throw Error("predict: batch_size must be positive, got " + std::to_string(batch_size));
  ensure_built(x);
  Dataset d{x};
  check_data(d, "predict");
  torch::NoGradGuard no_grad;
  this->eval();
  std::vector<torch::Tensor> parts;
  for (std::int64_t begin = 0; begin < d.size(); begin += batch_size) {
    parts.push_back(call(d.slice(begin, std::min(d.size(), begin + batch_size)).to(device_).x)[0].cpu());
  }
  return parts.size() == 1 ? parts[0] : torch::cat(parts, 0);
}

}  // namespace dojo::nn
