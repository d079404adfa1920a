#include "chem/molecule.h"

#include <GraphMol/GraphMol.h>
#include <GraphMol/SmilesParse/SmilesParse.h>
#include <GraphMol/SmilesParse/SmilesWrite.h>
#include <RDGeneral/RDLog.h>
#include <openbabel/mol.h>
#include <openbabel/obconversion.h>
#include <openbabel/oberror.h>

#include <memory>
#include <mutex>

#include "core/error.h"

namespace dojo::chem {

namespace {

// RDKit and Open Babel report parse failures on stderr as well as by their return values; dojo turns
// the return values into one-line errors, so both stay quiet.
void quiet() {
  static std::once_flag once;
  std::call_once(once, [] {
    RDLog::InitLogs();
    boost::logging::disable_logs("rdApp.*");
    OpenBabel::obErrorLog.StopLogging();
  });
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == '\t' || s.back() == ' '))
    s.pop_back();
  return s;
}

// One conversion with Open Babel: nullopt when the input does not read as a molecule with atoms.
std::optional<std::string> babel(const std::string& from, const std::string& to, const std::string& text) {
  quiet();
  // The InChI library (inside Open Babel's InChI format) keeps global state: one conversion at a time.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  OpenBabel::OBConversion conv;
  if (!conv.SetInAndOutFormats(from.c_str(), to.c_str()))
    throw std::runtime_error("Open Babel has no " + from + " -> " + to +
                             " conversion (is its plugin installed?)");
  OpenBabel::OBMol mol;
  if (!conv.ReadString(&mol, text) || mol.NumAtoms() == 0) return std::nullopt;
  auto out = trim(conv.WriteString(&mol));
  if (out.empty()) return std::nullopt;
  return out;
}

std::unique_ptr<RDKit::RWMol> parse_smiles(const std::string& smiles) {
  quiet();
  try {
    return std::unique_ptr<RDKit::RWMol>(RDKit::SmilesToMol(smiles));
  } catch (const std::exception&) {  // sanitisation failures (valence, kekulisation) throw
    return nullptr;
  }
}

}  // namespace

std::optional<std::string> try_canonical_smiles(const std::string& smiles) {
  if (smiles.empty()) return std::nullopt;
  auto mol = parse_smiles(smiles);
  if (!mol || mol->getNumAtoms() == 0) return std::nullopt;
  return RDKit::MolToSmiles(*mol);
}

std::string canonical_smiles(const std::string& smiles) {
  auto s = try_canonical_smiles(smiles);
  if (!s)
    throw Error("SMILES '" + smiles + "': RDKit cannot parse or sanitise it; expected a valid molecule");
  return *s;
}

std::string inchi_from_smiles(const std::string& smiles) {
  const auto canonical = canonical_smiles(smiles);  // RDKit's verdict on validity, and its message
  auto inchi = babel("smi", "inchi", canonical);
  if (!inchi || inchi->rfind("InChI=1S/", 0) != 0)
    throw Error("SMILES '" + smiles + "': the InChI library gives no standard InChI for it");
  // Open Babel may append a warning line after the identifier.
  return inchi->substr(0, inchi->find_first_of("\n\t "));
}

std::string inchikey(const std::string& inchi) {
  auto key = babel("inchi", "inchikey", inchi);
  if (!key) throw Error("InChI '" + inchi + "': cannot be read; expected a standard InChI (InChI=1S/...)");
  return key->substr(0, key->find_first_of("\n\t "));
}

std::string smiles_from_inchi(const std::string& inchi) {
  auto smiles = babel("inchi", "smi", inchi);
  if (!smiles) throw Error("InChI '" + inchi + "': cannot be read; expected a standard InChI (InChI=1S/...)");
  return smiles->substr(0, smiles->find_first_of("\n\t "));
}

std::optional<std::string> normalize_inchi(const std::string& inchi) {
  if (inchi.rfind("InChI=1S/", 0) != 0) return std::nullopt;
  auto smiles = babel("inchi", "smi", inchi);
  if (!smiles) return std::nullopt;
  const auto canonical = try_canonical_smiles(smiles->substr(0, smiles->find_first_of("\n\t ")));
  if (!canonical) return std::nullopt;
  auto out = babel("smi", "inchi", *canonical);
  if (!out || out->rfind("InChI=1S/", 0) != 0) return std::nullopt;
  return out->substr(0, out->find_first_of("\n\t "));
}

}  // namespace dojo::chem
