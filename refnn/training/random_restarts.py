"""Random restart: train from several seeds, keep the best model."""

import keras


def _split(data, name):
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise ValueError(
                f"{name} must be an (x, y) pair or a dataset, got a "
                f"sequence of length {len(data)}."
            )
        return {"x": data[0], "y": data[1]}
    if data is None:
        raise ValueError(
            f"{name} must be an (x, y) pair or a dataset, got None."
        )
    return {"x": data}


def random_restarts(
    build_fn, train_data, val_data, n, seed=0, epochs=10, **fit_kwargs
):
    """Trains `n` differently seeded initializations and keeps the best.

    Run `i` calls `keras.utils.set_random_seed(seed + i)`, builds a fresh
    compiled model with `build_fn()`, trains it on `train_data` and scores it
    by its loss on `val_data` (`model.evaluate`). The model with the smallest
    validation loss is returned: the seed's `w* = argmin_w L(w)` over the
    restarts.

    Args:
        build_fn: zero-argument callable returning a compiled `keras.Model`.
        train_data: `(x, y)` or a batched `tf.data.Dataset` of `(x, y)`.
        val_data: the same, for selection.
        n: number of restarts (positive integer).
        seed: seed of the first run; run `i` uses `seed + i`.
        epochs: training epochs per run.
        **fit_kwargs: further `model.fit` arguments (`batch_size`,
            `callbacks`, ...); `verbose` defaults to 0.

    Returns:
        `(best_model, runs)`: `runs` is a list with one dict per run —
        `{"run", "seed", "train_loss", "val_loss", "best"}` — ready for a
        table.

    Example:

    ```python
    best, runs = random_restarts(build, (x, y), (x_val, y_val), n=5)
    min(r["val_loss"] for r in runs)  # best's validation loss
    ```

    References:
        seeds/002 "Local Minima and Random Restart" (1. Basic Random
        Restart: run multiple times with different seeds, keep the best
        solution); seeds/000 "Gradient-Based Optimization".
    """
    if not callable(build_fn):
        raise TypeError(f"build_fn must be callable, got {build_fn!r}.")
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    train = _split(train_data, "train_data")
    val = _split(val_data, "val_data")
    fit_kwargs.setdefault("verbose", 0)
    best_model, best_loss, runs = None, None, []
    for run in range(n):
        keras.utils.set_random_seed(seed + run)
        model = build_fn()
        if not isinstance(model, keras.Model):
            raise TypeError(
                f"build_fn must return a keras.Model, got {model!r}."
            )
        history = model.fit(**train, epochs=epochs, **fit_kwargs)
        val_loss = model.evaluate(**val, verbose=0, return_dict=True)["loss"]
        runs.append(
            {
                "run": run,
                "seed": seed + run,
                "train_loss": float(history.history["loss"][-1]),
                "val_loss": float(val_loss),
                "best": False,
            }
        )
        if best_loss is None or val_loss < best_loss:
            best_model, best_loss = model, val_loss
    best_index = min(range(n), key=lambda i: runs[i]["val_loss"])
    runs[best_index]["best"] = True
    return best_model, runs
