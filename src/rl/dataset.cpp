#include "rl/dataset.h"

#include <H5Cpp.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "envs/registry.h"

namespace dojo::rl {

namespace fs = std::filesystem;

namespace {

// The Minari release whose metadata.json keys and episode groups we read and write.
constexpr const char* kMinariVersion = "0.5.3";

[[noreturn]] void bad(const fs::path& file, const std::string& key, const std::string& what) {
  throw Error(file.string() + ": '" + key + "' " + what);
}

// The HDF5 library prints its error stack on stderr by default; we report our own one line instead.
void quiet_hdf5() {
  static const bool once = [] {
    H5::Exception::dontPrint();
    return true;
  }();
  (void)once;
}

// Whether every component of `path` ("infos/qpos") exists below `g`.
bool has(const H5::Group& g, const std::string& path) {
  std::string prefix;
  std::size_t from = 0;
  while (true) {
    const auto slash = path.find('/', from);
    prefix = path.substr(0, slash);
    if (H5Lexists(g.getId(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) return true;
    from = slash + 1;
  }
}

std::vector<std::int64_t> dims_of(const H5::DataSet& ds) {
  const auto space = ds.getSpace();
  const int rank = space.getSimpleExtentNdims();
  std::vector<hsize_t> d(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) space.getSimpleExtentDims(d.data());
  return {d.begin(), d.end()};
}

H5::DataSet open(const H5::Group& g, const std::string& key, const fs::path& file) {
  if (!has(g, key)) bad(file, key, "is missing");
  if (g.childObjType(key) != H5O_TYPE_DATASET) bad(file, key, "is not an array");
  return g.openDataSet(key);
}

torch::Tensor read_float(const H5::Group& g, const std::string& key, const fs::path& file) {
  const auto ds = open(g, key, file);
  const auto cls = ds.getTypeClass();
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) bad(file, key, "expected a numeric array");
  auto t = torch::empty(dims_of(ds), torch::kFloat32);
  if (t.numel() > 0) ds.read(t.data_ptr<float>(), H5::PredType::NATIVE_FLOAT);
  return t;
}

// numpy bools as h5py writes them (an enum over int8: FALSE 0, TRUE 1), or any integer or float array
// (older D4RL files keep terminals as float32).
torch::Tensor read_bool(const H5::Group& g, const std::string& key, const fs::path& file) {
  const auto ds = open(g, key, file);
  const auto cls = ds.getTypeClass();
  if (cls == H5T_INTEGER || cls == H5T_FLOAT) return read_float(g, key, file) != 0;
  if (cls != H5T_ENUM) bad(file, key, "expected a bool array");
  const H5::DataType native(H5Tget_native_type(ds.getDataType().getId(), H5T_DIR_ASCEND));
  const auto size = static_cast<std::int64_t>(native.getSize());
  const auto dims = dims_of(ds);
  std::int64_t n = 1;
  for (auto d : dims) n *= d;
  auto raw = torch::zeros({n, size}, torch::kUInt8);
  if (n > 0) ds.read(raw.data_ptr<std::uint8_t>(), native);
  return (raw != 0).any(1).reshape(dims);
}

void create_groups(H5::Group& root, const std::string& key) {
  for (auto slash = key.find('/'); slash != std::string::npos; slash = key.find('/', slash + 1)) {
    const auto prefix = key.substr(0, slash);
    if (!has(root, prefix)) root.createGroup(prefix);
  }
}

void write_float(H5::Group& g, const std::string& key, const torch::Tensor& t) {
  create_groups(g, key);
  const auto c = t.to(torch::kFloat32).contiguous();
  std::vector<hsize_t> dims(c.sizes().begin(), c.sizes().end());
  const H5::DataSpace space(static_cast<int>(dims.size()), dims.data());
  auto ds = g.createDataSet(key, H5::PredType::IEEE_F32LE, space);
  if (c.numel() > 0) ds.write(c.data_ptr<float>(), H5::PredType::NATIVE_FLOAT);
}

H5::EnumType bool_type() {
  H5::EnumType t(H5::PredType::STD_I8LE);
  std::int8_t no = 0, yes = 1;
  t.insert("FALSE", &no);
  t.insert("TRUE", &yes);
  return t;
}

void write_bool(H5::Group& g, const std::string& key, const torch::Tensor& t) {
  const auto c = t.to(torch::kInt8).contiguous();
  std::vector<hsize_t> dims(c.sizes().begin(), c.sizes().end());
  const H5::DataSpace space(static_cast<int>(dims.size()), dims.data());
  const auto type = bool_type();
  auto ds = g.createDataSet(key, type, space);
  if (c.numel() > 0) ds.write(c.data_ptr<std::int8_t>(), type);
}

void write_string(H5::Group& g, const std::string& key, const std::string& value) {
  create_groups(g, key);
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  auto ds = g.createDataSet(key, type, H5::DataSpace(H5S_SCALAR));
  ds.write(value, type);
}

template <class T>
void write_attribute(H5::Group& g, const std::string& name, T value, const H5::PredType& type) {
  auto a = g.createAttribute(name, type, H5::DataSpace(H5S_SCALAR));
  a.write(type, &value);
}

// Scalar strings and numbers below `g` (D4RL's metadata/*), keyed by their path from `g`; arrays, such
// as a policy's weights, are left out.
void read_scalars(const H5::Group& g, const std::string& prefix, std::map<std::string, std::string>& out) {
  for (hsize_t i = 0; i < g.getNumObjs(); ++i) {
    const auto name = g.getObjnameByIdx(i);
    const auto type = g.childObjType(name);
    if (type == H5O_TYPE_GROUP) {
      read_scalars(g.openGroup(name), prefix + name + "/", out);
      continue;
    }
    if (type != H5O_TYPE_DATASET) continue;
    const auto ds = g.openDataSet(name);
    if (ds.getSpace().getSimpleExtentNpoints() != 1) continue;
    if (ds.getTypeClass() == H5T_STRING) {
      std::string s;
      ds.read(s, ds.getStrType());
      out[prefix + name] = s;
    } else if (ds.getTypeClass() == H5T_INTEGER || ds.getTypeClass() == H5T_FLOAT) {
      double v = 0;
      ds.read(&v, H5::PredType::NATIVE_DOUBLE);
      out[prefix + name] = fmt::format("{}", v);
    }
  }
}

// Numeric datasets below `g` with one row per transition (D4RL's infos/*).
void read_infos(const H5::Group& g, const std::string& prefix, std::int64_t n, const fs::path& file,
                std::map<std::string, torch::Tensor>& out) {
  for (hsize_t i = 0; i < g.getNumObjs(); ++i) {
    const auto name = g.getObjnameByIdx(i);
    const auto type = g.childObjType(name);
    if (type == H5O_TYPE_GROUP) {
      read_infos(g.openGroup(name), prefix + name + "/", n, file, out);
      continue;
    }
    const auto ds = g.openDataSet(name);
    const auto cls = ds.getTypeClass();
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) continue;
    const auto dims = dims_of(ds);
    if (dims.empty() || dims[0] != n)
      bad(file, "infos/" + prefix + name,
          fmt::format("has {} rows: expected {}", dims.empty() ? 0 : dims[0], n));
    out[prefix + name] = read_float(g, name, file);
  }
}

H5::H5File open_hdf5(const fs::path& file) {
  quiet_hdf5();
  if (!fs::is_regular_file(file)) throw Error(file.string() + ": no such file: expected an HDF5 dataset");
  bool is_hdf5 = false;
  try {
    is_hdf5 = H5::H5File::isHdf5(file.string());
  } catch (const H5::Exception&) {
  }
  if (!is_hdf5) throw Error(file.string() + ": not an HDF5 file: expected a D4RL or Minari dataset");
  try {
    return H5::H5File(file.string(), H5F_ACC_RDONLY);
  } catch (const H5::Exception& e) {
    throw Error(file.string() + ": unreadable HDF5 file (" + e.getDetailMsg() + ")");
  }
}

// D4RL files without next_observations (the v0 locomotion sets): s' is the next row's observation,
// and the rows whose successor is not in the file (timeouts, the last row) are dropped, as
// d4rl.qlearning_dataset does; the row before a dropped timeout becomes the episode's last.
void derive_next_observations(OfflineDataset& d) {
  const auto n = d.size();
  auto next = torch::empty_like(d.observations);
  if (n > 1) next.slice(0, 0, n - 1).copy_(d.observations.slice(0, 1, n));
  if (n > 0) next[n - 1].copy_(d.observations[n - 1]);
  d.next_observations = next;
  auto keep = d.timeouts.logical_not();
  if (n > 0) keep[n - 1] = d.terminals[n - 1];
  // A dropped timeout row hands its boundary to the row before it (a kept row is no timeout itself).
  const auto dropped_timeout = d.timeouts.clone();
  d.timeouts.zero_();
  if (n > 1) d.timeouts.slice(0, 0, n - 1).copy_(dropped_timeout.slice(0, 1, n));
  const auto idx = keep.nonzero().squeeze(1);
  for (auto* t : {&d.observations, &d.actions, &d.rewards, &d.next_observations, &d.terminals, &d.timeouts})
    *t = t->index_select(0, idx);
  for (auto& [k, v] : d.infos) v = v.index_select(0, idx);
}

std::string dims_str(c10::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ", ")); }

