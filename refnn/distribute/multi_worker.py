"""Training on several worker processes with MultiWorkerMirroredStrategy.

Why a loop of our own: with Keras 3.15, `Model.fit` under
`tf.distribute.MultiWorkerMirroredStrategy` fails before the first step
(keras-team/keras#20585: a `PerReplica` value reaches
`_maybe_symbolic_build`, then a rank-0 reduction fails). The loop below is
the one `fit` would run, written with the public `tf.distribute` API:
each step hands every replica its shard of the global batch
(`experimental_distribute_values_from_function`) and runs the model's own
`train_step` with `strategy.run`, so autodiff models and refnn's
explicit-gradient models train exactly as they do in `fit` (Keras's
losses and refnn's hand gradients are divided by the number of replicas,
the optimizer sums the replicas' gradients).

Workers find each other through `TF_CONFIG` (the same code runs on
several hosts: set `TF_CONFIG` on each, worker 0 first). Checkpoints are
per worker: each worker writes the values of its model and optimizer
variables with the step number to its own folder (atomically, keeping
the last two), and on start the workers agree on the newest step that
all of them have and resume from it, so a worker killed at any point
(then the job restarted) ends with the weights of an uninterrupted run.
"""

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np


def free_ports(n):
    """`n` distinct free TCP ports on 127.0.0.1.

    Example:

    >>> ports = free_ports(2)
    >>> len(set(ports)), all(0 < p < 65536 for p in ports)
    (2, True)
    """
    sockets, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


def local_tf_config(ports, index):
    """The TF_CONFIG of worker `index` of a cluster on 127.0.0.1.

    Args:
        ports: one port per worker.
        index: this worker's position in `ports`.

    Returns:
        The JSON string to put in the ``TF_CONFIG`` environment variable.

    Example:

    >>> import json
    >>> config = json.loads(local_tf_config([2222, 2223], 1))
    >>> config["cluster"]
    {'worker': ['127.0.0.1:2222', '127.0.0.1:2223']}
    >>> config["task"]
    {'type': 'worker', 'index': 1}
    """
    return json.dumps(
        {
            "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
            "task": {"type": "worker", "index": index},
        }
    )


def worker_index():
    """This process's worker index from TF_CONFIG (0 without one).

    Example:

    >>> import os
    >>> from unittest import mock
    >>> config = local_tf_config([2222, 2223], 1)
    >>> with mock.patch.dict(os.environ, {"TF_CONFIG": config}):
    ...     worker_index()
    1
    >>> with mock.patch.dict(os.environ, {"TF_CONFIG": ""}):
    ...     worker_index()
    0
    """
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    return int(config.get("task", {}).get("index", 0))


def make_strategy(timeout_seconds=60):
    """A MultiWorkerMirroredStrategy from TF_CONFIG (create it first).

    Collective operations time out after `timeout_seconds`, so a worker
    whose peer died fails instead of waiting forever.

    Args:
        timeout_seconds: the collective operations' timeout.

    Returns:
        A `tf.distribute.MultiWorkerMirroredStrategy` (ring all-reduce).

    Example (not run here: the strategy must be created at the start of a
    worker process, before any other TensorFlow op):

    ```python
    strategy = make_strategy()  # reads TF_CONFIG, joins the cluster
    model, logs = fit_multi_worker(model_fn, x, y, 64, strategy=strategy)
    ```
    """
    import tensorflow as tf

    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING,
        timeout_seconds=timeout_seconds,
    )
    return tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=options
    )


def _rows(data, index):
    return (
        {k: v[index] for k, v in data.items()}
        if isinstance(data, dict)
        else data[index]
    )


class _Checkpoints:
    """One worker's checkpoints: `step-N.npz` files, the last two kept."""

    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)

    def steps(self):
        names = os.listdir(self.directory)
        return sorted(
            int(n[5:-4])
            for n in names
            if n.startswith("step-") and n.endswith(".npz")
        )

    def save(self, step, values):
        path = os.path.join(self.directory, f"step-{step}.npz")
        tmp = os.path.join(self.directory, f"tmp-step-{step}.npz")
        np.savez(tmp, *values)
        os.replace(tmp, path)  # atomic: a kill leaves the old files whole
        for old in self.steps()[:-2]:
            os.remove(os.path.join(self.directory, f"step-{old}.npz"))

    def load(self, step):
        with np.load(os.path.join(self.directory, f"step-{step}.npz")) as f:
            return [f[f"arr_{i}"] for i in range(len(f.files))]


def _agreed_step(strategy, steps):
    """The newest step every worker has a checkpoint of (0: none)."""
    import tensorflow as tf

    latest = steps[-1] if steps else 0
    per_replica = strategy.run(lambda: tf.constant([latest], tf.int64))
    gathered = strategy.gather(per_replica, axis=0)
    step = int(np.min(gathered.numpy()))
    if step and step not in steps:
        raise RuntimeError(
            f"the workers' checkpoints have no common step (this worker "
            f"has {steps}, the cluster agreed on {step})."
        )
    return step


