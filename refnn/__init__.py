"""refnn: classic neural networks from the seed formulas, in Keras 3.

``import refnn`` registers every serializable refnn class (layers, models,
losses, activations, initializers, regularizers, schedules), so a ``.keras``
file saved from refnn models loads with `keras.saving.load_model` after it.
`refnn.saving.save_model` / `load_model` add atomic saves and clear errors.
"""

__version__ = "0.1.0"

from refnn import config  # noqa: E402
from refnn.saving import register_all as _register_all  # noqa: E402

_register_all()
