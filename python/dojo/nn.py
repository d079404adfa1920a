"""Keras-style models saved by dojo: ``dojo.nn.load_model(path).predict(x)`` on NumPy arrays."""

from ._dojo.nn import Model, load_model

__all__ = ["Model", "load_model"]
