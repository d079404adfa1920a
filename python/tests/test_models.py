"""Saved Keras-style models and the molecule translator from Python."""
import os

import numpy as np
import pytest

import dojo


@pytest.fixture(scope="module")
def addition_model(tmp_path_factory, run_dojo):
    out = tmp_path_factory.mktemp("addition")
    run_dojo("example", "lstm-addition", "--epochs", 1, "--out", out)
    return str(out / "model.dojo")


def test_predict_a_saved_model(addition_model):
    model = dojo.nn.load_model(addition_model)
    assert model.name == "addition" and model.count_params() == 205324
    assert "time_distributed" in model.summary()
    x = np.zeros((5, 5, 12), np.float32)
    x[np.arange(5), np.arange(5), np.arange(5)] = 1.0  # a few one-hot characters
    y = model.predict(x)
    assert y.shape == (5, 3, 12) and y.dtype == np.float32
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-5)  # a softmax per output character
    # Another batch size is another matrix shape, which BLAS may block differently: equal to rounding.
    np.testing.assert_allclose(model.predict(x, batch_size=2), y, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.predict(x.astype(np.float64)), y)
    with pytest.raises(dojo.Error):
        model.predict(np.zeros((2, 7), np.float32))
    with pytest.raises(dojo.Error, match="batch_size"):
        model.predict(x, batch_size=0)
    with pytest.raises(dojo.Error):
        dojo.nn.load_model(addition_model + ".missing")


@pytest.fixture(scope="module")
def tiny_captioner(tmp_path_factory, run_dojo):
    d = tmp_path_factory.mktemp("mol")
    run_dojo("mol", "make-dataset", "--n", 16, "--generated", 0, "--out", d / "set")
    tiny = ["image_size=64", "widths=[8,16,16,32]", "stem=8", "d_model=32", "heads=4", "layers=1", "ff=64",
            "max_len=128", "batch_size=8", "eval_every=16", f"validation={d / 'set'}", "validation_images=8",
            "warmup_images=0"]
    args = ["mol", "train", "--data", d / "set", "--images", 32, "--out", d / "run"]
    for s in tiny:
        args += ["--set", s]
    run_dojo(*args)
    return d


def test_translate_a_rendered_molecule(tiny_captioner, run_dojo):
    png = str(tiny_captioner / "aspirin.png")
    image = dojo.mol.render("CC(=O)Oc1ccccc1C(=O)O", png, size=256)
    assert image.shape == (256, 256) and image.dtype == np.uint8 and image.min() == 0 and image.max() == 255
    assert os.path.exists(png)
    assert dojo.mol.inchi("CC(=O)Oc1ccccc1C(=O)O") == "InChI=1S/C9H8O4/c1-6(10)13-8-5-3-2-4-7(8)9(11)12/h2-5H,1H3,(H,11,12)"
    model = str(tiny_captioner / "run" / "checkpoints" / "best.ckpt")
    out = dojo.mol.translate([png, png], model=model, beam=2)
    assert len(out) == 2 and out[0] == out[1]
    assert set(out[0]) == {"file", "inchi", "smiles", "confidence", "valid"}
    assert 0.0 < out[0]["confidence"] <= 1.0
    # The same reading as the command line's (file, InChI, SMILES, confidence).
    line = run_dojo("mol", "translate", png, "--model", model, "--beam", 2).stdout.splitlines()[0].split("\t")
    assert line[:3] == [png, out[0]["inchi"], out[0]["smiles"]]
    assert float(line[3]) == pytest.approx(out[0]["confidence"], abs=5e-4)
    translator = dojo.mol.Translator(model)
    assert translator.images_seen in (16, 32) and translator.target == "smiles"  # best: at an evaluation
    assert translator.translate(png)[0]["file"] == png


def test_translate_bad_input(tiny_captioner):
    model = str(tiny_captioner / "run" / "checkpoints" / "best.ckpt")
    not_image = tiny_captioner / "notes.png"
    not_image.write_text("not a picture")
    with pytest.raises(dojo.Error, match="notes.png"):
        dojo.mol.translate(str(not_image), model=model)
    with pytest.raises(dojo.Error, match="missing.png"):
        dojo.mol.translate(str(tiny_captioner / "missing.png"), model=model)
    with pytest.raises(dojo.Error, match="beam"):
        dojo.mol.Translator(model, beam=0)
    with pytest.raises(dojo.Error, match="notes.png"):
        dojo.mol.translate(str(tiny_captioner / "aspirin.png"), model=str(not_image))
    with pytest.raises(dojo.Error, match="SMILES|smiles"):
        dojo.mol.render("C1CC(", None)
