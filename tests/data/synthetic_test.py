import numpy as np
import pytest
from sklearn.linear_model import Perceptron as SkPerceptron

from refnn.data import (
    DATASETS,
    blobs,
    circles,
    get_dataset,
    load_digits,
    moons,
    register_dataset,
    spirals,
    xor,
)

GENERATORS = {
    "blobs": blobs,
    "xor": xor,
    "moons": moons,
    "circles": circles,
    "spirals": spirals,
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_shapes_dtypes_and_determinism(name):
    fn = GENERATORS[name]
    x, y = fn(n=60, seed=3)
    assert x.shape == (60, 2) and x.dtype == np.float32
    assert y.shape == (60,) and y.dtype == np.int32
    x2, y2 = fn(n=60, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, _ = fn(n=60, seed=4)
    assert not np.array_equal(x, x3)
    assert np.isfinite(x).all()
    # Balanced classes, shuffled (not sorted by label).
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1
    assert not np.array_equal(y, np.sort(y))


def test_separable_blobs_have_a_margin_and_a_perceptron_fits_them():
    x, y = blobs(400, separable=True, seed=0)
    sign = np.where(y == 1, 1.0, -1.0)
    margin = sign * x.sum(axis=1) / np.sqrt(2.0)
    assert margin.min() >= 0.5 - 1e-6
    clf = SkPerceptron(random_state=0).fit(x, y)
    assert clf.score(x, y) == 1.0


def test_overlapping_blobs_are_not_separable():
    x, y = blobs(400, separable=False, seed=0)
    clf = SkPerceptron(random_state=0, max_iter=50).fit(x, y)
    assert clf.score(x, y) < 1.0


def test_xor_labels_follow_the_corners():
    x, y = xor(100, noise=0.0, seed=0)
    np.testing.assert_array_equal(y, (x[:, 0] != x[:, 1]).astype("int32"))
    # No line separates XOR: a linear classifier stays far from perfect.
    clf = SkPerceptron(random_state=0).fit(x, y)
    assert clf.score(x, y) <= 0.75


def test_circles_radii_and_spiral_classes():
    x, y = circles(100, noise=0.0, factor=0.3, seed=0)
    r = np.linalg.norm(x, axis=1)
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-6)
    x, y = spirals(90, classes=3, noise=0.0, seed=0)
    assert set(np.unique(y)) == {0, 1, 2}
    assert np.linalg.norm(x, axis=1).max() <= 1.0 + 1e-6


def test_moons_without_noise_lie_on_the_half_circles():
    x, y = moons(50, noise=0.0, seed=0)
    r0 = np.linalg.norm(x[y == 0], axis=1)
    r1 = np.linalg.norm(x[y == 1] - np.array([1.0, 0.5]), axis=1)
    np.testing.assert_allclose(r0, 1.0, atol=1e-6)
    np.testing.assert_allclose(r1, 1.0, atol=1e-6)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: blobs(0), "n must be a positive integer, got 0"),
        (lambda: blobs(2.5), "n must be a positive integer"),
        (lambda: xor(3), "n must be at least 4, got 3"),
        (lambda: moons(10, noise=-1), "noise must be a non-negative"),
        (lambda: spirals(10, classes=1), "classes must be an integer >= 2"),
        (lambda: circles(10, factor=1.5), "factor must be in"),
    ],
)
def test_invalid_args_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_digits_shape_range_and_labels():
    x, y = load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int32
    assert x.min() == 0.0 and x.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    raw, _ = load_digits(scale=False)
    assert raw.max() == 16.0
    np.testing.assert_allclose(raw / 16.0, x)


def test_registry():
    assert {"blobs", "xor", "moons", "circles", "spirals", "digits"} <= set(
        DATASETS
    )
    x, y = get_dataset("xor", n=8, seed=1)
    np.testing.assert_array_equal(x, xor(n=8, seed=1)[0])
    with pytest.raises(ValueError, match="unknown dataset 'nope'.*blobs"):
        get_dataset("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_dataset("xor", lambda: None)
