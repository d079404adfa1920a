// Drawing molecules as the BMS images were drawn: black on white, by RDKit (MolDraw2DCairo) or Indigo,
// each with a randomised style, so that a captioner trained on our drawings has seen more than one
// hand. Images are [H, W] uint8 tensors, 255 white paper, 0 ink.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <random>
#include <string>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::chem {

struct DrawStyle {
  std::string renderer = "rdkit";   // rdkit | indigo
  std::int64_t size = 300;          // canvas side, pixels (BMS images are a few hundred pixels)
  double bond_length = 0;           // pixels per bond; 0: the renderer fits the molecule to the canvas
  double line_width = 2.0;          // bond line width, pixels
  double font_scale = 1.0;          // atom labels, relative to the renderer's default
  double rotation = 0.0;            // degrees, of the drawing inside the canvas
  double padding = 0.05;            // margin, fraction of the canvas
  bool explicit_hydrogens = false;  // draw every H as an atom
  bool aromatic_circles = false;    // Indigo: rings as circles; otherwise Kekulé double bonds
  bool label_carbons = false;       // Indigo: label every carbon ("C"), as some drawing tools do
};

// A style drawn at random: renderer, sizes, widths, fonts, rotation, margins, hydrogens, aromatic form.
DrawStyle random_style(std::mt19937_64& rng);

// The molecule of a SMILES drawn in a style. Throws dojo::Error for an invalid SMILES or a renderer
// that fails on it.
torch::Tensor draw(const std::string& smiles, const DrawStyle& style = {});

}  // namespace dojo::chem

DOJO_PUBLIC_END
