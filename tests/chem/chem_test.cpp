// Chemistry as text: standard InChI and InChIKey against published values, InChI round trips,
// tokenizers, the Levenshtein metric, and the competition's label files.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "chem/captioner.h"
#include "chem/image.h"
#include "chem/labels.h"
#include "chem/molecule.h"
#include "chem/render.h"
#include "chem/score.h"
#include "chem/sources.h"
#include "chem/tokens.h"
#include "chem/train.h"
#include "cli_util.h"
#include "core/error.h"
#include "core/files.h"
#include "core/image.h"
#include "test_util.h"

namespace dojo::chem {
namespace {

namespace fs = std::filesystem;

struct Known {
  const char* name;
  const char* smiles;
  const char* inchi;
  const char* key;
};

// Standard InChI and InChIKey as PubChem and the IUPAC InChI Trust publish them.
const Known kKnown[] = {
    {"water", "O", "InChI=1S/H2O/h1H2", "XLYOFNOQVPJJNP-UHFFFAOYSA-N"},
    {"methane", "C", "InChI=1S/CH4/h1H4", "VNWKTOKETHGBQD-UHFFFAOYSA-N"},
    {"ammonia", "N", "InChI=1S/H3N/h1H3", "QGZKDVFQNNGYKY-UHFFFAOYSA-N"},
    {"carbon dioxide", "O=C=O", "InChI=1S/CO2/c2-1-3", "CURLTUGMZLYLDI-UHFFFAOYSA-N"},
    {"methanol", "CO", "InChI=1S/CH4O/c1-2/h2H,1H3", "OKKJLVBELUTLKV-UHFFFAOYSA-N"},
    {"formaldehyde", "C=O", "InChI=1S/CH2O/c1-2/h1H2", "WSFSSNUMVMOOMR-UHFFFAOYSA-N"},
    {"ethylene", "C=C", "InChI=1S/C2H4/c1-2/h1-2H2", "VGGSQFUCUMXWEO-UHFFFAOYSA-N"},
    {"ethanol", "CCO", "InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3", "LFQSCWFLJHTTHZ-UHFFFAOYSA-N"},
    {"acetic acid", "CC(=O)O", "InChI=1S/C2H4O2/c1-2(3)4/h1H3,(H,3,4)", "QTBSBXVTEAMEQO-UHFFFAOYSA-N"},
    {"acetone", "CC(C)=O", "InChI=1S/C3H6O/c1-3(2)4/h1-2H3", "CSCPPACGZOOCGX-UHFFFAOYSA-N"},
    {"urea", "NC(N)=O", "InChI=1S/CH4N2O/c2-1(3)4/h(H4,2,3,4)", "XSQUKJJJFZCRTK-UHFFFAOYSA-N"},
    {"glycine", "NCC(=O)O", "InChI=1S/C2H5NO2/c3-1-2(4)5/h1,3H2,(H,4,5)", "DHMQDGOQFOQNFH-UHFFFAOYSA-N"},
    {"L-alanine", "C[C@H](N)C(=O)O", "InChI=1S/C3H7NO2/c1-2(4)3(5)6/h2H,4H2,1H3,(H,5,6)/t2-/m0/s1",
     "QNAYBMKLOCPYGJ-REOHCLBHSA-N"},
    {"cyclohexane", "C1CCCCC1", "InChI=1S/C6H12/c1-2-4-6-5-3-1/h1-6H2", "XDTMQSROBMDMFD-UHFFFAOYSA-N"},
    {"benzene", "c1ccccc1", "InChI=1S/C6H6/c1-2-4-6-5-3-1/h1-6H", "UHOVQNZJYSORNB-UHFFFAOYSA-N"},
    {"toluene", "Cc1ccccc1", "InChI=1S/C7H8/c1-7-5-3-2-4-6-7/h2-6H,1H3", "YXFVVABEGXRONW-UHFFFAOYSA-N"},
    {"phenol", "Oc1ccccc1", "InChI=1S/C6H6O/c7-6-4-2-1-3-5-6/h1-5,7H", "ISWSIDIOOBJBQZ-UHFFFAOYSA-N"},
    {"pyridine", "c1ccncc1", "InChI=1S/C5H5N/c1-2-4-6-5-3-1/h1-5H", "JUJWROOIHBZHMG-UHFFFAOYSA-N"},
    {"benzoic acid", "OC(=O)c1ccccc1", "InChI=1S/C7H6O2/c8-7(9)6-4-2-1-3-5-6/h1-5H,(H,8,9)",
     "WPYMKLBDIGXBTP-UHFFFAOYSA-N"},
    {"naphthalene", "c1ccc2ccccc2c1", "InChI=1S/C10H8/c1-2-6-10-8-4-3-7-9(10)5-1/h1-8H",
     "UFWIBTONFRDIAS-UHFFFAOYSA-N"},
    {"aspirin", "CC(=O)Oc1ccccc1C(=O)O",
     "InChI=1S/C9H8O4/c1-6(10)13-8-5-3-2-4-7(8)9(11)12/h2-5H,1H3,(H,11,12)", "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"},
    {"paracetamol", "CC(=O)Nc1ccc(O)cc1", "InChI=1S/C8H9NO2/c1-6(10)9-7-2-4-8(11)5-3-7/h2-5,11H,1H3,(H,9,10)",
     "RZVAJINKPMORJF-UHFFFAOYSA-N"},
    {"caffeine", "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
     "InChI=1S/C8H10N4O2/c1-10-4-9-6-5(10)7(13)12(3)8(14)11(6)2/h4H,1-3H3", "RYYVLZVUVIJVGH-UHFFFAOYSA-N"},
    {"ibuprofen", "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
     "InChI=1S/C13H18O2/c1-9(2)8-11-4-6-12(7-5-11)10(3)13(14)15/h4-7,9-10H,8H2,1-3H3,(H,14,15)",
     "HEFNNWSXXWATRW-UHFFFAOYSA-N"},
    {"(S)-nicotine", "CN1CCC[C@H]1c1cccnc1",
     "InChI=1S/C10H14N2/c1-12-7-3-5-10(12)9-4-2-6-11-8-9/h2,4,6,8,10H,3,5,7H2,1H3/t10-/m0/s1",
     "SNICXCGAKADSCV-JTQLQIEISA-N"},
};

TEST(Molecule, StandardInchiAndKeyOfWellKnownMolecules) {
  for (const auto& m : kKnown) {
    EXPECT_EQ(inchi_from_smiles(m.smiles), m.inchi) << m.name;
    EXPECT_EQ(inchikey(m.inchi), m.key) << m.name;
    // InChI -> molecule -> InChI gives it back, and a SMILES from the InChI means the same molecule.
    EXPECT_EQ(normalize_inchi(m.inchi).value_or("none"), m.inchi) << m.name;
    EXPECT_EQ(inchi_from_smiles(smiles_from_inchi(m.inchi)), m.inchi) << m.name;
  }
}

TEST(Molecule, InvalidInputIsAnErrorOrNothing) {
  EXPECT_THROW(canonical_smiles("C1CC"), Error);             // an unclosed ring
  EXPECT_THROW(inchi_from_smiles("C(C)(C)(C)(C)C"), Error);  // pentavalent carbon
  EXPECT_FALSE(try_canonical_smiles("").has_value());
  EXPECT_FALSE(normalize_inchi("InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3/garbage(((").has_value());
  EXPECT_FALSE(normalize_inchi("not an inchi").has_value());
  EXPECT_THROW(inchikey("InChI=1S/"), Error);
  EXPECT_EQ(canonical_smiles("OCC"), "CCO");
}

TEST(Tokens, InchiTokensAreLayersElementsNumbersAndPunctuation) {
  const std::string inchi = "InChI=1S/C13H20ClNO/c1-9(2)8-15-13/h5-7,9,11H,8H2,1-4H3/t10-/m0/s1";
  const auto t = tokenize_inchi(inchi);
  const std::vector<std::string> head = {"InChI=1S/", "C",  "13", "H", "20", "Cl", "N",
                                         "O",         "/c", "1",  "-", "9",  "("};
  ASSERT_GE(t.size(), head.size());
  EXPECT_EQ(std::vector<std::string>(t.begin(), t.begin() + static_cast<long>(head.size())), head);
  std::string joined;
  for (const auto& s : t) joined += s;
  EXPECT_EQ(joined, inchi);
  for (const auto& m : kKnown) {
    for (const std::string& s : {std::string(m.inchi), std::string(m.smiles)}) {
      joined.clear();
      for (const auto& tok : tokenize(s.rfind("InChI", 0) == 0 ? "inchi" : "smiles", s)) joined += tok;
      EXPECT_EQ(joined, s);
    }
  }
}

TEST(Tokens, SmilesTokensAreAtomsBondsRingsAndBranches) {
  EXPECT_EQ(tokenize_smiles("C[C@H](Cl)c1ccc(Br)cc1%10"),
            (std::vector<std::string>{"C", "[C@H]", "(", "Cl", ")", "c", "1", "c", "c", "c", "(", "Br", ")",
                                      "c", "c", "1", "%10"}));
  EXPECT_THROW(tokenize("selfies", "C"), Error);
}

TEST(Tokens, VocabularyEncodesDecodesAndMarksUnknowns) {
  Vocabulary v({"C", "O", "1"});
  EXPECT_EQ(v.size(), 7);
  EXPECT_EQ(v.id("C"), 4);
  EXPECT_EQ(v.id("Xe"), Vocabulary::kUnk);
  EXPECT_EQ(v.encode({"C", "O", "Xe"}), (std::vector<std::int64_t>{1, 4, 5, 3, 2}));
  EXPECT_EQ(v.decode({1, 4, 5, 6, 2, 4}), "CO1");  // stops at <eos>
  EXPECT_THROW(v.token(99), Error);
}

TEST(Score, LevenshteinMatchesHandComputedCases) {
  EXPECT_EQ(levenshtein("kitten", "sitting"), 3);  // k->s, e->i, +g
  EXPECT_EQ(levenshtein("flaw", "lawn"), 2);       // -f, +n
  EXPECT_EQ(levenshtein("", "abc"), 3);
  EXPECT_EQ(levenshtein("abc", ""), 3);
  EXPECT_EQ(levenshtein("same", "same"), 0);
  // Methanol's InChI to methane's: delete "O/c1-2" (6) and "2H," (3), substitute 3 -> 4 (1).
  EXPECT_EQ(levenshtein("InChI=1S/CH4O/c1-2/h2H,1H3", "InChI=1S/CH4/h1H4"), 10);
}

TEST(Labels, ReadWriteAndScoreTheCompetitionsFiles) {
  const auto dir = test::fresh_path("chem_labels");
  fs::create_directories(dir);
  const std::vector<Label> truth = {{"000011a64c74", kKnown[7].inchi}, {"00001a2b3c4d", kKnown[10].inchi}};
  write_labels(dir / "labels.csv", truth);
  EXPECT_NE(core::read_text(dir / "labels.csv").find("\"InChI=1S/CH4N2O/c2-1(3)4/h(H4,2,3,4)\""),
            std::string::npos);
  const auto back = read_labels(dir / "labels.csv");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].inchi, truth[1].inchi);
  write_labels(dir / "sub.csv",
               {{"00001a2b3c4d", "InChI=1S/CH4N2O/c2-1(3)4"}, {"000011a64c74", kKnown[7].inchi}});
  const auto s = score_files(dir / "sub.csv", dir / "labels.csv");
  EXPECT_EQ(s.count, 2);
  EXPECT_DOUBLE_EQ(s.mean_distance, 6.0);  // 0 and 12 (the 12 characters of "/h(H4,2,3,4)" missing)
  EXPECT_DOUBLE_EQ(s.exact, 0.5);
  EXPECT_EQ(image_path("r", "abc123"), fs::path("r/a/b/c/abc123.png"));