std::string stem_of(const std::string& env_id) {
  std::string stem;
  for (char c : env_id.substr(0, env_id.rfind("-v"))) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      stem += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return stem;
}

// A Box as Minari serialises it (gymnasium space -> json.dumps): Python's json writes infinities as
// Infinity, which nlohmann cannot, so the numbers are written here.
std::string python_number(double v) {
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (std::isnan(v)) return "NaN";
  auto s = fmt::format("{}", v);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string serialize_box(const std::vector<std::int64_t>& shape, const std::vector<double>& low,
                          const std::vector<double>& high) {
  // Nested lists of the shape's rank, row-major.
  auto nested = [&](const std::vector<double>& v) {
    std::function<std::string(std::size_t, std::size_t&)> level = [&](std::size_t dim, std::size_t& i) {
      std::string s = "[";
      for (std::int64_t k = 0; k < shape[dim]; ++k) {
        if (k) s += ", ";
        s += dim + 1 == shape.size() ? python_number(v[i++]) : level(dim + 1, i);
      }
      return s + "]";
    };
    std::size_t i = 0;
    return shape.empty() ? python_number(v.at(0)) : level(0, i);
  };
  std::string shape_s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) shape_s += (i ? ", " : "") + std::to_string(shape[i]);
  shape_s += "]";
  return fmt::format(R"({{"type": "Box", "dtype": "float32", "shape": {}, "low": {}, "high": {}}})", shape_s,
                     nested(low), nested(high));
}

