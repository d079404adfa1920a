// Internal to prob: the shared shape of the parameter-holding distributions.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>

#include "core/export.h"
#include "prob/distribution.h"

DOJO_PUBLIC_BEGIN
namespace dojo::prob::detail {

// Constant parameters or a network, and the argument checks every family uses.
template <class Self>
class Family : public Distribution {
 public:
  Family(DistOptions o, Params c) : Distribution(std::move(o), std::move(c)) {}
  Family(DistOptions o, Network net) : Distribution(std::move(o), std::move(net)) {}

 protected:
  void positive(const Params& p, const std::string& name) const {
    torch::NoGradGuard no_grad;
    if (!(p.at(name) > 0).all().item<bool>()) {
      fail(name + " must be positive, got " + std::to_string(p.at(name).min().item<double>()));
    }
  }
  void simplex(const Params& p, const std::string& name) const {
    torch::NoGradGuard no_grad;
    const auto& probs = p.at(name);
    if (!(probs >= 0).all().item<bool>() ||
        !torch::allclose(probs.sum(-1), torch::ones({}, probs.options()), 1e-4, 1e-4)) {
      fail(name + " must be non-negative and sum to 1 over the last axis");
    }
  }
  void same_shape(const Params& p, const std::string& a, const std::string& b) const {
    if (p.at(a).sizes() != p.at(b).sizes()) {
      fail(a + " " + c10::str(p.at(a).sizes()) + " and " + b + " " + c10::str(p.at(b).sizes()) +
           " differ in shape");
    }
  }
};

template <class D, class... Args>
DistPtr make(DistOptions o, Params c, Args&&... args) {
  return std::make_shared<D>(std::move(o), std::move(c), std::forward<Args>(args)...);
}
template <class D, class... Args>
DistPtr make(DistOptions o, Network net, Args&&... args) {
  return std::make_shared<D>(std::move(o), std::move(net), std::forward<Args>(args)...);
}

}  // namespace dojo::prob::detail

DOJO_PUBLIC_END
