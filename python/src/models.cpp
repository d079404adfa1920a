// dojo.nn (Keras-style models saved with save()) and dojo.mol (the molecule translator).
#include <pybind11/stl.h>
#include <torch/torch.h>

#include <memory>
#include <random>

#include "bindings.h"
#include "chem/decode.h"
#include "chem/image.h"
#include "chem/molecule.h"
#include "chem/render.h"
#include "chem/train.h"
#include "convert.h"
#include "core/error.h"
#include "nn/model.h"

namespace dojo::python {

namespace {

// Model inputs: floating arrays as float32 (the layers' dtype), integer ones (token ids) as int64.
torch::Tensor model_input(const py::handle& x) {
  auto t = to_tensor(x);
  return t.is_floating_point() ? t.to(torch::kFloat32) : t.to(torch::kLong);
}

class PyModel {
 public:
  explicit PyModel(nn::Model model) : model_(std::move(model)) {}

  py::object predict(const py::handle& x, std::int64_t batch_size) const {
    if (batch_size <= 0) throw Error("predict(batch_size=" + std::to_string(batch_size) + "): expected > 0");
    std::vector<torch::Tensor> inputs;
    if (py::isinstance<py::list>(x) || py::isinstance<py::tuple>(x)) {
      for (const auto& item : x) inputs.push_back(model_input(item));
    } else {
      inputs.push_back(model_input(x));
    }
    torch::Tensor y;
    {
      py::gil_scoped_release free;
      y = inputs.size() == 1 ? model_.predict(inputs[0], batch_size) : model_.predict(inputs, batch_size);
    }
    return to_numpy(y.cpu().contiguous());
  }
  std::string summary() const { return model_.summary_string(); }
  std::int64_t count_params() const { return model_.count_params(); }
  const std::string& name() const { return model_.name(); }

 private:
  nn::Model model_;
};

// The molecule translator: a captioner checkpoint (default: the shipped model) and how it reads.
class PyTranslator {
 public:
  PyTranslator(std::optional<std::string> model, std::int64_t beam, bool rerank,
               std::optional<std::string> clean)
      : captioner_(chem::load_captioner(model ? std::filesystem::path(*model) : chem::shipped_captioner())),
        steps_(chem::clean_steps(clean ? *clean : (captioner_.clean ? "all" : "none"))),
        options_{.target = captioner_.target, .beam = beam, .rerank = rerank} {
    if (beam < 1 || beam > 64) throw Error("beam=" + std::to_string(beam) + ": expected 1 to 64");
  }

  py::list translate(const py::object& paths) {
    std::vector<std::string> files;
    if (py::isinstance<py::str>(paths))
      files.push_back(paths.cast<std::string>());
    else
      files = paths.cast<std::vector<std::string>>();
    std::vector<chem::Translation> out;
    {
      py::gil_scoped_release free;
      const auto size = captioner_.model->options().image_size();
      for (const auto& file : files) {
        const auto image = chem::prepare_image(chem::read_image(file), size, steps_);
        out.push_back(chem::translate(captioner_.model, captioner_.vocab, image.unsqueeze(0), options_)[0]);
      }
    }
    py::list result;
    for (std::size_t i = 0; i < files.size(); ++i) {
      py::dict d;
      d["file"] = files[i];
      d["inchi"] = out[i].inchi;
      d["smiles"] = out[i].smiles;
      d["confidence"] = out[i].confidence;
      d["valid"] = out[i].valid;
      result.append(d);
    }
    return result;
  }
  std::int64_t images_seen() const { return captioner_.images_seen; }
  const std::string& target() const { return captioner_.target; }

 private:
  chem::TrainedCaptioner captioner_;
  chem::CleanOptions steps_;
  chem::DecodeOptions options_;
};

}  // namespace

void bind_models(py::module_& m) {
  auto nn = m.def_submodule("nn", "Keras-style models saved by dojo (Model.save / ModelCheckpoint)");
  py::class_<PyModel>(nn, "Model")
      .def("predict", &PyModel::predict, py::arg("x"), py::arg("batch_size") = 32,
           "Outputs for an array (or a list of arrays, one per input), in batches")
      .def("summary", &PyModel::summary, "Keras' layer table, as text")
      .def("count_params", &PyModel::count_params)
      .def_property_readonly("name", &PyModel::name);
  nn.def(
      "load_model",
      [](const std::string& path) {
        py::gil_scoped_release free;
        return PyModel(nn::load_model(path));
      },
      py::arg("path"), "A model saved with save(), rebuilt without the code that built it");

  auto mol = m.def_submodule("mol", "Chemical structure images to InChI (the BMS task)");
  py::class_<PyTranslator>(mol, "Translator")
      .def(py::init<std::optional<std::string>, std::int64_t, bool, std::optional<std::string>>(),
           py::arg("model") = py::none(), py::kw_only(), py::arg("beam") = 1, py::arg("rerank") = true,
           py::arg("clean") = py::none(), py::call_guard<py::gil_scoped_release>())
      .def("translate", &PyTranslator::translate, py::arg("paths"),
           "[{file, inchi, smiles, confidence, valid}] for an image path or a list of them")
      .def_property_readonly("images_seen", &PyTranslator::images_seen)
      .def_property_readonly("target", &PyTranslator::target);
  mol.def(
      "translate",
      [](const py::object& paths, std::optional<std::string> model, std::int64_t beam, bool rerank,
         std::optional<std::string> clean) {
        std::unique_ptr<PyTranslator> t;
        {
          py::gil_scoped_release free;
          t = std::make_unique<PyTranslator>(model, beam, rerank, clean);
        }
        return t->translate(paths);
      },
      py::arg("paths"), py::kw_only(), py::arg("model") = py::none(), py::arg("beam") = 1,
      py::arg("rerank") = true, py::arg("clean") = py::none(),
      "Translates images of structure drawings (model: a checkpoint; default the shipped model)");
  mol.def(
      "render",
      [](const std::string& smiles, std::optional<std::string> out, const std::string& renderer,
         std::int64_t size, bool noisy, std::uint64_t seed) {
        torch::Tensor image;
        {
          py::gil_scoped_release free;
          chem::DrawStyle style;
          style.renderer = renderer;
          style.size = size;
          image = chem::draw(smiles, style);
          if (noisy) {
            std::mt19937_64 rng(seed);
            image = chem::degrade(image, rng);
          }
          if (out) chem::write_png(*out, image);
        }
        return to_numpy(image);
      },
      py::arg("smiles"), py::arg("out") = py::none(), py::kw_only(), py::arg("renderer") = "rdkit",
      py::arg("size") = 300, py::arg("noisy") = false, py::arg("seed") = 0,
      "A molecule drawn as a [H, W] uint8 image (BMS-style damage when noisy), written to out as PNG if "
      "given");
  mol.def("inchi", &chem::inchi_from_smiles, py::arg("smiles"), "The standard InChI of a SMILES");
}

}  // namespace dojo::python
