// Gymnasium's spaces: Discrete{n} and Box{low, high, shape, dtype}, each with contains and sample.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <random>
#include <string>
#include <variant>
#include <vector>

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

using Space = std::variant<Discrete, Box>;

bool contains(const Space& space, const torch::Tensor& x);
torch::Tensor sample(const Space& space, std::mt19937_64& rng);
std::string to_string(const Space& space);
// The flat size of an observation or action: n for Discrete, prod(shape) for Box.
std::int64_t flat_dim(const Space& space);

}  // namespace dojo::envs
