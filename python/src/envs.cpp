// dojo.make / dojo.make_vec and the spaces: Gymnasium's Python API over dojo's C++ environments.
#include <pybind11/stl.h>
#include <torch/torch.h>

#include <memory>
#include <random>

#include "bindings.h"
#include "convert.h"
#include "core/error.h"
#include "envs/registry.h"
#include "envs/toy_text/toy_text.h"
#include "envs/vector.h"

namespace dojo::python {

namespace {

// A space with its own generator, as a Gymnasium space has its np_random: sample() draws from it,
// seed(s) restarts it. Seeded from entropy until seed() is called.
struct PySpace {
  explicit PySpace(envs::Space s) : space(std::move(s)), rng(std::random_device{}()) {}
  virtual ~PySpace() = default;  // polymorphic: pybind11 hands Python the most derived class
  envs::Space space;
  std::mt19937_64 rng;
};
struct PyDiscrete : PySpace {
  using PySpace::PySpace;
  const envs::Discrete& get() const { return std::get<envs::Discrete>(space); }
};
struct PyBox : PySpace {
  using PySpace::PySpace;
  const envs::Box& get() const { return std::get<envs::Box>(space); }
};
struct PyMultiDiscrete : PySpace {
  using PySpace::PySpace;
  const envs::MultiDiscrete& get() const { return std::get<envs::MultiDiscrete>(space); }
};

std::shared_ptr<PySpace> wrap(const envs::Space& space) {
  if (std::holds_alternative<envs::Discrete>(space)) return std::make_shared<PyDiscrete>(space);
  if (std::holds_alternative<envs::Box>(space)) return std::make_shared<PyBox>(space);
  return std::make_shared<PyMultiDiscrete>(space);
}

// Gymnasium's batched spaces of a vector env: Discrete(n) becomes MultiDiscrete([n] * N), a Box gets
// a leading N.
envs::Space batched(const envs::Space& space, std::int64_t n) {
  if (const auto* d = std::get_if<envs::Discrete>(&space)) {
    if (d->start != 0)
      throw Error("a vector env of " + d->str() + ": expected a Discrete space starting at 0");
    return envs::MultiDiscrete{std::vector<std::int64_t>(static_cast<std::size_t>(n), d->n)};
  }
  if (const auto* b = std::get_if<envs::Box>(&space)) {
    std::vector<double> low, high;
    for (std::int64_t i = 0; i < n; ++i) {
      low.insert(low.end(), b->low.begin(), b->low.end());
      high.insert(high.end(), b->high.begin(), b->high.end());
    }
    auto shape = b->shape;
    shape.insert(shape.begin(), n);
    return envs::Box(low, high, shape, b->dtype);
  }
  throw Error("a vector env of " + envs::to_string(space) + ": expected a Discrete or Box space");
}

py::tuple shape_of(const envs::Space& space) {
  if (std::holds_alternative<envs::Discrete>(space)) return py::tuple();
  if (const auto* b = std::get_if<envs::Box>(&space)) return py::cast(b->shape);
  return py::make_tuple(static_cast<std::int64_t>(std::get<envs::MultiDiscrete>(space).nvec.size()));
}

py::dtype dtype_of(const envs::Space& space) {
  if (const auto* b = std::get_if<envs::Box>(&space)) return numpy_dtype(b->dtype);
  return py::dtype::of<std::int64_t>();
}

// A Python value as an action or a point of the space: ints for Discrete, the space's dtype for a Box.
torch::Tensor as_point(const envs::Space& space, const py::handle& value) {
  if (std::holds_alternative<envs::Discrete>(space) && PyLong_CheckExact(value.ptr()))
    return torch::scalar_tensor(value.cast<std::int64_t>(), torch::kLong);
  auto t = to_tensor(value);
  if (const auto* b = std::get_if<envs::Box>(&space)) {
    if (t.dtype() != torch::kBool) return t.to(b->dtype);
  } else if (!t.is_floating_point() && t.dtype() != torch::kBool) {
    return t.to(torch::kLong);
  }
  return t;  // a float for a Discrete space, a bool: the env names it as no action of its space
}

py::object from_point(const envs::Space& space, const torch::Tensor& t) {
  if (std::holds_alternative<envs::Discrete>(space)) return py::int_(t.item<std::int64_t>());
  return to_numpy(t);
}

py::array bound(const envs::Box& box, const std::vector<double>& values) {
  return to_numpy(torch::tensor(values, torch::kDouble).view(box.shape).to(box.dtype));
}

// One environment with Gymnasium's API: reset(seed=, options=) -> (obs, info), step(a) -> (obs,
// reward, terminated, truncated, info). The spaces are made once, so seeding one sticks.
class PyEnv {
 public:
  PyEnv(std::unique_ptr<envs::Env> env, py::object render_mode)
      : env_(std::move(env)),
        observation_space_(wrap(env_->observation_space())),
        action_space_(wrap(env_->action_space())),
        render_mode_(std::move(render_mode)) {}

