#include "chem/tokens.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include "core/error.h"

namespace dojo::chem {

namespace {

bool upper(char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; }
bool lower(char c) { return std::islower(static_cast<unsigned char>(c)) != 0; }
bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

const std::vector<std::string> kSpecial = {"<pad>", "<sos>", "<eos>", "<unk>"};

}  // namespace

std::vector<std::string> tokenize_inchi(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  const std::string prefix = "InChI=1S/";
  if (s.rfind(prefix, 0) == 0) {
    out.push_back(prefix);
    i = prefix.size();
  }
  while (i < s.size()) {
    const char c = s[i];
    std::size_t len = 1;
    if (c == '/' && i + 1 < s.size() && lower(s[i + 1])) {
      len = 2;  // a layer's prefix: /c /h /b /t /m /s /i /q /p /f /r
    } else if (upper(c)) {
      if (i + 1 < s.size() && lower(s[i + 1])) len = 2;  // Cl, Br, Na: element symbols
    } else if (digit(c)) {
      while (i + len < s.size() && digit(s[i + len])) ++len;
    }
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

std::vector<std::string> tokenize_smiles(const std::string& s) {
  // Schwaller et al. (2019), "Molecular Transformer", the atom-level SMILES split.
  static const std::regex atom(
      R"((\[[^\]]+\]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|\/|:|~|@|\?|>|\*|\$|%[0-9]{2}|[0-9]))");
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::smatch m;
    const auto rest = s.substr(i);
    if (std::regex_search(rest, m, atom, std::regex_constants::match_continuous)) {
      out.push_back(m.str());
      i += static_cast<std::size_t>(m.length());
    } else {
      out.emplace_back(1, s[i++]);
    }
  }
  return out;
}

std::vector<std::string> tokenize(const std::string& target, const std::string& text) {
  if (target == "inchi") return tokenize_inchi(text);
  if (target == "smiles") return tokenize_smiles(text);
  throw Error("target '" + target + "': expected inchi or smiles");
}

Vocabulary::Vocabulary() {
  for (const auto& t : kSpecial) add(t);
}

Vocabulary::Vocabulary(const std::vector<std::string>& tokens) : Vocabulary() {
  for (const auto& t : tokens) add(t);
}

void Vocabulary::add(const std::string& token) {
  const auto it = std::lower_bound(sorted_.begin(), sorted_.end(), std::make_pair(token, std::int64_t{-1}));
  if (it != sorted_.end() && it->first == token) return;
  sorted_.insert(it, {token, size()});
  tokens_.push_back(token);
}

std::int64_t Vocabulary::id(const std::string& token) const {
  const auto it = std::lower_bound(sorted_.begin(), sorted_.end(), std::make_pair(token, std::int64_t{-1}));
  return it != sorted_.end() && it->first == token ? it->second : kUnk;
}

const std::string& Vocabulary::token(std::int64_t id) const {
  if (id < 0 || id >= size())
    throw Error("token id " + std::to_string(id) + ": expected 0 to " + std::to_string(size() - 1));
  return tokens_[static_cast<std::size_t>(id)];
}

std::vector<std::int64_t> Vocabulary::encode(const std::vector<std::string>& tokens) const {
  std::vector<std::int64_t> ids{kSos};
  for (const auto& t : tokens) ids.push_back(id(t));
  ids.push_back(kEos);
  return ids;
}

std::string Vocabulary::decode(const std::vector<std::int64_t>& ids) const {
  std::string out;
  for (auto id : ids) {
    if (id == kEos) break;
    if (id == kPad || id == kSos || id == kUnk) continue;
    out += token(id);
  }
  return out;
}

}  // namespace dojo::chem