fs::path minari_data_dir(const fs::path& path) {
  if (fs::is_regular_file(path) && path.filename() == "metadata.json") return path.parent_path();
  if (fs::exists(path / "data" / "metadata.json")) return path / "data";
  if (fs::exists(path / "metadata.json")) return path;
  throw Error(path.string() + ": no data/metadata.json: expected a Minari dataset folder");
}

nlohmann::json read_minari_metadata(const fs::path& data_dir) {
  const auto file = data_dir / "metadata.json";
  const auto j = nlohmann::json::parse(core::read_text(file, "Minari metadata"), nullptr, false);
  if (!j.is_object()) throw Error(file.string() + ": not a JSON object: expected Minari's metadata.json");
  for (const auto* key : {"total_episodes", "total_steps"}) {
    if (!j.contains(key) || !j[key].is_number_integer() || j[key].get<std::int64_t>() < 0)
      bad(file, key, "is missing or not a count");
  }
  const auto format = j.value("data_format", std::string("hdf5"));
  if (format != "hdf5") bad(file, "data_format", "is '" + format + "': expected hdf5 (main_data.hdf5)");
  return j;
}

std::string env_id_from_spec(const nlohmann::json& meta) {
  const auto it = meta.find("env_spec");
  if (it == meta.end() || !it->is_string()) return "";
  const auto spec = nlohmann::json::parse(it->get<std::string>(), nullptr, false);
  return spec.is_object() && spec.contains("id") && spec["id"].is_string() ? spec["id"].get<std::string>()
                                                                           : "";
}

// Where a run of rows stops being one stretch of an episode: after a terminal or timeout, and where
// s' is not the next row's s (so a Minari episode's T+1 observations hold the same data).
std::vector<EpisodeRange> contiguous_runs(const OfflineDataset& d) {
  std::vector<EpisodeRange> out;
  const auto n = d.size();
  if (n == 0) return out;
  const auto ended = (d.terminals | d.timeouts).contiguous();
  auto breaks = ended.clone();
  if (n > 1) {
    const auto same =
        (d.next_observations.slice(0, 0, n - 1) == d.observations.slice(0, 1, n)).reshape({n - 1, -1}).all(1);
    breaks.slice(0, 0, n - 1).logical_or_(same.logical_not());
  }
  const auto* b = breaks.data_ptr<bool>();
  const auto* e = ended.data_ptr<bool>();
  std::int64_t begin = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (b[i] || i == n - 1) {
      out.push_back({begin, i + 1, e[i]});
      begin = i + 1;
    }
  }
  return out;
}

