// Distributions built from others: the factorised product p(x|z) * p(z), renamed variables
// (replace_var), marginals (marginalize_var) and the data itself (DataDistribution).
#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <set>

#include "core/error.h"
#include "core/strings.h"
#include "prob/distribution.h"

namespace dojo::prob {

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The formula helpers belong to distributions with parameters; a composite has none.
class Composite : public Distribution {
 public:
  explicit Composite(DistOptions o) : Distribution(std::move(o), Params{}) {}
  Params params(const Dict&, std::int64_t) const override { fail("has no parameters of its own"); }
  torch::Tensor sample_from(const Params&, bool) const override { fail("has no parameters of its own"); }
  torch::Tensor log_prob_from(const Params&, const torch::Tensor&) const override {
    fail("has no parameters of its own");
  }
  torch::Tensor entropy_from(const Params&) const override { fail("has no closed-form entropy"); }
  torch::Tensor mean_from(const Params&) const override { fail("has no closed-form mean"); }
  torch::Tensor variance_from(const Params&) const override { fail("has no closed-form variance"); }
  torch::Tensor entropy(const Dict&, bool) const override { fail("has no closed-form entropy"); }
  std::vector<std::string> param_names() const override { return {}; }
  std::int64_t feature_dims(const Params&, bool) const override { return 0; }

 protected:
  void check(const Params&) const override {}
};

class JointDist : public Composite {
 public:
  explicit JointDist(std::vector<DistPtr> factors)
      : Composite(options_of(factors)), factors_(std::move(factors)) {}
  std::string type() const override { return "Joint"; }
  std::string formula() const override {
    std::string out = prob_text() + " = ";
    for (const auto& f : factors_) out += f->prob_text();
    return out;
  }
  bool has_rsample() const override {
    return std::all_of(factors_.begin(), factors_.end(), [](const DistPtr& f) { return f->has_rsample(); });
  }
  bool conditional() const override { return !cond_var().empty(); }
  const std::vector<DistPtr>& factors() const { return factors_; }

  // Draws each factor once everything it is conditioned on is known: given, or drawn before.
  Dict sample(const Dict& given, SampleOptions o) const override {
    Dict out = given;
    std::vector<bool> done(factors_.size(), false);
    for (std::size_t drawn = 0; drawn < factors_.size();) {
      bool progress = false;
      for (std::size_t i = factors_.size(); i-- > 0;) {  // the last factor is usually the prior
        if (done[i]) continue;
        const auto& f = factors_[i];
        if (!std::all_of(f->cond_var().begin(), f->cond_var().end(),
                         [&](const std::string& v) { return out.count(v) > 0; })) {
          continue;
        }
        auto o_i = o;
        if (f->conditional()) o_i.batch_n = 0;
        out = f->sample(out, o_i);
        done[i] = progress = true;
        ++drawn;
      }
      if (!progress)
        fail("cannot draw: its conditioning variables (" + core::join(cond_var(), ",") + ") are missing");
    }
    return out;
  }
  torch::Tensor log_prob(const Dict& values, bool sum_features) const override {
    if (!sum_features) fail("log_prob of a joint sums over its factors' features");
    torch::Tensor total;
    for (const auto& f : factors_) {
      auto lp = f->log_prob(values);
      total = total.defined() ? total + lp : lp;
    }
    return total;
  }
  std::vector<torch::Tensor> parameters() const override {
    std::vector<torch::Tensor> out;
    std::set<const void*> seen;
    for (const auto& f : factors_) {
      for (auto& p : f->parameters()) {
        if (seen.insert(p.unsafeGetTensorImpl()).second) out.push_back(p);
      }
    }
    return out;
  }
  void train(bool on) override {
    for (const auto& f : factors_) f->train(on);
  }
  void to(c10::Device device) override {
    for (const auto& f : factors_) f->to(device);
  }
  DistPtr replace_var(const std::map<std::string, std::string>& names) const override {
    for (const auto& [from, to] : names) {
      if (!contains(var(), from) && !contains(cond_var(), from)) {
        throw Error("replace_var: '" + from + "' is not a variable of " + prob_text());
      }
    }
    DistPtr out;
    for (const auto& f : factors_) {
      std::map<std::string, std::string> mine;
      for (const auto& [from, to] : names) {
        if (contains(f->var(), from) || contains(f->cond_var(), from)) mine[from] = to;
      }
      auto g = mine.empty() ? f : f->replace_var(mine);
      out = out ? out * g : g;
    }
    return out;
  }