def fit_multi_worker(
    model_fn,
    x,
    y,
    global_batch_size,
    epochs=1,
    strategy=None,
    checkpoint_dir=None,
    checkpoint_every=1,
    seed=0,
    shuffle=False,
    on_step=None,
):
    """Trains `model_fn()` on every replica of `strategy`, like `fit`.

    Args:
        model_fn: callable returning a compiled `keras.Model`; called in
            `strategy.scope()`.
        x: features, an array or a dict of arrays (same first axis).
        y: labels, an array.
        global_batch_size: rows per step over all replicas; must divide
            by the number of replicas. The last partial batch of an
            epoch is dropped.
        epochs: passes over the data.
        strategy: a `tf.distribute` strategy (default: `make_strategy()`,
            from TF_CONFIG); the default strategy trains on one replica.
        checkpoint_dir: a folder; each worker writes to its own
            `worker-I/` in it every `checkpoint_every` steps, and resumes
            from there.
        checkpoint_every: steps between checkpoints.
        seed: seed of the per-epoch shuffle (the same on every worker).
        shuffle: whether to shuffle the rows each epoch.
        on_step: optional `on_step(step, logs)` called after each step.

    Returns:
        `(model, logs)`: the trained model and the last step's logs.

    Example:

    One full-batch step of logistic regression on the default strategy
    (one replica), from w = 0: the loss is ln 2 (ŷ = 0.5) and the step is
    the seed's w ← w + α/m Σ (y − ŷ) x = (0.75, 0.75).

    >>> import keras
    >>> import numpy as np
    >>> import tensorflow as tf
    >>> from refnn.models import LogisticRegression
    >>> def model_fn():
    ...     model = LogisticRegression()
    ...     model.compile(keras.optimizers.SGD(1.0))
    ...     return model
    >>> x = np.array([[2.0, 1.0], [-1.0, -2.0]], "float32")
    >>> y = np.array([1, 0])
    >>> model, logs = fit_multi_worker(
    ...     model_fn, x, y, global_batch_size=2,
    ...     strategy=tf.distribute.get_strategy())
    >>> round(logs["loss"], 4), round(float(np.log(2)), 4)
    (0.6931, 0.6931)
    >>> model.get_weights()[0].ravel().tolist()
    [0.75, 0.75]
    """
    import tensorflow as tf

    if strategy is None:
        strategy = make_strategy()
    replicas = strategy.num_replicas_in_sync
    if global_batch_size % replicas:
        raise ValueError(
            f"global_batch_size must divide by the {replicas} replicas, "
            f"got global_batch_size={global_batch_size}."
        )
    per_replica = global_batch_size // replicas
    n = len(y)
    steps_per_epoch = n // global_batch_size
    if steps_per_epoch < 1:
        raise ValueError(
            f"global_batch_size={global_batch_size} is larger than the "
            f"{n} rows."
        )
    with strategy.scope():
        model = model_fn()
        first = _rows(x, slice(0, per_replica))
        model(first)  # builds the model's variables in the scope
        model.optimizer.build(model.trainable_variables)
    variables = list(model.variables) + list(model.optimizer.variables)

    checkpoints, start = None, 0
    if checkpoint_dir is not None:
        checkpoints = _Checkpoints(
            os.path.join(checkpoint_dir, f"worker-{worker_index()}")
        )
        start = _agreed_step(strategy, checkpoints.steps())
        if start:
            for variable, value in zip(variables, checkpoints.load(start)):
                variable.assign(value)

    @tf.function
    def train_step(batch):
        return strategy.run(model.train_step, args=(batch,))

    logs = {}
    total = epochs * steps_per_epoch
    for step in range(start, total):
        epoch, index = divmod(step, steps_per_epoch)
        order = np.arange(n)
        if shuffle:
            order = np.random.default_rng(seed + epoch).permutation(n)
        rows = order[
            index * global_batch_size : (index + 1) * global_batch_size
        ]

        def shard(context, rows=rows):
            r = context.replica_id_in_sync_group
            mine = rows[r * per_replica : (r + 1) * per_replica]
            return tf.nest.map_structure(tf.constant, (_rows(x, mine), y[mine]))

        batch = strategy.experimental_distribute_values_from_function(shard)
        result = train_step(batch)
        logs = {
            k: float(strategy.experimental_local_results(v)[0])
            for k, v in result.items()
        }
        if checkpoints is not None and (
            (step + 1) % checkpoint_every == 0 or step + 1 == total
        ):
            checkpoints.save(step + 1, [v.numpy() for v in variables])
        if on_step is not None:
            on_step(step + 1, logs)
    return model, logs


def launch_local_workers(argv, num_workers, timeout=600, env=None):
    """Runs `argv` as `num_workers` worker processes on 127.0.0.1.

    Each gets TF_CONFIG for a cluster on free local ports. Waits for all
    of them (at most `timeout` seconds, then kills them all); if one
    fails, the others are killed too.

    Returns:
        The exit status of worker 0 (non-zero if any worker failed).

    Example:

    >>> import sys
    >>> reads_config = ("import json, os; "
    ...                 "json.loads(os.environ['TF_CONFIG'])['task']")
    >>> launch_local_workers([sys.executable, "-c", reads_config], 2)
    0
    >>> launch_local_workers([sys.executable, "-c", "exit(3)"], 2) != 0
    True
    """
    ports = free_ports(num_workers)
    procs = []
    for index in range(num_workers):
        worker_env = dict(env if env is not None else os.environ)
        worker_env["TF_CONFIG"] = local_tf_config(ports, index)
        procs.append(subprocess.Popen(argv, env=worker_env))
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            codes = [p.poll() for p in procs]
            if any(c not in (None, 0) for c in codes):
                break
            if all(c == 0 for c in codes):
                return 0
            time.sleep(0.2)
        else:
            print(
                f"refnn: workers still running after {timeout} s; stopped",
                file=sys.stderr,
            )
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
    codes = [p.returncode for p in procs]
    return next((c for c in codes if c != 0), 0) or 1
