#include "chem/sources.h"

#include <GraphMol/ChemTransforms/MolFragmenter.h>
#include <GraphMol/FileParsers/MolSupplier.h>
#include <GraphMol/GraphMol.h>
#include <GraphMol/MolOps.h>
#include <GraphMol/SmilesParse/SmilesParse.h>
#include <GraphMol/SmilesParse/SmilesWrite.h>
#include <GraphMol/Substruct/SubstructMatch.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_set>

#include "chem/labels.h"
#include "chem/molecule.h"
#include "core/error.h"
#include "core/files.h"

namespace dojo::chem {

namespace fs = std::filesystem;

namespace {

std::unique_ptr<RDKit::RWMol> parse(const std::string& smiles) {
  try {
    return std::unique_ptr<RDKit::RWMol>(RDKit::SmilesToMol(smiles));
  } catch (const std::exception&) {
    return nullptr;
  }
}

// A molecule with its names, or nullopt when RDKit or the InChI library refuses it.
std::optional<Molecule> named(const std::string& smiles) {
  const auto canonical = try_canonical_smiles(smiles);
  if (!canonical) return std::nullopt;
  try {
    Molecule m{*canonical, inchi_from_smiles(*canonical), ""};
    m.inchikey = inchikey(m.inchi);
    return m;
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::vector<std::string> smiles_of(const fs::path& file) {
  const auto ext = file.extension().string();
  std::vector<std::string> out;
  if (ext == ".sdf") {
    RDKit::SDMolSupplier supplier(file.string(), /*sanitize=*/true, /*removeHs=*/true);
    while (!supplier.atEnd()) {
      try {
        std::unique_ptr<RDKit::ROMol> m(supplier.next());
        if (m) out.push_back(RDKit::MolToSmiles(*m));
      } catch (const std::exception&) {  // a record RDKit cannot sanitise: skipped, counted below
        out.emplace_back();
      }
    }
    return out;
  }
  std::ifstream in(file);
  std::string line;
  if (ext == ".smi" || ext == ".smiles") {
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string s;
      if (fields >> s && s[0] != '#') out.push_back(s);
    }
    return out;
  }
  if (ext == ".csv") {
    // A header naming a smiles column, or (rdkit-data's WEHI file) no header and SMILES first.
    std::getline(in, line);
    const auto unquote = [](std::string f) {
      if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
      return f;
    };
    const auto split = [&](const std::string& l) {
      std::vector<std::string> fields;
      std::string f;
      std::istringstream ss(l);
      while (std::getline(ss, f, ',')) fields.push_back(unquote(f));
      return fields;
    };
    auto header = split(line);
    std::size_t col = 0;
    bool has_header = false;
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == "smiles" || header[i] == "SMILES") col = i, has_header = true;
    }
    if (!has_header && !header.empty()) out.push_back(header[0]);
    while (std::getline(in, line)) {
      auto fields = split(line);
      if (fields.size() > col) out.push_back(fields[col]);
    }
    return out;
  }
  throw Error("molecule file '" + file.string() + "': expected a .smi, .smiles, .sdf or .csv file");
}

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

std::vector<Molecule> read_molecules(const fs::path& file, std::int64_t* skipped) {
  if (!fs::is_regular_file(file)) throw Error("molecule file '" + file.string() + "' not found");
  std::vector<Molecule> out;
  std::int64_t bad = 0;
  for (const auto& s : smiles_of(file)) {
    if (auto m = named(s)) {
      out.push_back(std::move(*m));
    } else {
      ++bad;
    }
  }
  if (skipped) *skipped = bad;
  return out;
}

fs::path rdkit_data_dir() {
  if (const char* dir = std::getenv("DOJO_RDKIT_DATA")) return dir;
  return "/usr/share/RDKit";
}

std::vector<fs::path> source_files() {
  const auto d = rdkit_data_dir();
  return {
      d / "Data/Pains/test_data/wehi_mols.csv",        d / "Data/NCI/first_5K.smi",
      d / "Contrib/FreeWilson/data/CHEMBL2321810.smi", d / "Contrib/PBF/testData/egfr.sdf",
      d / "Projects/DbCLI/testData/bzr.sdf",           d / "Data/NCI/first_200.props.sdf",
      d / "Contrib/Fastcluster/testdata/cdk2.sdf",     d / "Contrib/fraggle/data/ChEMBL_11265_actives.smi"};
}

std::vector<fs::path> outside_test_files() {
  const auto d = rdkit_data_dir();
  return {d / "Projects/DbCLI/testData/pubchem.200.sdf",
          d / "Contrib/NIBRSubstructureFilters/examples/chembl24_structs_randomtestSample_100.csv"};
}

std::string to_string(Split s) {
  switch (s) {
    case Split::train:
      return "train";
    case Split::validation:
      return "validation";
    case Split::held_out:
      return "held-out";
    case Split::outside_test:
      return "outside-test";
  }
  return "?";
}

Split parse_split(const std::string& name) {
  for (auto s : {Split::train, Split::validation, Split::held_out, Split::outside_test}) {
    if (to_string(s) == name) return s;
  }
  throw Error("split '" + name + "': expected train, validation, held-out or outside-test");
}

const std::vector<Molecule>& Sources::of(Split s) const {
  switch (s) {
    case Split::train:
      return train;
    case Split::validation:
      return validation;
    case Split::held_out:
      return held_out;
    case Split::outside_test:
      return outside_test;
  }
  return train;
}

Split split_of(const std::string& inchikey) {
  const auto bucket = fnv1a(inchikey) % 10;
  return bucket < 8 ? Split::train : bucket == 8 ? Split::validation : Split::held_out;
}

namespace {

// load_sources names ~16k molecules (InChI and InChIKey for each, about half a minute): the result is
// kept in a cache file, valid while the source files keep their sizes and times.
fs::path cache_file() {
  fs::path dir;
  if (const char* d = std::getenv("DOJO_CACHE_DIR")) {
    dir = d;
  } else if (const char* x = std::getenv("XDG_CACHE_HOME")) {
    dir = fs::path(x) / "dojo";
  } else if (const char* h = std::getenv("HOME")) {
    dir = fs::path(h) / ".cache" / "dojo";
  } else {
    return {};
  }
  return dir / "chem-sources-v1.tsv";
}

std::string sources_stamp() {
  std::ostringstream stamp;
  stamp << "dojo chem sources v1";
  for (const auto& list : {outside_test_files(), source_files()}) {
    for (const auto& f : list) {
      std::error_code ec;
      const auto size = fs::file_size(f, ec);
      const auto time = fs::last_write_time(f, ec).time_since_epoch().count();
      stamp << '|' << f.string() << ':' << (ec ? 0 : size) << ':' << (ec ? 0 : time);
    }
  }
  return stamp.str();
}

std::optional<Sources> read_cache(const fs::path& file, const std::string& stamp) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line) || line != stamp) return std::nullopt;
  Sources s;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string split;
    Molecule m;
    if (!std::getline(fields, split, '\t') || !std::getline(fields, m.smiles, '\t') ||
        !std::getline(fields, m.inchi, '\t') || !std::getline(fields, m.inchikey, '\t'))
      return std::nullopt;
    const auto which = parse_split(split);
    (which == Split::train        ? s.train
     : which == Split::validation ? s.validation
     : which == Split::held_out   ? s.held_out
                                  : s.outside_test)
        .push_back(std::move(m));
  }
  return s;
}

