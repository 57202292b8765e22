"""Freeze and unfreeze the first layers of a model (transfer learning).

References:
    seeds/002 "Transfer Learning" (cases 1 and 2: "freeze all the weights
    from the pre-trained network"; cases 3 and 4: "re-train the entire
    neural network").
"""

import keras


def _layers(model):
    layers = getattr(model, "layers", None)
    if not isinstance(model, keras.Model) or layers is None:
        raise TypeError(f"model must be a keras.Model, got {model!r}.")
    return list(layers)


def resolve_layer_index(model, up_to):
    """Returns the index in `model.layers` of `up_to` (a name or an index).

    `None` means the last layer; negative indices count from the end.
    """
    layers = _layers(model)
    if up_to is None:
        return len(layers) - 1
    if isinstance(up_to, bool):
        raise TypeError(f"up_to must be a layer name or index, got {up_to!r}.")
    if isinstance(up_to, int):
        if not -len(layers) <= up_to < len(layers):
            raise ValueError(
                f"up_to must index one of the model's {len(layers)} layers, "
                f"got {up_to}."
            )
        return up_to % len(layers)
    if isinstance(up_to, str):
        names = [layer.name for layer in layers]
        if up_to not in names:
            raise ValueError(
                f"up_to must name a layer of the model ({names}), "
                f"got {up_to!r}."
            )
        return names.index(up_to)
    raise TypeError(f"up_to must be a layer name or index, got {up_to!r}.")


def _set_trainable(model, up_to, trainable):
    stop = resolve_layer_index(model, up_to)
    changed = []
    for layer in _layers(model)[: stop + 1]:
        layer.trainable = trainable
        changed.append(layer.name)
    return changed


def freeze(model, up_to=None):
    """Sets `trainable = False` on `model.layers[0 .. up_to]` (inclusive).

    A frozen layer's weights receive no update, and a frozen
    `BatchNormalization` also stops updating its moving mean and variance
    (Keras runs it in inference mode). `trainable_variables` is read when the
    train function is traced, so call `model.compile(...)` again after
    freezing a model that has already been trained — or use
    `refnn.training.FreezeSchedule`, which does the re-tracing for you.

    Args:
        model: a `keras.Model` with a `layers` list (Sequential or
            functional).
        up_to: name or index of the last layer to freeze; `None` freezes
            every layer.

    Returns:
        The names of the layers frozen.

    Example:

    ```python
    freeze(base, up_to="dense_2")  # keep the pre-trained features
    model.compile(...)             # re-trace so the change takes effect
    ```

    References:
        seeds/002 "Transfer Learning" (Case 1: Small Data Set, Similar Data).
    """
    return _set_trainable(model, up_to, False)


def unfreeze(model, up_to=None):
    """Sets `trainable = True` on `model.layers[0 .. up_to]` (inclusive).

    The inverse of `freeze`; the same note about re-compiling applies.

    Returns:
        The names of the layers unfrozen.

    References:
        seeds/002 "Transfer Learning" (Case 3: re-train the entire network).
    """
    return _set_trainable(model, up_to, True)
