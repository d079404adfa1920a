#include "envs/space.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>
#include <ostream>

#include "core/error.h"

namespace dojo::envs {

bool Discrete::contains(const torch::Tensor& x) const {
  if (x.numel() != 1 || x.is_floating_point() || x.dtype() == torch::kBool) return false;
  const auto v = x.item<std::int64_t>();
  return v >= start && v < start + n;
}

torch::Tensor Discrete::sample(std::mt19937_64& rng) const {
  std::uniform_int_distribution<std::int64_t> d(start, start + n - 1);
  return torch::scalar_tensor(d(rng), torch::kLong);
}

std::string Discrete::str() const {
  return start == 0 ? fmt::format("Discrete({})", n) : fmt::format("Discrete({}, start={})", n, start);
}

Box::Box(std::vector<double> lo, std::vector<double> hi, std::vector<std::int64_t> shp, torch::Dtype dt)
    : low(std::move(lo)), high(std::move(hi)), shape(std::move(shp)), dtype(dt) {
  if (static_cast<std::int64_t>(low.size()) != numel() || static_cast<std::int64_t>(high.size()) != numel()) {
    throw Error(fmt::format("Box bounds have {} and {} elements: expected {} (the shape's size)", low.size(),
                            high.size(), numel()));
  }
  for (std::size_t i = 0; i < low.size(); ++i) {
    if (low[i] > high[i]) throw Error(fmt::format("Box low[{}] = {} is above high = {}", i, low[i], high[i]));
  }
}

namespace {
std::size_t product(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return static_cast<std::size_t>(n);
}
}  // namespace

Box::Box(double lo, double hi, std::vector<std::int64_t> shp, torch::Dtype dt)
    : Box(std::vector<double>(product(shp), lo), std::vector<double>(product(shp), hi), shp, dt) {}

std::int64_t Box::numel() const { return static_cast<std::int64_t>(product(shape)); }

bool Box::contains(const torch::Tensor& x) const {
  if (x.sizes() != torch::IntArrayRef(shape)) return false;
  const auto flat = x.to(torch::kDouble).contiguous();
  const double* p = flat.data_ptr<double>();
  for (std::int64_t i = 0; i < numel(); ++i) {
    if (!(p[i] >= low[static_cast<std::size_t>(i)] && p[i] <= high[static_cast<std::size_t>(i)]))
      return false;
  }
  return true;
}

torch::Tensor Box::sample(std::mt19937_64& rng) const {
  auto out = torch::empty({numel()}, torch::kDouble);
  double* p = out.data_ptr<double>();
  std::normal_distribution<double> normal;
  std::exponential_distribution<double> expo;
  std::uniform_real_distribution<double> uni;
  for (std::int64_t i = 0; i < numel(); ++i) {
    const double lo = low[static_cast<std::size_t>(i)], hi = high[static_cast<std::size_t>(i)];
    const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
    if (has_lo && has_hi)
      p[i] = lo + (hi - lo) * uni(rng);
    else if (has_lo)
      p[i] = lo + expo(rng);
    else if (has_hi)
      p[i] = hi - expo(rng);
    else
      p[i] = normal(rng);
  }
  if (!torch::isFloatingType(dtype)) out = out.floor();
  return out.reshape(shape).to(dtype);
}

std::string Box::str() const {
  auto bound = [](const std::vector<double>& v) {
    const bool same = std::all_of(v.begin(), v.end(), [&](double x) { return x == v.front(); });
    if (same && !v.empty()) return fmt::format("{:g}", v.front());
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{:g}", i ? " " : "", v[i]);
    return s + "]";
  };
  std::string shp = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) shp += fmt::format("{}{}", i ? ", " : "", shape[i]);
  if (shape.size() == 1) shp += ",";
  shp += ")";
  std::string dt = dtype == torch::kFloat32   ? "float32"
                   : dtype == torch::kFloat64 ? "float64"
                   : dtype == torch::kUInt8   ? "uint8"
                                              : std::string(c10::toString(dtype));
  return fmt::format("Box({}, {}, {}, {})", bound(low), bound(high), shp, dt);
}

bool MultiDiscrete::contains(const torch::Tensor& x) const {
  if (x.dim() != 1 || x.size(0) != static_cast<std::int64_t>(nvec.size()) || x.is_floating_point() ||
      x.dtype() == torch::kBool)
    return false;
  const auto v = x.to(torch::kLong).contiguous();
  for (std::size_t i = 0; i < nvec.size(); ++i) {
    const auto e = v.data_ptr<std::int64_t>()[i];
    if (e < 0 || e >= nvec[i]) return false;
  }
  return true;
}

torch::Tensor MultiDiscrete::sample(std::mt19937_64& rng) const {
  auto out = torch::empty({static_cast<std::int64_t>(nvec.size())}, torch::kLong);
  for (std::size_t i = 0; i < nvec.size(); ++i)
    out.data_ptr<std::int64_t>()[i] = std::uniform_int_distribution<std::int64_t>(0, nvec[i] - 1)(rng);
  return out;
}

std::string MultiDiscrete::str() const {
  std::string s = "MultiDiscrete([";
  for (std::size_t i = 0; i < nvec.size(); ++i) s += fmt::format("{}{}", i ? " " : "", nvec[i]);
  return s + "])";
}

bool contains(const Space& space, const torch::Tensor& x) {
  return std::visit([&](const auto& s) { return s.contains(x); }, space);
}

torch::Tensor sample(const Space& space, std::mt19937_64& rng) {
  return std::visit([&](const auto& s) { return s.sample(rng); }, space);
}

std::string to_string(const Space& space) {
  return std::visit([](const auto& s) { return s.str(); }, space);
}

std::ostream& operator<<(std::ostream& out, const Space& space) { return out << to_string(space); }
std::ostream& operator<<(std::ostream& out, const Discrete& space) { return out << space.str(); }
std::ostream& operator<<(std::ostream& out, const Box& space) { return out << space.str(); }
std::ostream& operator<<(std::ostream& out, const MultiDiscrete& space) { return out << space.str(); }

std::int64_t flat_dim(const Space& space) {
  if (const auto* d = std::get_if<Discrete>(&space)) return d->n;
  if (const auto* m = std::get_if<MultiDiscrete>(&space)) {
    std::int64_t n = 0;
    for (const auto k : m->nvec) n += k;
    return n;
  }
  return std::get<Box>(space).numel();
}

}  // namespace dojo::envs