  // Bad files: one-line errors naming the file and what was expected.
  core::atomic_write_text(dir / "nocol.csv", "image_id,smiles\nabc,CCO\n");
  core::atomic_write_text(dir / "bad.csv", "image_id,InChI\nabc,CCO\n");
  core::atomic_write_text(dir / "dup.csv", "image_id,InChI\nabc,InChI=1S/CH4/h1H4\nabc,InChI=1S/CH4/h1H4\n");
  for (const auto& [file, says] :
       std::vector<std::pair<std::string, std::string>>{{"nocol.csv", "no column 'InChI'"},
                                                        {"bad.csv", "'CCO' is not a standard InChI"},
                                                        {"dup.csv", "appears twice"},
                                                        {"missing.csv", "not found"}}) {
    try {
      read_labels(dir / file);
      ADD_FAILURE() << file;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    }
  }
  write_labels(dir / "short.csv", {{"00001a2b3c4d", "x"}});
  EXPECT_THROW(score_files(dir / "short.csv", dir / "labels.csv"), Error);  // a labelled image unanswered
  fs::remove_all(dir);
}

TEST(Render, BothRenderersDrawInkOnWhitePaper) {
  for (const std::string renderer : {"rdkit", "indigo"}) {
    DrawStyle style;
    style.renderer = renderer;
    style.size = 256;
    const auto image = draw("CC(=O)Oc1ccccc1C(=O)O", style);
    ASSERT_EQ(image.sizes(), (std::vector<std::int64_t>{256, 256})) << renderer;
    EXPECT_EQ(image.dtype(), torch::kUInt8);
    const double ink = (image < 128).to(torch::kDouble).mean().item<double>();
    EXPECT_GT(ink, 0.005) << renderer;  // lines were drawn
    EXPECT_LT(ink, 0.2) << renderer;    // on mostly white paper
    if (const char* dir = std::getenv("DOJO_CHEM_DRAW_DIR")) {
      core::save_image_grid(fs::path(dir) / (renderer + ".png"), image.unsqueeze(0).to(torch::kFloat) / 255,
                            1, 1, 0);
    }
  }
  EXPECT_THROW(draw("C1CC"), Error);
  DrawStyle bad;
  bad.renderer = "chemdraw";
  EXPECT_THROW(draw("C", bad), Error);
}