// The Box of an env registered under `id`, else unbounded of `shape`.
std::pair<std::vector<double>, std::vector<double>> bounds(const std::string& id,
                                                           const std::vector<std::int64_t>& shape,
                                                           bool observation) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  if (!id.empty()) {
    try {
      const auto env = envs::make(id);
      const auto space = observation ? env->observation_space() : env->action_space();
      if (const auto* box = std::get_if<envs::Box>(&space); box && box->shape == shape)
        return {box->low, box->high};
    } catch (const Error&) {
    }
  }
  return {std::vector<double>(static_cast<std::size_t>(n), -INFINITY),
          std::vector<double>(static_cast<std::size_t>(n), INFINITY)};
}

}  // namespace

std::string OfflineDataset::env_id() const {
  const auto it = metadata.find("env_id");
  return it == metadata.end() ? "" : it->second;
}

void OfflineDataset::validate(const std::string& where) const {
  const auto need = [&](const torch::Tensor& t, const char* key) {
    if (!t.defined()) throw Error(where + ": '" + key + "' is missing");
  };
  need(observations, "observations");
  need(actions, "actions");
  need(rewards, "rewards");
  need(next_observations, "next_observations");
  need(terminals, "terminals");
  need(timeouts, "timeouts");
  const auto n = rewards.dim() == 1 ? rewards.size(0) : -1;
  if (n < 0)
    throw Error(fmt::format("{}: 'rewards' has shape {}: expected [N]", where, dims_str(rewards.sizes())));
  const std::pair<const char*, const torch::Tensor*> arrays[] = {{"observations", &observations},
                                                                 {"actions", &actions},
                                                                 {"next_observations", &next_observations},
                                                                 {"terminals", &terminals},
                                                                 {"timeouts", &timeouts}};
  for (const auto& [key, t] : arrays) {
    if (t->dim() == 0 || t->size(0) != n)
      throw Error(fmt::format("{}: '{}' has {} rows: expected {} (as rewards)", where, key,
                              t->dim() == 0 ? 0 : t->size(0), n));
  }
  for (const auto* key : {"terminals", "timeouts"}) {
    const auto& t = std::string(key) == "terminals" ? terminals : timeouts;
    if (t.dim() != 1 || t.scalar_type() != torch::kBool)
      throw Error(fmt::format("{}: '{}' expected a bool array [N]", where, key));
  }
  if (observations.dim() < 2 || actions.dim() != 2)
    throw Error(fmt::format("{}: 'observations' {} and 'actions' {}: expected [N, obs...] and [N, act]",
                            where, dims_str(observations.sizes()), dims_str(actions.sizes())));
  if (next_observations.sizes() != observations.sizes())
    throw Error(fmt::format("{}: 'next_observations' has shape {}: expected {} (as observations)", where,
                            dims_str(next_observations.sizes()), dims_str(observations.sizes())));
  const std::pair<const char*, const torch::Tensor*> numbers[] = {{"observations", &observations},
                                                                  {"actions", &actions},
                                                                  {"rewards", &rewards},
                                                                  {"next_observations", &next_observations}};
  for (const auto& [key, t] : numbers) {
    if (t->scalar_type() != torch::kFloat32)
      throw Error(
          fmt::format("{}: '{}' is {}: expected float32", where, key, c10::toString(t->scalar_type())));
    if (n > 0 && !torch::isfinite(*t).all().item<bool>()) {
      const auto row =
          torch::isfinite(*t).reshape({n, -1}).all(1).logical_not().nonzero()[0][0].item<std::int64_t>();
      throw Error(fmt::format("{}: '{}' holds a NaN or infinity at row {}: expected finite numbers", where,
                              key, row));
    }
  }
  for (const auto& [key, t] : infos) {
    if (t.dim() == 0 || t.size(0) != n)
      throw Error(
          fmt::format("{}: 'infos/{}' has {} rows: expected {}", where, key, t.dim() ? t.size(0) : 0, n));
  }
}

