"""The molecule translator: images of chemical structure drawings to InChI (the BMS task).

``dojo.mol.translate(paths)`` reads with the shipped model (or ``model=`` a checkpoint) and returns one
dict per image: file, inchi, smiles, confidence, valid. A ``Translator`` keeps the model loaded.
"""

from ._dojo.mol import Translator, inchi, render, translate

__all__ = ["Translator", "inchi", "render", "translate"]