TEST(Image, DegradeDamagesAsScansDoAndCleanUndoesSpecksAndMargins) {
  DrawStyle style;
  style.size = 300;
  const auto drawing = draw("CC(=O)Nc1ccc(O)cc1", style);
  std::mt19937_64 rng(7);
  DegradeOptions harsh;
  harsh.rotate90 = 0;
  harsh.scale_min = harsh.scale_max = 1.0;
  harsh.dropout_max = 0.3;
  harsh.speck_density_max = 2e-3;
  const auto noisy = degrade(drawing, rng, harsh);
  EXPECT_EQ(noisy.sizes(), drawing.sizes());
  // Binary: only paper and ink remain.
  EXPECT_EQ(((noisy == 0) | (noisy == 255)).all().item<bool>(), true);
  std::mt19937_64 again(7);
  EXPECT_TRUE(torch::equal(noisy, degrade(drawing, again, harsh)));  // the seed fixes the damage

  // Lone specks go, the drawing's own strokes stay.
  auto specked = torch::full({100, 200}, 255, torch::kUInt8);
  specked.slice(0, 40, 60).slice(1, 50, 150).fill_(0);  // a bar: the drawing
  specked[5][5] = 0;                                    // far specks
  specked[90][190] = 0;
  CleanOptions only_specks;
  only_specks.crop = only_specks.fix_rotation = false;
  const auto despeckled = clean(specked, only_specks);
  EXPECT_EQ(despeckled[5][5].item<int>(), 255);
  EXPECT_EQ((despeckled == 0).sum().item<int>(), 20 * 100);
  CleanOptions crop;
  crop.despeckle = false;
  EXPECT_EQ(clean(specked, crop).sizes(), (std::vector<std::int64_t>{20, 100}));  // cropped to the bar
  crop.size = 64;
  const auto square = clean(specked.t().contiguous(), crop);  // portrait: turned, then fitted
  EXPECT_EQ(square.sizes(), (std::vector<std::int64_t>{64, 64}));
  EXPECT_EQ(square[0][0].item<int>(), 255);  // padded with paper
}

