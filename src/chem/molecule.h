// Molecules as text: SMILES and standard InChI. RDKit parses, sanitises and writes canonical SMILES;
// Open Babel (with the InChI library) writes standard InChI and InChIKey and reads InChI back into a
// structure, because Debian's RDKit is built without its InChI support. Every function here is a
// call into one of them: dojo adds the error messages and the glue, never chemistry of its own.
#pragma once
#include <optional>
#include <string>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::chem {

// RDKit's canonical SMILES; throws dojo::Error naming the SMILES when RDKit cannot parse or sanitise it.
std::string canonical_smiles(const std::string& smiles);
// The same, or nullopt for a SMILES that is not a sane molecule (a decoder's candidate).
std::optional<std::string> try_canonical_smiles(const std::string& smiles);

// The standard InChI ("InChI=1S/...") of a SMILES; throws dojo::Error for an invalid SMILES.
std::string inchi_from_smiles(const std::string& smiles);
// The standard InChIKey of an InChI; throws dojo::Error for an InChI Open Babel cannot read.
std::string inchikey(const std::string& inchi);
// A SMILES for an InChI (Open Babel's InChI reader); throws dojo::Error for one it cannot read.
std::string smiles_from_inchi(const std::string& inchi);

// InChI -> molecule -> standard InChI, the top BMS teams' normalisation of a decoded string, or
// nullopt when the InChI does not read as a molecule RDKit can sanitise (re-ranking drops it).
std::optional<std::string> normalize_inchi(const std::string& inchi);

}  // namespace dojo::chem

DOJO_PUBLIC_END
