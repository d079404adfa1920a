#include "chem/render.h"

#include <GraphMol/Depictor/RDDepictor.h>
#include <GraphMol/GraphMol.h>
#include <GraphMol/MolDraw2D/MolDraw2DCairo.h>
#include <GraphMol/MolOps.h>
#include <GraphMol/SmilesParse/SmilesParse.h>
#include <indigo-renderer.h>
#include <indigo.h>
#include <torch/torch.h>

#include <memory>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "chem/molecule.h"
#include "core/error.h"

namespace dojo::chem {

namespace {

torch::Tensor decode_png(const std::string& png, const std::string& what) {
  std::vector<unsigned char> bytes(png.begin(), png.end());
  cv::Mat grey = cv::imdecode(bytes, cv::IMREAD_GRAYSCALE);
  if (grey.empty()) throw Error(what + ": the renderer gave no image");
  return torch::from_blob(grey.data, {grey.rows, grey.cols}, torch::kUInt8).clone();
}

torch::Tensor draw_rdkit(const std::string& smiles, const DrawStyle& s) {
  std::unique_ptr<RDKit::RWMol> mol;
  try {
    mol.reset(RDKit::SmilesToMol(smiles));
  } catch (const std::exception&) {
  }
  if (!mol)
    throw Error("SMILES '" + smiles + "': RDKit cannot parse or sanitise it; expected a valid molecule");
  if (s.explicit_hydrogens) RDKit::MolOps::addHs(*mol);
  RDDepict::compute2DCoords(*mol);
  const int side = static_cast<int>(s.size);
  RDKit::MolDraw2DCairo d(side, side);
  auto& o = d.drawOptions();
  RDKit::assignBWPalette(o.atomColourPalette);  // black on white, as the scanned BMS drawings
  o.bondLineWidth = s.line_width;
  o.scaleBondWidth = false;
  o.padding = s.padding;
  o.rotate = s.rotation;
  o.fixedBondLength = s.bond_length > 0 ? s.bond_length : -1;
  o.minFontSize = std::max(6, static_cast<int>(std::lround(10 * s.font_scale)));
  o.maxFontSize = std::max(o.minFontSize, static_cast<int>(std::lround(40 * s.font_scale)));
  o.prepareMolsBeforeDrawing = true;  // Kekulé form, wedges from the stereo centres
  d.drawMolecule(*mol);
  d.finishDrawing();
  return decode_png(d.getDrawingText(), "SMILES '" + smiles + "'");
}

// Indigo keeps global state per session: one session per thread, options set before each drawing.
torch::Tensor draw_indigo(const std::string& smiles, const DrawStyle& s) {
  thread_local const qword session = indigoAllocSessionId();
  indigoSetSessionId(session);
  indigoSetErrorHandler(nullptr, nullptr);  // report failures by return value, not by exiting
  const int mol = indigoLoadMoleculeFromString(smiles.c_str());
  if (mol < 0) throw Error("SMILES '" + smiles + "': Indigo cannot read it (" + indigoGetLastError() + ")");
  struct Free {
    int h;
    ~Free() { indigoFree(h); }
  } free_mol{mol};
  if (s.aromatic_circles) {
    indigoAromatize(mol);
  } else {
    indigoDearomatize(mol);
  }
  if (s.explicit_hydrogens) indigoUnfoldHydrogens(mol);
  indigoLayout(mol);
  const int side = static_cast<int>(s.size);
  indigoSetOption("render-output-format", "png");
  indigoSetOption("render-coloring", "false");
  indigoSetOption("render-stereo-style", "none");  // no "Chiral" caption; wedges stay
  indigoSetOption("render-background-color", "1, 1, 1");
  indigoSetOption("render-label-mode", s.label_carbons ? "all" : "terminal-hetero");
  indigoSetOptionBool("render-implicit-hydrogens-visible", 1);
  indigoSetOptionFloat("render-relative-thickness", static_cast<float>(s.line_width / 2.0));
  indigoSetOptionFloat("render-bond-length", static_cast<float>(s.bond_length > 0 ? s.bond_length : 40.0));
  indigoSetOption("render-image-size", (std::to_string(side) + ", " + std::to_string(side)).c_str());
  const int margin = static_cast<int>(std::lround(s.padding * static_cast<double>(side)));
  indigoSetOption("render-margins", (std::to_string(margin) + ", " + std::to_string(margin)).c_str());
  const int buffer = indigoWriteBuffer();
  struct FreeBuffer {
    int h;
    ~FreeBuffer() { indigoFree(h); }
  } free_buffer{buffer};
  if (indigoRender(mol, buffer) < 0)
    throw Error("SMILES '" + smiles + "': Indigo cannot draw it (" + indigoGetLastError() + ")");
  char* data = nullptr;
  int size = 0;
  if (indigoToBuffer(buffer, &data, &size) < 0) throw Error("SMILES '" + smiles + "': Indigo gave no image");
  auto image = decode_png(std::string(data, static_cast<std::size_t>(size)), "SMILES '" + smiles + "'");
  if (s.rotation == 0) return image;
  // Indigo has no rotation option: turn the picture, paper white where the corners were.
  cv::Mat m(static_cast<int>(image.size(0)), static_cast<int>(image.size(1)), CV_8UC1, image.data_ptr());
  const cv::Point2f centre(static_cast<float>(m.cols) / 2.f, static_cast<float>(m.rows) / 2.f);
  cv::Mat turned;
  cv::warpAffine(m, turned, cv::getRotationMatrix2D(centre, s.rotation, 1.0), m.size(), cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar(255));
  return torch::from_blob(turned.data, {turned.rows, turned.cols}, torch::kUInt8).clone();
}

}  // namespace

DrawStyle random_style(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  DrawStyle s;
  s.renderer = u(rng) < 0.5 ? "rdkit" : "indigo";
  s.size = 256 + static_cast<std::int64_t>(u(rng) * 192);  // 256–448 px
  s.bond_length = u(rng) < 0.5 ? 0 : 20 + u(rng) * 25;
  s.line_width = 1.0 + u(rng) * 2.5;
  s.font_scale = 0.7 + u(rng) * 0.8;
  s.rotation = u(rng) < 0.7 ? 0 : (u(rng) * 2 - 1) * 180;
  s.padding = 0.02 + u(rng) * 0.15;
  s.explicit_hydrogens = u(rng) < 0.05;
  s.aromatic_circles = s.renderer == "indigo" && u(rng) < 0.3;
  s.label_carbons = s.renderer == "indigo" && u(rng) < 0.05;
  return s;
}

torch::Tensor draw(const std::string& smiles, const DrawStyle& style) {
  if (style.size < 32 || style.size > 4096)
    throw Error("draw: size " + std::to_string(style.size) + ": expected 32 to 4096 pixels");
  if (style.renderer == "rdkit") return draw_rdkit(smiles, style);
  if (style.renderer == "indigo") return draw_indigo(smiles, style);
  throw Error("renderer '" + style.renderer + "': expected rdkit or indigo");
}

}  // namespace dojo::chem