std::vector<EpisodeRange> episodes(const OfflineDataset& d) {
  std::vector<EpisodeRange> out;
  const auto n = d.size();
  const auto ended = (d.terminals | d.timeouts).contiguous();
  const auto* e = ended.data_ptr<bool>();
  std::int64_t begin = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (e[i]) {
      out.push_back({begin, i + 1, true});
      begin = i + 1;
    }
  }
  if (begin < n) out.push_back({begin, n, false});
  return out;
}

DatasetLayout layout_of(const fs::path& path) {
  if (fs::is_directory(path) || path.filename() == "metadata.json") return DatasetLayout::minari;
  return DatasetLayout::d4rl;
}

OfflineDataset read_d4rl(const fs::path& file) {
  auto f = open_hdf5(file);
  OfflineDataset d;
  try {
    d.observations = read_float(f, "observations", file);
    d.actions = read_float(f, "actions", file);
    d.rewards = read_float(f, "rewards", file);
    d.terminals = read_bool(f, "terminals", file);
    d.timeouts = read_bool(f, "timeouts", file);
    if (d.rewards.dim() == 2 && d.rewards.size(1) == 1) d.rewards = d.rewards.squeeze(1);
    if (has(f, "infos") && f.childObjType("infos") == H5O_TYPE_GROUP)
      read_infos(f.openGroup("infos"), "", d.rewards.size(0), file, d.infos);
    if (has(f, "metadata") && f.childObjType("metadata") == H5O_TYPE_GROUP)
      read_scalars(f.openGroup("metadata"), "", d.metadata);
    const bool has_next = has(f, "next_observations");
    if (has_next) d.next_observations = read_float(f, "next_observations", file);
    d.validate(file.string() + (has_next ? "" : " (without next_observations)"));
    if (!has_next) {
      derive_next_observations(d);
      spdlog::warn("{} has no next_observations: taken from the next rows, the time-out rows left out",
                   file.string());
    }
  } catch (const H5::Exception& e) {
    throw Error(file.string() + ": unreadable HDF5 dataset (" + e.getDetailMsg() + ")");
  }
  return d;
}

void write_d4rl(const OfflineDataset& data, const fs::path& file) {
  data.validate(file.string());
  quiet_hdf5();
  core::atomic_write(file, [&](const fs::path& tmp) {
    try {
      H5::H5File f(tmp.string(), H5F_ACC_TRUNC);
      write_float(f, "observations", data.observations);
      write_float(f, "actions", data.actions);
      write_float(f, "rewards", data.rewards);
      write_float(f, "next_observations", data.next_observations);
      write_bool(f, "terminals", data.terminals);
      write_bool(f, "timeouts", data.timeouts);
      auto infos = f.createGroup("infos");
      for (const auto& [k, v] : data.infos) write_float(infos, k, v);
      auto meta = f.createGroup("metadata");
      for (const auto& [k, v] : data.metadata) write_string(meta, k, v);
    } catch (const H5::Exception& e) {
      throw Error(file.string() + ": cannot write HDF5 (" + e.getDetailMsg() + ")");
    }
  });
}

