"""refnn.training: the seed's training techniques for any Keras model.

Penalties with hand gradients (`L1`, `L2`, `ElasticNet`), learning-rate
schedules (`InverseSqrtDecay`, `StepDecay`, `ExponentialDecay`,
`WarmupCosineDecay`) and `LearningRateLogger`, momentum as a weighted sum
(`momentum_updates`), gradient-descent modes (`gradient_descent_dataset`),
initializers (`GlorotUniform`, `GlorotNormal`, `HeUniform`, `HeNormal`),
`GradientNormLogger` and clipping helpers, `EarlyStopping`,
`random_restarts`, transfer learning (`freeze`, `unfreeze`,
`FreezeSchedule`) and fault tolerance (`check_finite`, `set_seed`,
`EpochBackup`).
"""

from refnn.training.check_finite import check_finite  # noqa: F401
from refnn.training.clipping import (  # noqa: F401
    clip_by_global_norm,
    clip_by_norm,
    clip_by_value,
    global_norm,
)
from refnn.training.early_stopping import EarlyStopping  # noqa: F401
from refnn.training.epoch_backup import EpochBackup  # noqa: F401
from refnn.training.freeze import freeze, unfreeze  # noqa: F401
from refnn.training.freeze_schedule import FreezeSchedule  # noqa: F401
from refnn.training.gradient_descent_dataset import (  # noqa: F401
    gradient_descent_dataset,
    updates_per_epoch,
)
from refnn.training.gradient_norm_logger import GradientNormLogger  # noqa: F401
from refnn.training.initializers import (  # noqa: F401
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
)
from refnn.training.learning_rate_logger import LearningRateLogger  # noqa: F401
from refnn.training.momentum import momentum_updates  # noqa: F401
from refnn.training.random_restarts import random_restarts  # noqa: F401
from refnn.training.regularizers import L1, L2, ElasticNet  # noqa: F401
from refnn.training.schedules import (  # noqa: F401
    ExponentialDecay,
    InverseSqrtDecay,
    StepDecay,
    WarmupCosineDecay,
)
from refnn.training.set_seed import set_seed  # noqa: F401
