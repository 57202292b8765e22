"""refnn: classic neural networks from the seed formulas, in Keras 3."""

__version__ = "0.1.0"

from refnn import config