 private:
  static DistOptions options_of(const std::vector<DistPtr>& factors) {
    DistOptions o{.name = factors.front()->name()};
    for (const auto& f : factors) {
      for (const auto& v : f->var()) {
        if (contains(o.var, v)) throw Error("p * q: both factors draw '" + v + "'");
        o.var.push_back(v);
      }
    }
    for (const auto& f : factors) {
      for (const auto& c : f->cond_var()) {
        if (!contains(o.var, c) && !contains(o.cond_var, c)) o.cond_var.push_back(c);
      }
    }
    return o;
  }
  std::vector<DistPtr> factors_;
};

// p over renamed variables: values travel under the new names and are looked up under the old.
class RenamedDist : public Distribution {
 public:
  RenamedDist(DistPtr inner, std::map<std::string, std::string> names)
      : Distribution(renamed(*inner, names), Params{}), inner_(std::move(inner)), names_(std::move(names)) {}
  std::string type() const override { return inner_->type(); }
  bool has_rsample() const override { return inner_->has_rsample(); }
  bool conditional() const override { return inner_->conditional(); }
  Params params(const Dict& given, std::int64_t batch_n) const override {
    return inner_->params(to_inner(given), batch_n);
  }
  Dict sample(const Dict& given, SampleOptions o) const override {
    auto drawn = inner_->sample(to_inner(given), o);
    Dict out = given;
    for (const auto& v : inner_->var()) out[rename(v)] = drawn.at(v);
    return out;
  }
  torch::Tensor log_prob(const Dict& values, bool sum) const override {
    return inner_->log_prob(to_inner(values), sum);
  }
  torch::Tensor entropy(const Dict& given, bool sum) const override {
    return inner_->entropy(to_inner(given), sum);
  }
  std::vector<torch::Tensor> parameters() const override { return inner_->parameters(); }
  void train(bool on) override { inner_->train(on); }
  void to(c10::Device device) override { inner_->to(device); }
  torch::Tensor sample_from(const Params& p, bool r) const override { return inner_->sample_from(p, r); }
  torch::Tensor log_prob_from(const Params& p, const torch::Tensor& x) const override {
    return inner_->log_prob_from(p, x);
  }
  torch::Tensor entropy_from(const Params& p) const override { return inner_->entropy_from(p); }
  torch::Tensor mean_from(const Params& p) const override { return inner_->mean_from(p); }
  torch::Tensor variance_from(const Params& p) const override { return inner_->variance_from(p); }
  std::int64_t feature_dims(const Params& p, bool batched) const override {
    return inner_->feature_dims(p, batched);
  }
  std::vector<std::string> param_names() const override { return inner_->param_names(); }
  // Renaming again composes: names of the inner distribution map straight to the newest names.
  DistPtr replace_var(const std::map<std::string, std::string>& more) const override {
    auto names = names_;
    for (const auto& [from, to] : more) {
      if (!contains(var(), from) && !contains(cond_var(), from)) {
        throw Error("replace_var: '" + from + "' is not a variable of " + prob_text());
      }
      auto it = std::find_if(names.begin(), names.end(), [&](const auto& kv) { return kv.second == from; });
      if (it != names.end()) {
        it->second = to;
      } else {
        names[from] = to;
      }
    }
    return std::make_shared<RenamedDist>(inner_, names);
  }

 protected:
  void check(const Params&) const override {}