void write_cache(const fs::path& file, const std::string& stamp, const Sources& s) {
  std::ostringstream out;
  out << stamp << "\n";
  for (auto split : {Split::train, Split::validation, Split::held_out, Split::outside_test}) {
    for (const auto& m : s.of(split))
      out << to_string(split) << "\t" << m.smiles << "\t" << m.inchi << "\t" << m.inchikey << "\n";
  }
  try {
    fs::create_directories(file.parent_path());
    core::atomic_write_text(file, out.str());
  } catch (const std::exception&) {  // a read-only home: no cache, same result
  }
}

}  // namespace

Sources load_sources() {
  const auto cache = cache_file();
  const auto stamp = sources_stamp();
  if (!cache.empty()) {
    if (auto cached = read_cache(cache, stamp)) return *cached;
  }
  Sources s;
  std::unordered_set<std::string> seen;
  for (const auto& f : outside_test_files()) {
    for (auto& m : read_molecules(f)) {
      if (seen.insert(m.inchikey).second) s.outside_test.push_back(std::move(m));
    }
  }
  for (const auto& f : source_files()) {
    for (auto& m : read_molecules(f)) {
      if (!seen.insert(m.inchikey).second) continue;  // a duplicate, or held out for outside evaluation
      const auto split = split_of(m.inchikey);
      (split == Split::train        ? s.train
       : split == Split::validation ? s.validation
                                    : s.held_out)
          .push_back(std::move(m));
    }
  }
  if (!cache.empty()) write_cache(cache, stamp, s);
  return s;
}

