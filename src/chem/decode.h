// From a trained captioner to InChI: greedy or beam search over tokens, then the top BMS teams'
// post-processing — candidates re-ranked so that one that reads as a sane molecule wins over a more
// probable one that does not, and the winner normalised (InChI -> molecule -> standard InChI; a
// SMILES target is converted to standard InChI).
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "chem/captioner.h"
#include "chem/tokens.h"
#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::chem {

struct DecodeOptions {
  std::string target = "inchi";  // what the model writes: inchi | smiles
  std::int64_t beam = 1;         // 1: greedy
  bool rerank = true;            // valid candidates first, then by probability
  double length_penalty = 0.0;   // hypotheses ranked by log p / length^α (0: plain log p)
};

struct Candidate {
  std::string text;     // as decoded
  double log_prob = 0;  // sum over its tokens
  std::int64_t length = 0;
  bool valid = false;  // reads as a molecule RDKit sanitises
  std::string inchi;   // normalised standard InChI when valid, else the text (inchi) or "" (smiles)
  std::string smiles;  // canonical SMILES when valid
};

struct Translation {
  std::string inchi, smiles;  // the chosen candidate's (an invalid SMILES as decoded, with no InChI)
  bool valid = false;
  double confidence = 0;                      // exp(mean log p per token) of the chosen candidate
  std::vector<Candidate> candidates;          // best first, as ranked
  std::vector<std::vector<float>> attention;  // greedy only: per token, the last layer's map over cells
};

// Images [B, S, S] uint8 -> one translation each; the model is put in inference mode.
std::vector<Translation> translate(Captioner& model, const Vocabulary& vocab, const torch::Tensor& images,
                                   const DecodeOptions& options = {});

// A decoded string checked and named (the re-ranking's test).
Candidate check_candidate(const std::string& text, const std::string& target);

}  // namespace dojo::chem

DOJO_PUBLIC_END