TEST(Image, FilesThatAreNotUsableImagesAreClearErrors) {
  const auto dir = test::fresh_path("chem_images");
  fs::create_directories(dir);
  write_png(dir / "ok.png", torch::full({20, 30}, 255, torch::kUInt8));
  EXPECT_EQ(read_image(dir / "ok.png").sizes(), (std::vector<std::int64_t>{20, 30}));
  core::atomic_write_text(dir / "text.png", "not a picture");
  write_png(dir / "dot.png", torch::zeros({1, 1}, torch::kUInt8));
  write_png(dir / "wide.png", torch::full({2, 20000}, 255, torch::kUInt8));
  core::atomic_write_text(dir / "empty.png", "");
  for (const auto& [file, says] :
       std::vector<std::pair<std::string, std::string>>{{"text.png", "cannot be read"},
                                                        {"dot.png", "1×1 pixels"},
                                                        {"wide.png", "20000×2 pixels"},
                                                        {"empty.png", "cannot be read"},
                                                        {"none.png", "not found"}}) {
    try {
      read_image(dir / file);
      ADD_FAILURE() << file;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    }
  }
  fs::remove_all(dir);
}

TEST(Sources, FilesOfSmilesAreReadAndBadEntriesCounted) {
  const auto dir = test::fresh_path("chem_sources");
  fs::create_directories(dir);
  core::atomic_write_text(dir / "m.smi", "CCO ethanol\nC1CC broken\nc1ccccc1 benzene\n");
  std::int64_t skipped = 0;
  const auto mols = read_molecules(dir / "m.smi", &skipped);
  ASSERT_EQ(mols.size(), 2u);
  EXPECT_EQ(skipped, 1);
  EXPECT_EQ(mols[1].inchikey, "UHOVQNZJYSORNB-UHFFFAOYSA-N");
  EXPECT_THROW(read_molecules(dir / "m.mol2"), Error);
  EXPECT_EQ(parse_split("held-out"), Split::held_out);
  EXPECT_THROW(parse_split("test"), Error);
  fs::remove_all(dir);
}

