// Where molecules come from: files of SMILES or SDF records, Debian's rdkit-data (about 16k real
// molecules), and new molecules recombined from BRICS fragments of the training molecules.
//
// Two files of rdkit-data are kept for outside evaluation only (the rule): PubChem's 200
// (Projects/DbCLI/testData/pubchem.200.sdf) and ChEMBL's random 100
// (Contrib/NIBRSubstructureFilters/examples/chembl24_structs_randomtestSample_100.csv). Their molecules
// are removed from every other source, and the generator only recombines training fragments, so
// nothing held out is ever seen.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::chem {

struct Molecule {
  std::string smiles;    // RDKit's canonical SMILES
  std::string inchi;     // standard InChI
  std::string inchikey;  // standard InChIKey: identity for de-duplication and splits
};

// The molecules of a file: .smi/.smiles (the first field of each line), .sdf (RDKit's SD reader) or
// .csv (a column named smiles or SMILES, else the first). Entries RDKit cannot sanitise, or the InChI
// library cannot name, are skipped and counted in `skipped`. Throws dojo::Error naming a missing file
// or an unknown extension.
std::vector<Molecule> read_molecules(const std::filesystem::path& file, std::int64_t* skipped = nullptr);

// rdkit-data's folder: $DOJO_RDKIT_DATA, else /usr/share/RDKit.
std::filesystem::path rdkit_data_dir();
// The files of real molecules in rdkit-data that dojo learns from, and the two held out.
std::vector<std::filesystem::path> source_files();
std::vector<std::filesystem::path> outside_test_files();

enum class Split { train, validation, held_out, outside_test };
std::string to_string(Split split);
// Throws dojo::Error naming the value unless train, validation, held-out or outside-test.
Split parse_split(const std::string& name);

struct Sources {
  std::vector<Molecule> train, validation, held_out, outside_test;
  const std::vector<Molecule>& of(Split split) const;
};
// The real molecules, de-duplicated by InChIKey, without the outside-test ones, split by a hash of
// the InChIKey (80% train, 10% validation, 10% held out): a molecule's split never changes.
Sources load_sources();
Split split_of(const std::string& inchikey);

// New molecules from BRICS fragments (Degen et al. 2008, RDKit's fragmenter): cut a training molecule
// at one BRICS bond and replace one side with a fragment cut at a bond of the same two BRICS
// environments from another training molecule, joined by RDKit's molzip. Kept when RDKit sanitises
// the result and its heavy-atom count lies within the training molecules' range.
class FragmentGenerator {
 public:
  explicit FragmentGenerator(const std::vector<Molecule>& train);
  ~FragmentGenerator();
  FragmentGenerator(FragmentGenerator&&) noexcept;
  FragmentGenerator& operator=(FragmentGenerator&&) noexcept;
  // A new molecule (not one of the training molecules), or nullopt after `attempts` failures.
  std::optional<Molecule> next(std::mt19937_64& rng, int attempts = 50) const;
  std::int64_t fragment_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dojo::chem

DOJO_PUBLIC_END