  py::tuple reset(std::optional<std::uint64_t> seed, const py::object& options) {
    if (!options.is_none() && py::len(options) > 0)
      throw Error("reset(options=...): " + env_->name() + " takes no reset options: expected None or {}");
    envs::ResetResult r;
    {
      py::gil_scoped_release free;
      r = env_->reset(seed);
    }
    return py::make_tuple(observation(r.obs), to_python(r.info));
  }

  py::tuple step(const py::handle& action) {
    const auto a = as_point(env_->action_space(), action);
    envs::StepResult s;
    {
      py::gil_scoped_release free;
      s = env_->step(a);
    }
    return py::make_tuple(observation(s.obs), s.reward, s.terminated, s.truncated, to_python(s.info));
  }

  // Gymnasium's render_mode="ansi": the toy-text envs' text picture, None for the others.
  py::object render_text() const {
    auto text = envs::render_text(*env_);
    return text.empty() ? py::none() : py::object(py::str(text));
  }

  // Gymnasium's env.unwrapped.P of a toy-text grid: {s: {a: [(prob, next, reward, terminated)]}}.
  py::dict transitions() const {
    const auto* tabular = envs::tabular(*env_);
    if (!tabular)
      throw Error(env_->id() +
                  " has no transition table: P is the toy-text grids' (FrozenLake, Taxi, CliffWalking)");
    py::dict P;
    const auto& table = tabular->P();
    for (std::size_t s = 0; s < table.size(); ++s) {
      py::dict row;
      for (std::size_t a = 0; a < table[s].size(); ++a) {
        py::list outcomes;
        for (const auto& t : table[s][a])
          outcomes.append(py::make_tuple(t.prob, t.next, t.reward, t.terminated));
        row[py::int_(a)] = outcomes;
      }
      P[py::int_(s)] = row;
    }
    return P;
  }

  py::object render() const {
    torch::Tensor frame;
    {
      py::gil_scoped_release free;
      frame = env_->render();
    }
    return frame.defined() ? py::object(to_numpy(frame)) : py::none();
  }

  std::shared_ptr<PySpace> observation_space() const { return observation_space_; }
  std::shared_ptr<PySpace> action_space() const { return action_space_; }
  const py::object& render_mode() const { return render_mode_; }
  const envs::Env& env() const { return *env_; }

 private:
  // A Discrete space's observation is a Python int (FrozenLake's state), as in Gymnasium.
  py::object observation(const torch::Tensor& obs) const {
    return from_point(env_->observation_space(), obs);
  }
  std::unique_ptr<envs::Env> env_;
  std::shared_ptr<PySpace> observation_space_, action_space_;
  py::object render_mode_;
};

// Gymnasium 1.x's vector env, EnvPool's way: one call steps all N envs in C++ and fills batched
// arrays; autoreset is next-step (envs/vector.h).
class PyVecEnv {
 public:
  explicit PyVecEnv(std::unique_ptr<envs::VectorEnv> vec)
      : vec_(std::move(vec)),
        single_observation_space_(wrap(vec_->single_observation_space())),
        single_action_space_(wrap(vec_->single_action_space())),
        observation_space_(wrap(batched(vec_->single_observation_space(), vec_->num_envs()))),
        action_space_(wrap(batched(vec_->single_action_space(), vec_->num_envs()))) {}