TEST(Sources, RealMoleculesSplitByInchiKeyAndTheOutsideTestSetIsNeverSeen) {
  const auto s = load_sources();
  const auto total = s.train.size() + s.validation.size() + s.held_out.size();
  EXPECT_GT(total, 15000u);  // rdkit-data's ~16k real molecules, de-duplicated
  EXPECT_NEAR(static_cast<double>(s.train.size()) / static_cast<double>(total), 0.8, 0.02);
  EXPECT_GE(s.outside_test.size(), 290u);  // PubChem's 200 and ChEMBL's 100, less what RDKit refuses
  std::set<std::string> outside, seen;
  for (const auto& m : s.outside_test) outside.insert(m.inchikey);
  for (const auto* split : {&s.train, &s.validation, &s.held_out}) {
    for (const auto& m : *split) {
      EXPECT_EQ(outside.count(m.inchikey), 0u) << m.smiles;
      EXPECT_TRUE(seen.insert(m.inchikey).second) << "in two splits: " << m.smiles;
    }
  }
  for (const auto& m : s.validation) EXPECT_EQ(split_of(m.inchikey), Split::validation);

  // Recombined molecules from training fragments only: all sanitise, none is a training molecule.
  const std::vector<Molecule> train(s.train.begin(), s.train.begin() + 500);
  FragmentGenerator generator(train);
  EXPECT_GT(generator.fragment_count(), 1000);
  std::set<std::string> train_keys;
  for (const auto& m : train) train_keys.insert(m.inchikey);
  std::mt19937_64 rng(0);
  int made = 0;
  for (int i = 0; i < 200; ++i) {
    const auto m = generator.next(rng);
    if (!m) continue;
    ++made;
    EXPECT_TRUE(try_canonical_smiles(m->smiles).has_value()) << m->smiles;
    EXPECT_EQ(inchi_from_smiles(m->smiles), m->inchi);
    EXPECT_EQ(train_keys.count(m->inchikey), 0u) << m->smiles;
    EXPECT_EQ(outside.count(m->inchikey), 0u) << m->smiles;
  }
  EXPECT_GE(made, 190);
}

