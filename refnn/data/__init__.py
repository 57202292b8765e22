"""refnn.data."""

from refnn.data import (
    seq2seq_tasks,  # noqa: F401
    text,  # noqa: F401
)
from refnn.data.digits import load_digits  # noqa: F401
from refnn.data.epoch_batches import EpochBatches  # noqa: F401
from refnn.data.files import load_file  # noqa: F401
from refnn.data.pipeline import (  # noqa: F401
    check_arrays,
    make_dataset,
    train_val_test_split,
)
from refnn.data.registry import (  # noqa: F401
    DATASETS,
    get_dataset,
    register_dataset,
)
from refnn.data.synthetic import (  # noqa: F401
    blobs,
    circles,
    moons,
    spirals,
    xor,
)
