// Tokenizers for the two targets a captioner can predict, and the vocabulary that numbers tokens.
//   InChI:  "InChI=1S/" | layer prefixes "/c" "/h" "/t" … | element symbols "C" "Cl" | whole numbers
//           "12" | one punctuation character "-" "(" ")" "," ";" "." "+" "*" "?"
//   SMILES: Schwaller et al.'s atom-level split: bracket atoms "[C@@H]", "Cl", "Br", organic atoms,
//           aromatic "c" "n" …, bonds "=" "#" "/" "\\", ring closures "1" "%10", branches "(" ")".
// Both round-trip: joining the tokens gives the string back, for every string (a character no rule
// covers is a token of its own, so the vocabulary can still mark it unknown).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::chem {

std::vector<std::string> tokenize_inchi(const std::string& inchi);
std::vector<std::string> tokenize_smiles(const std::string& smiles);
// "inchi" or "smiles"; throws dojo::Error for another name.
std::vector<std::string> tokenize(const std::string& target, const std::string& text);

// Tokens numbered from a training set: 0 <pad>, 1 <sos>, 2 <eos>, 3 <unk>, then the rest in order of
// first appearance.
class Vocabulary {
 public:
  static constexpr std::int64_t kPad = 0, kSos = 1, kEos = 2, kUnk = 3;
  Vocabulary();
  explicit Vocabulary(const std::vector<std::string>& tokens);  // the special four first, as above
  void add(const std::string& token);
  std::int64_t id(const std::string& token) const;  // kUnk when unknown
  const std::string& token(std::int64_t id) const;  // throws dojo::Error for an id out of range
  std::int64_t size() const { return static_cast<std::int64_t>(tokens_.size()); }
  const std::vector<std::string>& tokens() const { return tokens_; }
  // <sos> ids… <eos>
  std::vector<std::int64_t> encode(const std::vector<std::string>& tokens) const;
  // The text of ids up to the first <eos>, special ids dropped.
  std::string decode(const std::vector<std::int64_t>& ids) const;

 private:
  std::vector<std::string> tokens_;
  std::vector<std::pair<std::string, std::int64_t>> sorted_;  // for id(): binary search
};

}  // namespace dojo::chem

DOJO_PUBLIC_END