TEST(Cli, MolRenderScoreAndMakeDataset) {
  using test::dojo;
  using test::expect_bad_input;
  const auto dir = test::fresh_path("cli_mol");
  fs::create_directories(dir);
  const auto d = dir.string();
  expect_bad_input("mol render C1CC --out " + d + "/x.png", "SMILES 'C1CC'");
  expect_bad_input("mol render CCO --renderer chemdraw --out " + d + "/x.png", "renderer 'chemdraw'");
  auto r = dojo("mol render CCO --noisy --out " + d + "/ethanol.png");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3"), std::string::npos) << r.out;
  EXPECT_GT(read_image(dir / "ethanol.png").size(0), 150);  // 300 px, rescaled as a coarse scan

  write_labels(dir / "labels.csv", {{"abc001", kKnown[7].inchi}, {"abc002", kKnown[10].inchi}});
  write_labels(dir / "sub.csv", {{"abc001", kKnown[7].inchi}, {"abc002", "InChI=1S/CH4N2O/c2-1(3)4"}});
  r = dojo("mol score " + d + "/sub.csv " + d + "/labels.csv");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("mean Levenshtein distance 6.0000, exact match 50.00% over 2 images"),
            std::string::npos)
      << r.out;
  core::atomic_write_text(dir / "nocol.csv", "id,InChI\nabc001,x\n");
  expect_bad_input("mol score " + d + "/nocol.csv " + d + "/labels.csv", "nocol.csv");

  // Real molecules only: the generator (its own test above) takes ~20 s to cut 13k molecules.
  r = dojo("mol make-dataset --n 12 --generated 0 --threads 2 --out " + d + "/set");
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto labels = read_labels(dir / "set" / "train_labels.csv");
  ASSERT_EQ(labels.size(), 12u);
  for (const auto& l : labels) {
    EXPECT_TRUE(fs::exists(image_path(dir / "set" / "train", l.image_id))) << l.image_id;
    EXPECT_EQ(normalize_inchi(l.inchi).value_or(""), l.inchi);
  }
  // Stopped before the end (labels not written, some images missing): the same command finishes it,
  // drawing only what is missing, and the images are the ones an uninterrupted run draws.
  const auto whole = test::snapshot(dir / "set");
  fs::remove(dir / "set" / "train_labels.csv");
  fs::remove(dir / "set" / "molecules.csv");
  for (std::size_t i = 0; i < 4; ++i) fs::remove(image_path(dir / "set" / "train", labels[i].image_id));
  r = dojo("mol make-dataset --n 12 --generated 0 --threads 2 --out " + d + "/set");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("drew 4 in"), std::string::npos) << r.out;
  EXPECT_EQ(test::snapshot(dir / "set"), whole);
  // Another run's options on an unfinished folder are refused.
  fs::remove(dir / "set" / "train_labels.csv");
  expect_bad_input("mol make-dataset --n 13 --generated 0 --out " + d + "/set", "is not empty");
  r = dojo("mol make-dataset --n 12 --generated 0 --threads 2 --out " + d + "/set");
  ASSERT_EQ(r.rc, 0) << r.err;
  // A folder that holds files is refused, and left as it was.
  const auto before = test::snapshot(dir / "set");
  expect_bad_input("mol make-dataset --n 12 --out " + d + "/set", "is not empty");
  expect_bad_input("mol make-dataset --n 12 --split test --out " + d + "/other", "split 'test'");
  EXPECT_EQ(test::snapshot(dir / "set"), before);
  fs::remove_all(dir);
}

