"""`refnn train --mixed-precision {float16,bfloat16} --workers N`.

`--mixed-precision` sets Keras's global dtype policy (`mixed_float16` or
`mixed_bfloat16`) before the model is built: the hidden layers compute in
half precision, the heads in float32, and `compile()` adds loss scaling
for float16. `--workers N` starts N worker processes on 127.0.0.1 (free
ports, TF_CONFIG each) that train the model together with
`MultiWorkerMirroredStrategy` (`fit_multi_worker`); worker 0 prints the
result and exports.
"""

import json
import os
import sys


def scale_train(args):
    """Applies the scale options of `refnn train`.

    Returns:
        None when the caller trains as usual (in this process), else the
        exit status of the workers it ran.
    """
    workers = getattr(args, "workers", 1)  # checked by cli._validate_train
    policy = getattr(args, "mixed_precision", None)
    if policy:
        import keras

        keras.config.set_dtype_policy(f"mixed_{policy}")
    if workers == 1:
        return None
    from refnn.distribute.multi_worker import launch_local_workers

    options = {
        k: None if v is None else str(v) if isinstance(v, os.PathLike) else v
        for k, v in vars(args).items()
        if k not in ("func", "validate")
    }
    argv = [sys.executable, "-m", "refnn.distribute.cli", json.dumps(options)]
    print(f"starting {workers} workers on 127.0.0.1", flush=True)
    return launch_local_workers(argv, workers, timeout=24 * 3600)


def train_worker(options):
    """One worker of `refnn train --workers N` (TF_CONFIG names the rest)."""
    import argparse
    from pathlib import Path

    from refnn.distribute.multi_worker import (
        fit_multi_worker,
        make_strategy,
        worker_index,
    )

    strategy = make_strategy()  # first: before any other TensorFlow op
    import keras
    import numpy as np

    from refnn import cli
    from refnn.data import train_val_test_split

    args = argparse.Namespace(**options)
    if args.savedmodels is not None:
        args.savedmodels = Path(args.savedmodels)
    if args.mixed_precision:
        keras.config.set_dtype_policy(f"mixed_{args.mixed_precision}")
    keras.utils.set_random_seed(args.seed)
    x, y, _ = cli._load_data(args)
    num_classes = int(y.max()) + 1
    train, _, test = train_val_test_split(x, y, seed=args.seed)
    y_train = train[1].astype(
        "float32" if args.model == "perceptron" else "int32"
    )

    def on_step(step, logs):
        if worker_index() == 0 and step % 50 == 0:
            print(f"step {step}: {logs}", flush=True)

    model, _ = fit_multi_worker(
        lambda: cli._build_model(args.model, num_classes, args)[0],
        train[0],
        y_train,
        global_batch_size=args.batch_size,
        epochs=args.epochs,
        strategy=strategy,
        seed=args.seed,
        shuffle=True,
        on_step=on_step,
    )
    if worker_index() != 0:
        return 0
    labels = keras.ops.convert_to_numpy(model.serve(test[0])["label"])
    accuracy = float(np.mean(labels.reshape(-1) == test[1]))
    result = {
        "model": args.model,
        "dataset": args.dataset,
        "test_accuracy": accuracy,
        "test_examples": len(test[1]),
        "workers": strategy.num_replicas_in_sync,
    }
    if args.export:
        from refnn.export import export_savedmodel

        name = args.name or f"{args.model}_{args.dataset}"
        path = export_savedmodel(model, name, base_dir=args.savedmodels)
        result["export"] = str(path)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    sys.exit(train_worker(json.loads(sys.argv[1])))
