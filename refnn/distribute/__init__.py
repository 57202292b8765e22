"""Training on several devices, several workers and the JAX backend."""

from refnn.distribute.multi_worker import (
    fit_multi_worker,
    free_ports,
    launch_local_workers,
    local_tf_config,
    make_strategy,
    worker_index,
)
from refnn.distribute.replicas import (
    all_reduce_sum,
    gradient_scale,
    num_replicas_in_sync,
)
from refnn.distribute.stateless import stateless_step