TEST(Captioner, StepByStepDecodingEqualsTeacherForcing) {
  torch::manual_seed(0);
  Captioner model(CaptionerOptions()
                      .image_size(64)
                      .widths({8, 16, 16, 32})
                      .stem(8)
                      .d_model(32)
                      .heads(4)
                      .layers(2)
                      .ff(64)
                      .max_len(16)
                      .vocab(11));
  model->eval();
  torch::NoGradGuard no_grad;
  const auto images = torch::randint(0, 256, {2, 64, 64}, torch::kLong).to(torch::kUInt8);
  const auto memory = model->encode(images);
  EXPECT_EQ(memory.sizes(), (std::vector<std::int64_t>{2, 4, 32}));  // (64/32)² cells
  const auto tokens = torch::tensor({{1, 4, 5, 6, 7}, {1, 8, 9, 4, 10}}, torch::kLong);
  const auto forced = model->decode(memory, tokens);
  EXPECT_EQ(forced.sizes(), (std::vector<std::int64_t>{2, 5, 11}));
  auto cache = model->start(memory);
  for (std::int64_t t = 0; t < 5; ++t) {
    const auto logits = model->step(cache, tokens.select(1, t));
    EXPECT_TRUE(torch::allclose(logits, forced.select(1, t), 1e-4, 1e-5)) << "position " << t;
  }
  EXPECT_EQ(model->last_cross_attention().size(), 2u);
  EXPECT_NEAR(model->last_cross_attention()[0].sum(1)[0].item<double>(), 1.0, 1e-5);
  // A later token never changes an earlier position's logits (the mask is causal).
  auto changed = tokens.clone();
  changed[0][4] = 2;
  EXPECT_TRUE(
      torch::allclose(model->decode(memory, changed).slice(1, 0, 4), forced.slice(1, 0, 4), 1e-5, 1e-6));
  EXPECT_THROW(CaptionerOptions().d_model(30).heads(4).vocab(10).validate(), Error);
}

TEST(Cli, MolTrainResumesTranslatesAndEvaluates) {
  using test::dojo;
  using test::expect_bad_input;
  const auto dir = test::fresh_path("cli_mol_train");
  fs::create_directories(dir);
  const auto d = dir.string();
  ASSERT_EQ(dojo("mol make-dataset --n 24 --generated 0 --out " + d + "/set").rc, 0);
  const std::string tiny =
      " --set image_size=64 --set widths=[8,16,16,32] --set stem=8 --set d_model=32 --set heads=4 --set "
      "layers=1"
      " --set ff=64 --set max_len=128 --set batch_size=8 --set eval_every=24 --set validation=" +
      d + "/set --set validation_images=8 --set warmup_images=0";
  expect_bad_input("mol train --data " + d + "/nope --out " + d + "/r0", "data folder");
  expect_bad_input("mol train --data " + d + "/set --set lerning_rate=1 --out " + d + "/r0", "lerning_rate");
  auto r = dojo("mol train --data " + d + "/set --images 48 --out " + d + "/run" + tiny);
  ASSERT_EQ(r.rc, 0) << r.err;
  for (const auto* f :
       {"config.yaml", "eval.csv", "learning_curve.png", "checkpoints/last.ckpt", "checkpoints/best.ckpt"})
    EXPECT_TRUE(fs::exists(dir / "run" / f)) << f;
  r = dojo("mol train --resume " + d + "/run --images 16");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("64 images seen in 8 steps"), std::string::npos) << r.out;

  const auto labels = read_labels(dir / "set" / "train_labels.csv");
  const auto png = image_path(dir / "set" / "train", labels[0].image_id).string();
  const auto model = " --model " + d + "/run/checkpoints/best.ckpt";
  r = dojo("mol translate " + png + model + " --beam 3");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out.rfind(png + "\t", 0), 0u) << r.out;
  r = dojo("mol translate " + png + model + " --attention " + d + "/att");  // maps of the greedy decoding
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_FALSE(fs::is_empty(dir / "att"));
  expect_bad_input("mol translate " + png + model + " --beam 3 --attention " + d + "/att2", "--attention");
  r = dojo("mol eval --labels " + d + "/set/train_labels.csv --images " + d + "/set/train --limit 4" + model);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("over 4 images"), std::string::npos) << r.out;

  // Cleaning step by step; an unknown step is named.
  r = dojo("mol eval --labels " + d + "/set/train_labels.csv --images " + d + "/set/train --limit 4" + model +
           " --clean crop,rotate");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("cleaning crop+rotate"), std::string::npos) << r.out;
  expect_bad_input("mol translate " + png + model + " --clean crop,speckle", "speckle");
  // The shipped form: weights alone, a third of the size, translating the same.
  r = dojo("mol export " + d + "/run/checkpoints/best.ckpt --out " + d + "/shipped/m.ckpt");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_LT(fs::file_size(dir / "shipped" / "m.ckpt"),
            fs::file_size(dir / "run" / "checkpoints" / "best.ckpt") / 2);
  const auto full = dojo("mol translate " + png + model + " --beam 3");
  const auto slim = dojo("mol translate " + png + " --model " + d + "/shipped/m.ckpt --beam 3");
  ASSERT_EQ(slim.rc, 0) << slim.err;
  EXPECT_EQ(slim.out, full.out);
  expect_bad_input("mol export " + d + "/set/train_labels.csv --out " + d + "/shipped/x.ckpt",
                   "train_labels.csv");
  // A new run from the exported model continues its count of images and takes its shape, whatever the
  // config says (the default 224 px network would not load these weights).
  const auto seen = load_captioner(dir / "shipped" / "m.ckpt").images_seen;
  r = dojo("mol train --data " + d + "/set --images " + std::to_string(seen + 8) + " --set init=" + d +
           "/shipped/m.ckpt --set validation=" + d + "/set --set batch_size=8 --set eval_every=24 --out " +
           d + "/again");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("starting from " + d + "/shipped/m.ckpt: " + std::to_string(seen) + " images"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find(std::to_string(seen + 8) + " images seen in 1 steps"), std::string::npos) << r.out;
  EXPECT_EQ(core::Config::load(dir / "again" / "config.yaml").get<std::int64_t>("image_size", 0), 64);
  expect_bad_input(
      "mol train --data " + d + "/set --set init=" + d + "/set/train_labels.csv --out " + d + "/r1",
      "train_labels.csv");
  // One process loads the model more than once (a Python session, a server): its layer names, and so
  // its parameter names, do not depend on what the process built before.
  const auto first = load_captioner(dir / "shipped" / "m.ckpt");
  const auto second = load_captioner(dir / "shipped" / "m.ckpt");
  EXPECT_TRUE(second.model->parameters()[0].equal(first.model->parameters()[0]));

  core::atomic_write_text(dir / "text.png", "no picture");
  expect_bad_input("mol translate " + d + "/text.png" + model, "text.png");
  expect_bad_input("mol translate " + png + " --model " + d + "/set/train_labels.csv", "train_labels.csv");
  fs::remove_all(dir);
}