  py::tuple reset(std::optional<std::uint64_t> seed, const py::object& options) {
    if (!options.is_none() && py::len(options) > 0)
      throw Error("reset(options=...): " + vec_->env(0).name() +
                  " takes no reset options: expected None or {}");
    torch::Tensor obs;
    {
      py::gil_scoped_release free;
      obs = vec_->reset(seed).clone();  // the vector env's buffer is overwritten by the next call
    }
    return py::make_tuple(to_numpy(obs), py::dict());
  }

  py::tuple step(const py::handle& actions) {
    const auto& single = vec_->single_action_space();
    auto a = to_tensor(actions);
    if (std::holds_alternative<envs::Discrete>(single)) {
      if (a.is_floating_point() || a.dtype() == torch::kBool)
        throw Error("actions of dtype " + std::string(c10::toString(a.scalar_type())) + " for " +
                    envs::to_string(single) + ": expected integers");
      a = a.to(torch::kLong);
    } else if (const auto* b = std::get_if<envs::Box>(&single)) {
      a = a.to(b->dtype);
    }
    if (a.dim() == 0 || a.size(0) != vec_->num_envs())
      throw Error("actions of shape " + shape_string(a) + ": expected one per env, a leading dimension of " +
                  std::to_string(vec_->num_envs()));
    torch::Tensor obs, reward, terminated, truncated, ep_return, ep_length;
    {
      py::gil_scoped_release free;
      const auto& s = vec_->step(a);
      // The step's tensors are the vector env's buffers: NumPy gets copies that outlive the next step.
      obs = s.obs.clone();
      reward = s.reward.clone();
      terminated = s.terminated.clone();
      truncated = s.truncated.clone();
      ep_return = s.episode_return.clone();
      ep_length = s.episode_length.clone();
    }
    py::dict infos;
    const auto done = terminated.logical_or(truncated);
    if (done.any().item<bool>()) {
      // As Gymnasium's RecordEpisodeStatistics: info["episode"]["r"|"l"], valid where info["_episode"].
      py::dict episode;
      episode["r"] = to_numpy(ep_return.where(done, torch::zeros_like(ep_return)));
      episode["l"] = to_numpy(ep_length.where(done, torch::zeros_like(ep_length)));
      infos["episode"] = episode;
      infos["_episode"] = to_numpy(done);
    }
    return py::make_tuple(to_numpy(obs), to_numpy(reward), to_numpy(terminated), to_numpy(truncated), infos);
  }

  std::int64_t num_envs() const { return vec_->num_envs(); }
  std::shared_ptr<PySpace> single_observation_space() const { return single_observation_space_; }
  std::shared_ptr<PySpace> single_action_space() const { return single_action_space_; }
  std::shared_ptr<PySpace> observation_space() const { return observation_space_; }
  std::shared_ptr<PySpace> action_space() const { return action_space_; }
  std::string name() const { return vec_->name(); }