 private:
  static DistOptions renamed(const Distribution& d, const std::map<std::string, std::string>& names) {
    DistOptions o{.var = d.var(), .cond_var = d.cond_var(), .name = d.name()};
    for (auto* list : {&o.var, &o.cond_var}) {
      for (auto& v : *list) {
        if (auto it = names.find(v); it != names.end()) v = it->second;
      }
    }
    return o;
  }
  std::string rename(const std::string& v) const {
    auto it = names_.find(v);
    return it == names_.end() ? v : it->second;
  }
  // Values under the inner names; a value under an old name is not this distribution's (p(x|y) must
  // not read a z it was renamed away from).
  Dict to_inner(const Dict& given) const {
    Dict out = given;
    for (const auto& [from, to] : names_) out.erase(from);
    for (const auto& [from, to] : names_) {
      if (auto it = given.find(to); it != given.end()) out[from] = it->second;
    }
    return out;
  }
  DistPtr inner_;
  std::map<std::string, std::string> names_;
};

class MarginalDist : public Composite {
 public:
  MarginalDist(DistPtr inner, std::vector<std::string> drop)
      : Composite(options_of(*inner, drop)), inner_(std::move(inner)), drop_(std::move(drop)) {}
  std::string type() const override { return "Marginal"; }
  // Pixyz's form: ∫p(x|z)p(z)dz.
  std::string prob_text() const override {
    std::string text = inner_->formula();
    if (auto eq = text.find(" = "); eq != std::string::npos) text = text.substr(eq + 3);
    return fmt::format("∫{}d{}", text, core::join(drop_, "d"));
  }
  bool has_rsample() const override { return inner_->has_rsample(); }
  bool conditional() const override { return inner_->conditional(); }
  Dict sample(const Dict& given, SampleOptions o) const override {
    auto out = inner_->sample(given, o);
    for (const auto& v : drop_) {
      if (!given.count(v)) out.erase(v);
    }
    return out;
  }
  torch::Tensor log_prob(const Dict&, bool) const override {
    fail("has no log_prob: marginalizing " + core::join(drop_, ",") + " needs an integral");
  }
  std::vector<torch::Tensor> parameters() const override { return inner_->parameters(); }
  void train(bool on) override { inner_->train(on); }
  void to(c10::Device device) override { inner_->to(device); }

 private:
  static DistOptions options_of(const Distribution& d, const std::vector<std::string>& drop) {
    DistOptions o{.cond_var = d.cond_var(), .name = d.name()};
    for (const auto& v : drop) {
      if (!contains(d.var(), v)) {
        throw Error("marginalize_var: '" + v + "' is not a variable of " + d.prob_text() + " (" +
                    core::join(d.var(), ", ") + ")");
      }
    }
    for (const auto& v : d.var()) {
      if (!contains(drop, v)) o.var.push_back(v);
    }
    if (o.var.empty()) throw Error("marginalize_var: nothing of " + d.prob_text() + " would be left");
    return o;
  }
  DistPtr inner_;
  std::vector<std::string> drop_;
};

class DataDist : public Composite {
 public:
  explicit DataDist(DistOptions o) : Composite(std::move(o)) {}
  std::string type() const override { return "Data"; }
  bool has_rsample() const override { return true; }
  Dict sample(const Dict& given, SampleOptions) const override {
    for (const auto& v : var()) {
      if (!given.count(v)) fail("needs the data '" + v + "'");
    }
    return given;
  }
  torch::Tensor log_prob(const Dict&, bool) const override { fail("has no log_prob"); }
};

}  // namespace

DistPtr operator*(const DistPtr& a, const DistPtr& b) {
  std::vector<DistPtr> factors;
  for (const auto& d : {a, b}) {
    if (auto j = std::dynamic_pointer_cast<JointDist>(d)) {
      factors.insert(factors.end(), j->factors().begin(), j->factors().end());
    } else {
      factors.push_back(d);
    }
  }
  return std::make_shared<JointDist>(std::move(factors));
}

DistPtr Distribution::replace_var(const std::map<std::string, std::string>& names) const {
  for (const auto& [from, to] : names) {
    if (!contains(var(), from) && !contains(cond_var(), from)) {
      throw Error("replace_var: '" + from + "' is not a variable of " + prob_text());
    }
  }
  return std::make_shared<RenamedDist>(std::const_pointer_cast<Distribution>(shared_from_this()), names);
}

DistPtr Distribution::marginalize_var(const std::vector<std::string>& names) const {
  return std::make_shared<MarginalDist>(std::const_pointer_cast<Distribution>(shared_from_this()), names);
}

DistPtr DataDistribution(std::vector<std::string> var, std::string name) {
  return std::make_shared<DataDist>(DistOptions{.var = std::move(var), .name = std::move(name)});
}

}  // namespace dojo::prob