// The shipped model (models/mol-captioner.ckpt, found through the build tree's models link) translates
// with no --model and no training: a fresh clone's `dojo mol translate` works.
TEST(Cli, MolTranslateUsesTheShippedModel) {
  const auto dir = test::fresh_path("cli_mol_shipped");
  ASSERT_EQ(test::dojo("mol make-dataset --n 2 --split validation --out " + dir.string() + "/set").rc, 0);
  const auto labels = read_labels(dir / "set" / "train_labels.csv");
  const auto png = image_path(dir / "set" / "train", labels[0].image_id).string();
  const auto r = test::dojo("mol translate " + png);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out.rfind(png + "\t", 0), 0u) << r.out;
  fs::remove_all(dir);
}

TEST(Sources, TenThousandGeneratedLabelsTokenizeAndRoundTrip) {
  // The acceptance's scale: tokenizers round-trip every label of a 10k generated set (InChI and
  // SMILES), and InChI -> molecule -> InChI gives back 1,000 generated molecules' InChIs.
  const auto s = load_sources();
  FragmentGenerator generator(std::vector<Molecule>(s.train.begin(), s.train.begin() + 2000));
  std::mt19937_64 rng(11);
  std::int64_t made = 0, normalised = 0;
  for (int i = 0; i < 10000; ++i) {
    const auto m = generator.next(rng);
    if (!m) continue;
    ++made;
    for (const auto& [target, text] : {std::pair{"inchi", m->inchi}, std::pair{"smiles", m->smiles}}) {
      std::string joined;
      for (const auto& t : tokenize(target, text)) joined += t;
      ASSERT_EQ(joined, text);
    }
    if (made <= 1000) normalised += normalize_inchi(m->inchi).value_or("") == m->inchi;
  }
  EXPECT_GE(made, 9900);
  EXPECT_EQ(normalised, 1000);
}

}  // namespace
}  // namespace dojo::chem