 private:
  static std::string shape_string(const torch::Tensor& t) {
    std::string s = "(";
    for (std::int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
    return s + (t.dim() == 1 ? ",)" : ")");
  }
  std::unique_ptr<envs::VectorEnv> vec_;
  std::shared_ptr<PySpace> single_observation_space_, single_action_space_, observation_space_, action_space_;
};

// make()'s keyword arguments that dojo's envs take: Gymnasium's make() options.
envs::MakeOptions make_options(const std::string& id, const py::kwargs& kwargs, py::object& render_mode) {
  envs::MakeOptions options;
  render_mode = py::none();
  for (const auto& [key, value] : kwargs) {
    const auto k = key.cast<std::string>();
    if (k == "max_episode_steps") {
      if (!value.is_none()) options.max_episode_steps = value.cast<std::int64_t>();
    } else if (k == "render_mode") {
      if (!value.is_none() && value.cast<std::string>() != "rgb_array")
        throw Error("make('" + id + "', render_mode='" + value.cast<std::string>() +
                    "'): expected None or 'rgb_array' (dojo draws no windows; dojo play does)");
      render_mode = py::reinterpret_borrow<py::object>(value);
    } else if (k == "disable_env_checker") {  // Gymnasium's; dojo's envs check their own contract
    } else {
      // The env's own keyword (FrozenLake's is_slippery): its value as YAML (JSON is YAML).
      const auto text = py::module_::import("json").attr("dumps")(value).cast<std::string>();
      options.kwargs.set(k, YAML::Load(text));
    }
  }
  return options;
}

}  // namespace

void bind_envs(py::module_& m) {
  auto space =
      py::class_<PySpace, std::shared_ptr<PySpace>>(m, "Space", "A Gymnasium space with its own generator")
          .def_property_readonly("shape", [](const PySpace& s) { return shape_of(s.space); })
          .def_property_readonly("dtype", [](const PySpace& s) { return dtype_of(s.space); })
          .def(
              "seed",
              [](PySpace& s, std::optional<std::uint64_t> seed) {
                const auto v = seed ? *seed : std::random_device{}();
                s.rng.seed(v);
                return std::vector<std::uint64_t>{v};
              },
              py::arg("seed") = py::none(), "Restarts the space's generator; returns [seed]")
          .def(
              "sample", [](PySpace& s) { return from_point(s.space, envs::sample(s.space, s.rng)); },
              "A uniformly random point of the space (Box: as Gymnasium samples unbounded sides)")
          .def("contains",
               [](const PySpace& s, const py::handle& x) {
                 try {
                   return envs::contains(s.space, as_point(s.space, x));
                 } catch (const Error&) {
                   return false;  // no array at all (a string, a ragged list): not a point of the space
                 }
               })
          .def("__contains__",
               [](const PySpace& s, const py::handle& x) {
                 return py::cast(s).attr("contains")(x).cast<bool>();
               })
          .def("__repr__", [](const PySpace& s) { return envs::to_string(s.space); })
          .def("__eq__", [](const PySpace& a, const PySpace& b) {
            return envs::to_string(a.space) == envs::to_string(b.space);
          });
  py::class_<PyDiscrete, PySpace, std::shared_ptr<PyDiscrete>>(m, "Discrete")
      .def(py::init([](std::int64_t n, std::int64_t start) {
             if (n <= 0) throw Error("Discrete(" + std::to_string(n) + "): expected n > 0");
             return std::make_shared<PyDiscrete>(envs::Discrete{n, start});
           }),
           py::arg("n"), py::arg("start") = 0)
      .def_property_readonly("n", [](const PyDiscrete& s) { return s.get().n; })
      .def_property_readonly("start", [](const PyDiscrete& s) { return s.get().start; });
  py::class_<PyBox, PySpace, std::shared_ptr<PyBox>>(m, "Box")
      .def(py::init([](const py::object& low, const py::object& high,
                       std::optional<std::vector<std::int64_t>> shape, const py::object& dtype) {
             const auto type = torch_dtype(py::dtype::from_args(dtype));
             auto lo = to_tensor(low, torch::kDouble), hi = to_tensor(high, torch::kDouble);
             const std::vector<std::int64_t> shp = shape ? *shape : lo.sizes().vec();
             lo = lo.expand(shp).contiguous();
             hi = hi.expand(shp).contiguous();
             return std::make_shared<PyBox>(envs::Box(
                 std::vector<double>(lo.data_ptr<double>(), lo.data_ptr<double>() + lo.numel()),
                 std::vector<double>(hi.data_ptr<double>(), hi.data_ptr<double>() + hi.numel()), shp, type));
           }),
           py::arg("low"), py::arg("high"), py::arg("shape") = py::none(),
           py::arg("dtype") = py::dtype::of<float>())
      .def_property_readonly("low", [](const PyBox& s) { return bound(s.get(), s.get().low); })
      .def_property_readonly("high", [](const PyBox& s) { return bound(s.get(), s.get().high); });
  py::class_<PyMultiDiscrete, PySpace, std::shared_ptr<PyMultiDiscrete>>(m, "MultiDiscrete")
      .def(py::init([](std::vector<std::int64_t> nvec) {
             return std::make_shared<PyMultiDiscrete>(envs::MultiDiscrete{std::move(nvec)});
           }),
           py::arg("nvec"))
      .def_property_readonly("nvec", [](const PyMultiDiscrete& s) {
        return to_numpy(torch::tensor(s.get().nvec, torch::kLong));
      });
  (void)space;

  py::class_<PyEnv>(m, "Env", "A dojo environment with Gymnasium's API (dojo.make)")
      .def("reset", &PyEnv::reset, py::kw_only(), py::arg("seed") = py::none(),
           py::arg("options") = py::none(), "(obs, info); a seed restarts the env's generator")
      .def("step", &PyEnv::step, py::arg("action"), "(obs, reward, terminated, truncated, info)")
      .def("render", &PyEnv::render, "The current frame as an [H, W, 3] uint8 array, or None")
      .def("render_text", &PyEnv::render_text, "The state as text (toy-text envs), or None")
      .def("close", [](PyEnv&) {})
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyEnv&, py::args) { return false; })
      .def_property_readonly("observation_space", &PyEnv::observation_space)
      .def_property_readonly("action_space", &PyEnv::action_space)
      .def_property_readonly("render_mode", &PyEnv::render_mode)
      .def_property_readonly("id", [](const PyEnv& e) { return e.env().id(); })
      .def_property_readonly("unwrapped", [](py::object self) { return self; })
      .def_property_readonly("P", &PyEnv::transitions, "A toy-text grid's transition table, as Gymnasium's")
      .def("__repr__", [](const PyEnv& e) { return "<" + e.env().name() + ">"; });

