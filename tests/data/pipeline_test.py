import numpy as np
import pytest
import tensorflow as tf

from refnn.data import check_arrays, make_dataset, train_val_test_split
from refnn.data.pipeline import batch_pipeline


def _xy(n=10):
    x = np.arange(n * 2, dtype="float32").reshape(n, 2)
    return x, np.arange(n, dtype="int32") % 2


def _epoch_ids(ds):
    return np.concatenate([b[1].numpy() for b in ds]).tolist()


def test_batches_and_remainder():
    x, y = _xy(10)
    ds = make_dataset(x, y, batch_size=4, shuffle=False)
    sizes = [int(b[0].shape[0]) for b in ds]
    assert sizes == [4, 4, 2]
    ds = make_dataset(x, y, batch_size=4, shuffle=False, drop_remainder=True)
    assert [int(b[0].shape[0]) for b in ds] == [4, 4]
    first = next(iter(make_dataset(x, y, batch_size=3, shuffle=False)))
    np.testing.assert_array_equal(first[0].numpy(), x[:3])


def test_shuffle_is_seeded_and_reshuffles_every_epoch():
    x = np.arange(40, dtype="float32").reshape(20, 2)
    ids = np.arange(20, dtype="int32")
    ds = make_dataset(x, ids, batch_size=5, seed=7)
    epoch1, epoch2 = _epoch_ids(ds), _epoch_ids(ds)
    assert sorted(epoch1) == list(range(20)) == sorted(epoch2)
    assert epoch1 != epoch2  # a new order each epoch
    assert epoch1 != list(range(20))
    again = make_dataset(x, ids, batch_size=5, seed=7)
    assert _epoch_ids(again) == epoch1  # reproducible with the seed
    assert _epoch_ids(again) == epoch2
    # Features stay attached to their labels.
    for bx, by in ds:
        np.testing.assert_array_equal(bx.numpy()[:, 0], 2 * by.numpy())


@pytest.mark.parametrize("cache, expected_calls", [(True, 6), (False, 12)])
def test_cache_serves_later_epochs_from_memory(cache, expected_calls):
    calls = []

    def count(v):
        calls.append(1)
        return v

    source = tf.data.Dataset.range(6).map(
        lambda v: tf.py_function(count, [v], tf.int64)
    )
    ds = batch_pipeline(source, 6, batch_size=4, seed=0, cache=cache)
    epochs = [sorted(np.concatenate([b.numpy() for b in ds])) for _ in "ab"]
    assert epochs == [list(range(6))] * 2
    assert len(calls) == expected_calls


def test_x_only_and_sample_weight_and_dict_inputs():
    x, y = _xy(6)
    (bx,) = [b for b in make_dataset(x, batch_size=6, shuffle=False)]
    np.testing.assert_array_equal(bx.numpy(), x)
    w = np.linspace(0, 1, 6).astype("float32")
    bx, by, bw = next(
        iter(make_dataset(x, y, batch_size=6, shuffle=False, sample_weight=w))
    )
    np.testing.assert_array_equal(bw.numpy(), w)
    d = next(iter(make_dataset({"a": x, "b": y}, y, batch_size=2, seed=0)))
    assert set(d[0]) == {"a", "b"}


@pytest.mark.parametrize("bs", [0, -1, 2.5, True, "4"])
def test_bad_batch_size(bs):
    x, y = _xy()
    with pytest.raises(ValueError, match="batch_size must be a positive"):
        make_dataset(x, y, batch_size=bs)


def test_check_arrays_errors_name_argument_and_value():
    x, y = _xy(5)
    with pytest.raises(ValueError, match=r"x: 5, y: 4"):
        check_arrays(x, y[:4])
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="x contains a non-finite value nan"):
        check_arrays(bad, y)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"at index \(3, 1\)"):
        check_arrays(bad, y)
    with pytest.raises(ValueError, match="rank >= 2"):
        check_arrays(np.ones(5, "float32"), y)
    with pytest.raises(ValueError, match="x is empty"):
        check_arrays(np.ones((0, 2), "float32"))
    with pytest.raises(TypeError, match="x must be numeric, got dtype <U"):
        check_arrays(np.array([["a", "b"]]))
    with pytest.raises(
        ValueError, match=r"label 2 at index 0, outside \[0, 2\)"
    ):
        check_arrays(x, np.array([2, 0, 1, 0, 1]), num_classes=2)
    with pytest.raises(ValueError, match=r"label -1 at index 4"):
        check_arrays(x, np.array([0, 0, 1, 0, -1]), num_classes=2)
    with pytest.raises(ValueError, match="sample_weight must be >= 0"):
        check_arrays(x, y, sample_weight=np.array([1, 1, -1, 1, 1.0]))
    with pytest.raises(TypeError, match="y must be numeric"):
        check_arrays(x, np.array(["a"] * 5))
    ok_x, ok_y = check_arrays(x, y, num_classes=2)
    assert ok_x is not None and ok_y.dtype == np.int32


def test_make_dataset_validates_before_training():
    x, y = _xy(5)
    x[0, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        make_dataset(x, y)


def test_train_val_test_split_sizes_stratified_and_seeded():
    x = np.arange(200, dtype="float32").reshape(100, 2)
    y = (np.arange(100) % 4).astype("int32")
    (xt, yt), (xv, yv), (xs, ys) = train_val_test_split(x, y, 0.2, 0.2, seed=1)
    assert (len(yt), len(yv), len(ys)) == (60, 20, 20)
    for part in (yt, yv, ys):
        counts = np.bincount(part, minlength=4)
        assert counts.max() - counts.min() <= 1  # stratified
    all_rows = np.concatenate([xt, xv, xs])[:, 0]
    assert sorted(all_rows.tolist()) == sorted(x[:, 0].tolist())  # disjoint
    again = train_val_test_split(x, y, 0.2, 0.2, seed=1)
    np.testing.assert_array_equal(again[0][0], xt)
    (xt, _), (xv, _), _ = train_val_test_split(x, y, val=0, test=0.5)
    assert len(xt) == 50 and len(xv) == 0
    with pytest.raises(ValueError, match="val \\+ test must be < 1"):
        train_val_test_split(x, y, 0.6, 0.5)
    with pytest.raises(ValueError, match="test must be a fraction"):
        train_val_test_split(x, y, 0.1, -0.1)
    with pytest.raises(ValueError, match="stratify=False"):
        train_val_test_split(x, y.astype("float32"), 0.1, 0.1)