OfflineDataset read_minari(const fs::path& path) {
  const auto dir = minari_data_dir(path);
  const auto meta = read_minari_metadata(dir);
  const auto file = dir / "main_data.hdf5";
  auto f = open_hdf5(file);
  const auto n_episodes = meta["total_episodes"].get<std::int64_t>();
  std::vector<torch::Tensor> obs, next, act, rew, term, trunc;
  try {
    for (std::int64_t i = 0; i < n_episodes; ++i) {
      const auto name = fmt::format("episode_{}", i);
      if (!has(f, name) || f.childObjType(name) != H5O_TYPE_GROUP) bad(file, name, "is missing");
      const auto g = f.openGroup(name);
      const auto o = read_float(g, "observations", file);
      const auto a = read_float(g, "actions", file);
      auto r = read_float(g, "rewards", file);
      const auto te = read_bool(g, "terminations", file);
      const auto tr = read_bool(g, "truncations", file);
      const auto t = r.size(0);
      if (o.dim() < 2 || o.size(0) != t + 1)
        bad(file, name + "/observations",
            fmt::format("has {} rows: expected {} (steps + 1)", o.size(0), t + 1));
      for (const auto& [key, x] :
           {std::pair{"actions", &a}, std::pair{"terminations", &te}, std::pair{"truncations", &tr}}) {
        if (x->size(0) != t)
          bad(file, name + "/" + key, fmt::format("has {} rows: expected {}", x->size(0), t));
      }
      obs.push_back(o.slice(0, 0, t));
      next.push_back(o.slice(0, 1, t + 1));
      act.push_back(a);
      rew.push_back(r);
      term.push_back(te);
      trunc.push_back(tr);
    }
  } catch (const H5::Exception& e) {
    throw Error(file.string() + ": unreadable HDF5 dataset (" + e.getDetailMsg() + ")");
  }
  if (obs.empty()) throw Error(file.string() + ": no episodes: expected at least one episode_0 group");
  OfflineDataset d;
  d.observations = torch::cat(obs);
  d.next_observations = torch::cat(next);
  d.actions = torch::cat(act);
  d.rewards = torch::cat(rew);
  d.terminals = torch::cat(term);
  d.timeouts = torch::cat(trunc);
  if (d.size() != meta["total_steps"].get<std::int64_t>())
    bad(dir / "metadata.json", "total_steps",
        fmt::format("is {}: the episodes hold {} steps", meta["total_steps"].get<std::int64_t>(), d.size()));
  for (const auto& [k, v] : meta.items()) {
    if (k == "observation_space" || k == "action_space" || k == "env_spec" || k == "eval_env_spec") continue;
    d.metadata[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  if (!d.metadata.count("env_id")) {
    if (const auto id = env_id_from_spec(meta); !id.empty()) d.metadata["env_id"] = id;
  }
  d.validate(dir.string());
  return d;
}

void write_minari(const OfflineDataset& data, const fs::path& dir) {
  data.validate(dir.string());
  quiet_hdf5();
  if (fs::exists(dir) && !fs::is_directory(dir))
    throw Error(dir.string() + " is a file: expected a folder for a Minari dataset");
  const auto tmp = fs::path(dir.string() + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp / "data");
  try {
    const auto runs = contiguous_runs(data);
    {
      H5::H5File f((tmp / "data" / "main_data.hdf5").string(), H5F_ACC_TRUNC);
      for (std::size_t i = 0; i < runs.size(); ++i) {
        const auto [b, e, finished] = runs[i];
        auto g = f.createGroup(fmt::format("episode_{}", i));
        write_attribute<std::int64_t>(g, "id", static_cast<std::int64_t>(i), H5::PredType::NATIVE_INT64);
        write_attribute<std::int64_t>(g, "total_steps", e - b, H5::PredType::NATIVE_INT64);
        write_float(
            g, "observations",
            torch::cat({data.observations.slice(0, b, e), data.next_observations.slice(0, e - 1, e)}));
        write_float(g, "actions", data.actions.slice(0, b, e));
        write_float(g, "rewards", data.rewards.slice(0, b, e));
        write_bool(g, "terminations", data.terminals.slice(0, b, e));
        write_bool(g, "truncations", data.timeouts.slice(0, b, e));
      }
    }
    const auto id = data.env_id();
    const auto obs_shape = data.observations.sizes().slice(1).vec();
    const auto act_shape = data.actions.sizes().slice(1).vec();
    const auto [olow, ohigh] = bounds(id, obs_shape, true);
    const auto [alow, ahigh] = bounds(id, act_shape, false);
    nlohmann::json meta;
    for (const auto& [k, v] : data.metadata) meta[k] = v;
    meta["dataset_id"] = data.metadata.count("dataset_id")
                             ? data.metadata.at("dataset_id")
                             : fmt::format("dojo/{}/{}-v0", id.empty() ? "unknown" : stem_of(id),
                                           data.metadata.count("mix") ? data.metadata.at("mix") : "data");
    meta["minari_version"] = kMinariVersion;
    meta["total_episodes"] = runs.size();
    meta["total_steps"] = data.size();
    meta["data_format"] = "hdf5";
    meta["observation_space"] = serialize_box(obs_shape, olow, ohigh);
    meta["action_space"] = serialize_box(act_shape, alow, ahigh);
    if (!id.empty()) {
      nlohmann::json spec{{"id", id},
                          {"entry_point", nullptr},
                          {"reward_threshold", nullptr},
                          {"nondeterministic", false},
                          {"max_episode_steps", nullptr},
                          {"order_enforce", true},
                          {"disable_env_checker", false},
                          {"kwargs", nlohmann::json::object()},
                          {"additional_wrappers", nlohmann::json::array()},
                          {"vector_entry_point", nullptr}};
      try {
        const auto& s = envs::spec(id);
        if (s.max_episode_steps) spec["max_episode_steps"] = *s.max_episode_steps;
        if (s.reward_threshold) spec["reward_threshold"] = *s.reward_threshold;
      } catch (const Error&) {
      }
      meta["env_spec"] = spec.dump();
      if (const auto ref = reference_returns(id)) {
        meta["ref_min_score"] = ref->random;
        meta["ref_max_score"] = ref->expert;
        meta["num_episodes_average_score"] = 100;
      }
    }
    meta["dataset_size"] =
        std::round(static_cast<double>(fs::file_size(tmp / "data" / "main_data.hdf5")) / 1e5) / 10.0;
    std::ofstream(tmp / "data" / "metadata.json") << meta.dump() << "\n";
  } catch (const H5::Exception& e) {
    fs::remove_all(tmp);
    throw Error(dir.string() + ": cannot write HDF5 (" + e.getDetailMsg() + ")");
  } catch (...) {
    fs::remove_all(tmp);
    throw;
  }
  // Into place: an existing dataset is moved aside first and removed only once the new one is there.
  const auto old = fs::path(dir.string() + ".old-" + std::to_string(::getpid()));
  if (fs::exists(dir)) fs::rename(dir, old);
  fs::rename(tmp, dir);
  fs::remove_all(old);
}

OfflineDataset read_dataset(const fs::path& path) {
  if (!fs::exists(path))
    throw Error(path.string() +
                ": no such file or folder: expected a D4RL HDF5 file or a Minari dataset folder");
  return layout_of(path) == DatasetLayout::minari ? read_minari(path) : read_d4rl(path);
}

void write_dataset(const OfflineDataset& data, const fs::path& path) {
  if (layout_of(path) == DatasetLayout::minari || path.extension().empty())
    write_minari(data, path);
  else
    write_d4rl(data, path);
}

DatasetShape dataset_shape(const fs::path& path) {
  if (!fs::exists(path))
    throw Error(path.string() +
                ": no such file or folder: expected a D4RL HDF5 file or a Minari dataset folder");
  DatasetShape s;
  if (layout_of(path) == DatasetLayout::minari) {
    const auto dir = minari_data_dir(path);
    const auto meta = read_minari_metadata(dir);
    s.size = meta["total_steps"].get<std::int64_t>();
    auto f = open_hdf5(dir / "main_data.hdf5");
    if (!has(f, "episode_0")) bad(dir / "main_data.hdf5", "episode_0", "is missing");
    const auto g = f.openGroup("episode_0");
    const auto o = dims_of(open(g, "observations", dir / "main_data.hdf5"));
    const auto a = dims_of(open(g, "actions", dir / "main_data.hdf5"));
    s.obs_shape.assign(o.begin() + (o.empty() ? 0 : 1), o.end());
    s.action_shape.assign(a.begin() + (a.empty() ? 0 : 1), a.end());
    s.env_id = meta.contains("env_id") && meta["env_id"].is_string() ? meta["env_id"].get<std::string>()
                                                                     : env_id_from_spec(meta);
    return s;
  }
  auto f = open_hdf5(path);
  try {
    const auto o = dims_of(open(f, "observations", path));
    const auto a = dims_of(open(f, "actions", path));
    const auto r = dims_of(open(f, "rewards", path));
    s.size = r.empty() ? 0 : r[0];
    s.obs_shape.assign(o.begin() + (o.empty() ? 0 : 1), o.end());
    s.action_shape.assign(a.begin() + (a.empty() ? 0 : 1), a.end());
    if (has(f, "metadata/env_id")) {
      std::map<std::string, std::string> meta;
      read_scalars(f.openGroup("metadata"), "", meta);
      s.env_id = meta["env_id"];
    }
  } catch (const H5::Exception& e) {
    throw Error(path.string() + ": unreadable HDF5 dataset (" + e.getDetailMsg() + ")");
  }
  return s;
}

void check_dataset_fits(const DatasetShape& s, const fs::path& path, const envs::Env& env) {
  const auto* obs = std::get_if<envs::Box>(&env.observation_space());
  const auto* act = std::get_if<envs::Box>(&env.action_space());
  const auto shape = [](const std::vector<std::int64_t>& v) {
    return fmt::format("({})", fmt::join(v, ", "));
  };
  if (!obs || obs->shape != s.obs_shape)
    throw Error(fmt::format("{}: observations of shape {} do not fit {}'s observation space {}",
                            path.string(), shape(s.obs_shape), env.id(),
                            envs::to_string(env.observation_space())));
  if (!act || act->shape != s.action_shape)
    throw Error(fmt::format("{}: actions of shape {} do not fit {}'s action space {}", path.string(),
                            shape(s.action_shape), env.id(), envs::to_string(env.action_space())));
  if (!s.env_id.empty() && stem_of(s.env_id) != stem_of(env.id()))
    throw Error(fmt::format("{}: collected on {}: expected data from {}", path.string(), s.env_id, env.id()));
  if (!s.env_id.empty() && s.env_id != env.id())
    spdlog::warn("{} was collected on {}; training and evaluating on {}", path.string(), s.env_id, env.id());
}

std::optional<ReferenceReturns> reference_returns(const std::string& env_id) {
  // D4RL's REF_MIN_SCORE / REF_MAX_SCORE (infos.py): a uniform random policy and an SAC expert.
  static const std::map<std::string, ReferenceReturns> refs{{"halfcheetah", {-280.178953, 12135.0}},
                                                            {"hopper", {-20.272305, 3234.3}},
                                                            {"walker2d", {1.629008, 4592.3}}};
  const auto it = refs.find(stem_of(env_id));
  if (it == refs.end()) return std::nullopt;
  return it->second;
}

std::optional<double> normalized_score(const std::string& env_id, double episode_return) {
  const auto ref = reference_returns(env_id);
  if (!ref) return std::nullopt;
  return 100.0 * (episode_return - ref->random) / (ref->expert - ref->random);
}

DatasetStats dataset_stats(const OfflineDataset& d) {
  DatasetStats s;
  s.transitions = d.size();
  s.terminals = d.terminals.sum().item<std::int64_t>();
  s.timeouts = d.timeouts.sum().item<std::int64_t>();
  const auto eps = episodes(d);
  s.episodes = static_cast<std::int64_t>(eps.size());
  std::vector<double> returns, lengths;
  const auto rewards = d.rewards.to(torch::kFloat64).cumsum(0);
  const auto* c = rewards.data_ptr<double>();
  for (const auto& e : eps) {
    if (!e.finished) continue;
    ++s.finished;
    returns.push_back(c[e.end - 1] - (e.begin > 0 ? c[e.begin - 1] : 0.0));
    lengths.push_back(static_cast<double>(e.end - e.begin));
  }
  if (returns.empty()) return s;
  const auto r = torch::tensor(returns, torch::kFloat64);
  s.mean_return = r.mean().item<double>();
  s.std_return = r.std(/*unbiased=*/false).item<double>();
  s.min_return = r.min().item<double>();
  s.max_return = r.max().item<double>();
  s.mean_length = torch::tensor(lengths, torch::kFloat64).mean().item<double>();
  s.normalized = normalized_score(d.env_id(), s.mean_return);
  return s;
}

TransitionSampler::TransitionSampler(const OfflineDataset& d, const envs::Box& action_space) {
  const auto low = torch::tensor(action_space.low, torch::kFloat32);
  const auto high = torch::tensor(action_space.high, torch::kFloat32);
  obs_ = d.observations.reshape({d.size(), -1}).contiguous();
  next_obs_ = d.next_observations.reshape({d.size(), -1}).contiguous();
  actions_ = (2.0 * (d.actions - low) / (high - low) - 1.0).to(torch::kFloat32).contiguous();
  rewards_ = d.rewards.contiguous();
  terminated_ = d.terminals.to(torch::kFloat32).contiguous();
  if (d.size() == 0) throw Error("the dataset is empty: expected at least one transition");
}

Batch TransitionSampler::sample(std::int64_t batch_size, std::mt19937_64& rng) const {
  std::uniform_int_distribution<std::int64_t> pick(0, size() - 1);
  auto idx = torch::empty({batch_size}, torch::kInt64);
  auto* p = idx.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < batch_size; ++i) p[i] = pick(rng);
  Batch b;
  b.obs = obs_.index_select(0, idx);
  b.action = actions_.index_select(0, idx);
  b.reward = rewards_.index_select(0, idx);
  b.next_obs = next_obs_.index_select(0, idx);
  b.terminated = terminated_.index_select(0, idx);
  return b;
}

}  // namespace dojo::rl
