"""Training on several devices, several workers and the JAX backend."""

from refnn.distribute.replicas import (
    all_reduce_sum,
    gradient_scale,
    num_replicas_in_sync,
)
from refnn.distribute.stateless import stateless_step
