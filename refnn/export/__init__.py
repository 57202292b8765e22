"""refnn.export: SavedModels for TF Serving, with named signatures.

* `export_savedmodel(model, name)` writes ``savedmodels/NAME/VERSION/`` (next
  integer version; existing versions are never overwritten) with the
  endpoints of ``model.serving_signatures()``: named inputs (``features``)
  and named outputs (``probabilities``, ``label``, ...), variable batch and
  sequence dimensions.
* `check_parity(path, inputs, expected)` reloads the export in a fresh
  Python with plain TensorFlow (no refnn, keras_hub or tensorflow_text) and
  compares the endpoint's outputs.
* Every export carries a model card, ``assets/refnn.json`` (refnn version,
  model config, signatures, training data, metrics, hyper-parameters, input
  scaling), read back by `read_model_card`; a model with NaN/inf weights is
  refused (`check_finite_weights`) unless ``allow_nonfinite=True``.
* `load_savedmodel(path)` and `describe(path)` (like
  ``saved_model_cli show --dir PATH --all``) inspect an export.

Serving: ``tensorflow_model_server --rest_api_port=8501 --model_name=NAME
--model_base_path=$PWD/savedmodels/NAME`` (the folder holding the versions),
then ``POST /v1/models/NAME:predict`` with ``{"instances": [[...], ...]}``
(rows) or ``{"inputs": {"features": [[...]]}}`` (columns); add
``"signature_name": "..."`` for another endpoint. ``refnn predict`` accepts
the same JSON offline. See `refnn.export.savedmodel` for details.
"""

from refnn.export.model_card import read_model_card
from refnn.export.parity import check_parity, run_endpoint_fresh
from refnn.export.savedmodel import (
    check_finite_weights,
    classifier_signatures,
    default_signatures,
    describe,
    export_savedmodel,
    load_savedmodel,
    resolve_version,
)

__all__ = [
    "check_finite_weights",
    "check_parity",
    "default_signatures",
    "describe",
    "export_savedmodel",
    "load_savedmodel",
    "read_model_card",
    "resolve_version",
    "run_endpoint_fresh",
]