// ---- BRICS recombination ----

struct FragmentGenerator::Impl {
  struct Cut {
    unsigned bond;
    unsigned begin_label, end_label;  // BRICS environments of the bond's begin and end atoms
  };
  std::vector<std::string> molecules;                                      // training SMILES
  std::vector<std::vector<Cut>> cuts;                                      // BRICS single bonds of each
  std::map<std::pair<unsigned, unsigned>, std::vector<std::string>> pool;  // (dummy label, own env) -> pieces
  std::unordered_set<std::string> known;  // training InChIKeys: a copy is not new
  unsigned min_atoms = 1000, max_atoms = 0;

  // The two sides of cutting `smiles` at one bond, each a SMILES with one labelled dummy atom, with
  // their pool keys; empty when the cut does not give two pieces.
  std::vector<std::pair<std::pair<unsigned, unsigned>, std::string>> pieces(const RDKit::ROMol& mol,
                                                                            const Cut& c) const {
    std::vector<std::pair<unsigned, unsigned>> labels{{c.begin_label, c.end_label}};
    std::unique_ptr<RDKit::ROMol> cut(RDKit::MolFragmenter::fragmentOnBonds(mol, {c.bond}, true, &labels));
    std::vector<RDKit::ROMOL_SPTR> frags = RDKit::MolOps::getMolFrags(*cut, /*sanitizeFrags=*/false);
    if (frags.size() != 2) return {};
    std::vector<std::pair<std::pair<unsigned, unsigned>, std::string>> out;
    for (const auto& f : frags) {
      unsigned dummy_label = 0;
      for (const auto* a : f->atoms()) {
        if (a->getAtomicNum() == 0) dummy_label = a->getIsotope();
      }
      // The dummy replacing the begin atom carries its label and sits on the end atom's side.
      const unsigned own = dummy_label == c.begin_label ? c.end_label : c.begin_label;
      out.push_back({{dummy_label, own}, RDKit::MolToSmiles(*f)});
    }
    return out;
  }
};

