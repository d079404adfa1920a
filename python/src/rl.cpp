// dojo.train / dojo.load / dojo.evaluate: runs as the dojo command makes them, from Python.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>
#include <torch/torch.h>

#include "bindings.h"
#include "convert.h"
#include "core/config.h"
#include "core/error.h"
#include "core/files.h"
#include "core/runtime.h"
#include "rl/tabular_control.h"
#include "rl/trainer.h"

namespace dojo::python {

namespace {

// The run's own summary.json (written by the trainer, one list of keys for the command, the files and
// Python), with the run folder added.
py::dict summary_dict(const rl::TrainSummary& s) {
  const auto text = core::read_text(s.run_dir / "summary.json", "run summary");
  py::dict d = py::module_::import("json").attr("loads")(text);
  d["run_dir"] = s.run_dir.string();
  return d;
}

// `config`: a file or preset name (as --config), or a dict of keys (as --set key=value each).
void apply_config(rl::TrainRequest& req, const py::object& config) {
  if (config.is_none()) return;
  if (py::isinstance<py::dict>(config)) {
    // Each value as YAML's flow text (JSON is YAML), so lists and strings keep their types.
    const auto dumps = py::module_::import("json").attr("dumps");
    for (const auto& [key, value] : config.cast<py::dict>())
      req.overrides.push_back(key.cast<std::string>() + "=" + dumps(value).cast<std::string>());
  } else {
    req.config_file = py::str(config).cast<std::string>();
  }
}

// A saved run's agent, acting on observations of the run's env.
class PyAgent {
 public:
  PyAgent(const std::string& run_dir, const std::string& checkpoint, std::uint64_t seed)
      : run_(rl::load_run(run_dir, checkpoint, seed)) {
    const auto env = rl::run_env_factory(run_.run, false)();
    obs_space_ = env->observation_space();
    action_space_ = env->action_space();
  }

  // One observation -> one action (an int for Discrete spaces); a batch [B, *obs_shape] -> B actions.
  py::object act(const py::handle& obs, bool deterministic) {
    auto x = to_tensor(obs);
    if (const auto* box = std::get_if<envs::Box>(&obs_space_)) x = x.to(box->dtype);
    // An observation's dimensions: a Box's shape, a MultiDiscrete's one vector, a Discrete's scalar.
    std::int64_t rank = 0;
    if (const auto* box = std::get_if<envs::Box>(&obs_space_))
      rank = static_cast<std::int64_t>(box->shape.size());
    if (std::holds_alternative<envs::MultiDiscrete>(obs_space_)) rank = 1;
    const bool batch = x.dim() == rank + 1;
    if (x.dim() != rank && !batch)
      throw Error("act(): an observation of " + std::to_string(x.dim()) + " dimensions: expected " +
                  std::to_string(rank) + " (one of " + envs::to_string(obs_space_) + ") or " +
                  std::to_string(rank + 1) + " (a batch)");
    torch::Tensor a;
    {
      py::gil_scoped_release free;
      torch::NoGradGuard no_grad;
      a = batch ? run_.agent->act_batch(x, deterministic) : run_.agent->act(x, deterministic);
    }
    a = a.cpu();
    if (!batch && std::holds_alternative<envs::Discrete>(action_space_))
      return py::int_(a.item<std::int64_t>());
    return to_numpy(a.contiguous());
  }

  // A tabular agent's Q[s][a] (Double Q-learning: the sum of its two tables, which it acts on).
  py::object q_table() const {
    const auto* tabular = dynamic_cast<const rl::TabularAgent*>(run_.agent.get());
    if (!tabular)
      throw Error(algo() + " has no table: q_table is the tabular agents' (qlearning, sarsa, ...)");
    return to_numpy(tabular->tables().sum(0).contiguous());
  }

  std::string algo() const { return run_.run.algo(); }
  std::string env_id() const { return run_.run.env_id(); }
  py::dict config() const { return to_python(run_.config); }

 private:
  rl::LoadedRun run_;
  envs::Space obs_space_, action_space_;
};

}  // namespace

void bind_rl(py::module_& m) {
  m.def(
      "train",
      [](const std::string& algo, std::optional<std::string> env_id, const py::object& config,
         std::optional<std::int64_t> steps, std::optional<std::int64_t> seed,
         std::optional<std::string> out) {
        rl::TrainRequest req;
        req.algo = algo;
        req.env_id = std::move(env_id);
        apply_config(req, config);
        req.steps = steps;
        req.seed = seed;
        if (out) req.out = *out;
        rl::TrainSummary s;
        {
          py::gil_scoped_release free;
          const auto resolved = rl::resolve_config(req);
          core::configure_compute(resolved.get<std::int64_t>("n_threads", 0));
          s = rl::train(resolved, req.out);
        }
        return py::make_tuple(summary_dict(s), s.run_dir.string());
      },
      py::arg("algo"), py::arg("env_id") = py::none(), py::kw_only(), py::arg("config") = py::none(),
      py::arg("steps") = py::none(), py::arg("seed") = py::none(), py::arg("out") = py::none(),
      "Trains a run as `dojo train` does; returns (summary, run_dir). config: a file or preset name, or a "
      "dict of keys");
  m.def(
      "resume",
      [](const std::string& run_dir, std::optional<std::int64_t> steps) {
        rl::TrainSummary s;
        {
          py::gil_scoped_release free;
          s = rl::resume(run_dir, steps);
        }
        return py::make_tuple(summary_dict(s), s.run_dir.string());
      },
      py::arg("run_dir"), py::kw_only(), py::arg("steps") = py::none(),
      "Continues a run from its last checkpoint, as `dojo train --resume`");

  py::class_<PyAgent>(m, "Agent", "A trained run's policy (dojo.load)")
      .def("act", &PyAgent::act, py::arg("obs"), py::kw_only(), py::arg("deterministic") = true,
           "The action for one observation, or actions for a batch")
      .def_property_readonly("algo", &PyAgent::algo)
      .def_property_readonly("env_id", &PyAgent::env_id)
      .def_property_readonly("config", &PyAgent::config)
      .def_property_readonly("q_table", &PyAgent::q_table,
                             "A tabular agent's Q[s][a] as [n_states, n_actions]")
      .def("__repr__", [](const PyAgent& a) { return "<Agent " + a.algo() + " on " + a.env_id() + ">"; });
  m.def(
      "load",
      [](const std::string& run_dir, const std::string& checkpoint, std::uint64_t seed) {
        py::gil_scoped_release free;
        return PyAgent(run_dir, checkpoint, seed);
      },
      py::arg("run_dir"), py::kw_only(), py::arg("checkpoint") = "best", py::arg("seed") = 0,
      "A run's agent with its best (or last) checkpoint");
  m.def(
      "evaluate",
      [](const std::string& run_dir, std::int64_t episodes, const std::string& checkpoint,
         std::uint64_t seed) {
        rl::EvalResult r;
        {
          py::gil_scoped_release free;
          r = rl::evaluate_run(run_dir, episodes, checkpoint, seed);
        }
        py::dict d;
        d["mean"] = r.mean;
        d["std"] = r.std;
        d["returns"] = r.returns;
        d["lengths"] = r.lengths;
        return d;
      },
      py::arg("run_dir"), py::arg("episodes") = 10, py::kw_only(), py::arg("checkpoint") = "best",
      py::arg("seed") = 0,
      "Greedy episodes of a run's policy, as `dojo eval`: {mean, std, returns, lengths}");
}

}  // namespace dojo::python