  py::class_<PyVecEnv>(m, "VectorEnv", "N environments stepped as one (dojo.make_vec)")
      .def("reset", &PyVecEnv::reset, py::kw_only(), py::arg("seed") = py::none(),
           py::arg("options") = py::none(), "(obs [N, ...], infos); env i is seeded from (seed, i)")
      .def("step", &PyVecEnv::step, py::arg("actions"),
           "(obs, rewards, terminations, truncations, infos), each batched over the N envs")
      .def("close", [](PyVecEnv&) {})
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyVecEnv&, py::args) { return false; })
      .def_property_readonly("num_envs", &PyVecEnv::num_envs)
      .def_property_readonly("single_observation_space", &PyVecEnv::single_observation_space)
      .def_property_readonly("single_action_space", &PyVecEnv::single_action_space)
      .def_property_readonly("observation_space", &PyVecEnv::observation_space)
      .def_property_readonly("action_space", &PyVecEnv::action_space)
      .def("__repr__",
           [](const PyVecEnv& v) { return "<" + v.name() + "(" + std::to_string(v.num_envs()) + ")>"; });

  m.def(
      "make",
      [](const std::string& id, const py::kwargs& kwargs) {
        py::object render_mode;
        const auto options = make_options(id, kwargs, render_mode);
        return PyEnv(envs::make(id, options), render_mode);
      },
      py::arg("id"), "An env by its registered id, wrapped as Gymnasium's make() does");
  m.def(
      "make_vec",
      [](const std::string& id, std::int64_t num_envs, bool async_, std::int64_t n_threads,
         const py::kwargs& kwargs) {
        py::object render_mode;
        envs::VecOptions options;
        options.make = make_options(id, kwargs, render_mode);
        options.async = async_;
        options.n_threads = n_threads;
        return PyVecEnv(envs::make_vec(id, num_envs, options));
      },
      py::arg("id"), py::arg("num_envs") = 1, py::kw_only(), py::arg("async_") = false,
      py::arg("n_threads") = 0, "num_envs copies of an env stepped in one call (async_: on worker threads)");
  m.def("registered_ids", &envs::registered_ids, "Every registered env id");
}

}  // namespace dojo::python