FragmentGenerator::FragmentGenerator(const std::vector<Molecule>& train) : impl_(std::make_unique<Impl>()) {
  std::vector<RDKit::MolFragmenter::FragmenterBondType> brics;
  RDKit::MolFragmenter::constructBRICSBondTypes(brics);
  for (const auto& m : train) {
    auto mol = parse(m.smiles);
    if (!mol) continue;
    impl_->known.insert(m.inchikey);
    const unsigned atoms = mol->getNumHeavyAtoms();
    impl_->min_atoms = std::min(impl_->min_atoms, atoms);
    impl_->max_atoms = std::max(impl_->max_atoms, atoms);
    std::vector<Impl::Cut> cuts;
    std::set<unsigned> bonds;
    for (const auto& type : brics) {
      std::vector<RDKit::MatchVectType> matches;
      RDKit::SubstructMatch(*mol, *type.query, matches);
      for (const auto& match : matches) {
        const auto* bond = mol->getBondBetweenAtoms(match[0].second, match[1].second);
        if (!bond || bond->getBondType() != RDKit::Bond::SINGLE || !bonds.insert(bond->getIdx()).second)
          continue;
        const bool forward = bond->getBeginAtomIdx() == static_cast<unsigned>(match[0].second);
        cuts.push_back({bond->getIdx(), forward ? type.atom1Label : type.atom2Label,
                        forward ? type.atom2Label : type.atom1Label});
      }
    }
    if (cuts.empty()) continue;
    for (const auto& c : cuts) {
      for (auto& [key, piece] : impl_->pieces(*mol, c)) impl_->pool[key].push_back(std::move(piece));
    }
    impl_->molecules.push_back(m.smiles);
    impl_->cuts.push_back(std::move(cuts));
  }
  if (impl_->molecules.empty())
    throw Error("FragmentGenerator: no training molecule has a BRICS bond to cut");
}

FragmentGenerator::~FragmentGenerator() = default;
FragmentGenerator::FragmentGenerator(FragmentGenerator&&) noexcept = default;
FragmentGenerator& FragmentGenerator::operator=(FragmentGenerator&&) noexcept = default;

std::int64_t FragmentGenerator::fragment_count() const {
  std::int64_t n = 0;
  for (const auto& [k, v] : impl_->pool) n += static_cast<std::int64_t>(v.size());
  return n;
}

std::optional<Molecule> FragmentGenerator::next(std::mt19937_64& rng, int attempts) const {
  const auto& I = *impl_;
  for (int a = 0; a < attempts; ++a) {
    const auto i = std::uniform_int_distribution<std::size_t>(0, I.molecules.size() - 1)(rng);
    const auto& cuts = I.cuts[i];
    const auto& cut = cuts[std::uniform_int_distribution<std::size_t>(0, cuts.size() - 1)(rng)];
    auto mol = parse(I.molecules[i]);
    if (!mol) continue;
    auto sides = I.pieces(*mol, cut);
    if (sides.size() != 2) continue;
    // Keep one side, replace the other with a piece cut between the same two environments.
    const auto keep = std::uniform_int_distribution<int>(0, 1)(rng);
    const auto& replace_key = sides[static_cast<std::size_t>(1 - keep)].first;
    const auto it = I.pool.find(replace_key);
    if (it == I.pool.end()) continue;
    const auto& other = it->second[std::uniform_int_distribution<std::size_t>(0, it->second.size() - 1)(rng)];
    std::unique_ptr<RDKit::RWMol> kept(
        RDKit::SmilesToMol(sides[static_cast<std::size_t>(keep)].second, 0, false));
    std::unique_ptr<RDKit::RWMol> piece(RDKit::SmilesToMol(other, 0, false));
    if (!kept || !piece) continue;
    for (auto* m : {kept.get(), piece.get()}) {
      for (auto* atom : m->atoms()) {
        if (atom->getAtomicNum() == 0) atom->setAtomMapNum(1);  // molzip joins the two dummies' neighbours
      }
    }
    std::string smiles;
    try {
      auto joined = RDKit::molzip(*kept, *piece);
      smiles = RDKit::MolToSmiles(*joined);
    } catch (const std::exception&) {
      continue;
    }
    auto candidate = named(smiles);
    if (!candidate || I.known.count(candidate->inchikey)) continue;
    auto check = parse(candidate->smiles);
    if (!check) continue;
    const auto atoms = check->getNumHeavyAtoms();
    if (atoms < I.min_atoms || atoms > I.max_atoms) continue;
    return candidate;
  }
  return std::nullopt;
}

}  // namespace dojo::chem
