// Gymnasium's spaces: Discrete{n}, Box{low, high, shape, dtype} and MultiDiscrete{nvec}, each with
// contains and sample. Tuple and Dict spaces wait for an env whose observations are not one tensor.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <iosfwd>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs {

struct Discrete {
  std::int64_t n = 2;
  std::int64_t start = 0;
  bool contains(const torch::Tensor& x) const;
  torch::Tensor sample(std::mt19937_64& rng) const;  // int64 scalar
  std::string str() const;                           // "Discrete(2)"
};

struct Box {
  // low/high hold one bound per element (row-major), so per-dimension bounds are exact.
  Box(std::vector<double> low, std::vector<double> high, std::vector<std::int64_t> shape,
      torch::Dtype dtype = torch::kFloat32);
  // Same bound for every element.
  Box(double low, double high, std::vector<std::int64_t> shape, torch::Dtype dtype = torch::kFloat32);
  std::vector<double> low, high;
  std::vector<std::int64_t> shape;
  torch::Dtype dtype;
  std::int64_t numel() const;
  bool contains(const torch::Tensor& x) const;
  // Uniform where both bounds are finite, normal where none is, shifted exponential where one is.
  torch::Tensor sample(std::mt19937_64& rng) const;
  std::string str() const;  // "Box(-2.0, 2.0, (1,), float32)"
};

// Several discrete choices at once (Gymnasium's MultiDiscrete): element i in [0, nvec[i]).
struct MultiDiscrete {
  std::vector<std::int64_t> nvec;
  bool contains(const torch::Tensor& x) const;       // an integer tensor of nvec's size
  torch::Tensor sample(std::mt19937_64& rng) const;  // int64 [len(nvec)]
  std::string str() const;                           // "MultiDiscrete([3 2])"
};

using Space = std::variant<Discrete, Box, MultiDiscrete>;

bool contains(const Space& space, const torch::Tensor& x);
torch::Tensor sample(const Space& space, std::mt19937_64& rng);
std::string to_string(const Space& space);
// `std::cout << env->action_space()` prints Gymnasium's form, "Discrete(2)".
std::ostream& operator<<(std::ostream& out, const Space& space);
std::ostream& operator<<(std::ostream& out, const Discrete& space);
std::ostream& operator<<(std::ostream& out, const Box& space);
std::ostream& operator<<(std::ostream& out, const MultiDiscrete& space);
// The flat size of an observation or action: n for Discrete, prod(shape) for Box, Σ nvec for
// MultiDiscrete (one-hot each).
std::int64_t flat_dim(const Space& space);

}  // namespace dojo::envs

DOJO_PUBLIC_END
