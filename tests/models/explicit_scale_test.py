"""The explicit-gradient models under mixed precision and the JAX backend."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import explicit_cases  # noqa: E402

TF_ONLY = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="compares a TensorFlow run in this process with a JAX subprocess",
)


def _update(model, start):
    return np.concatenate(
        [(w - w0).ravel() for w, w0 in zip(model.get_weights(), start)]
    )


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("name", explicit_cases.NAMES)
def test_mixed_policy_update_norm_is_float32s(name, policy):
    """Same data and start: the update's norm within 2% of float32's."""
    start = explicit_cases.initial_weights(name)
    ref, ref_logs = explicit_cases.train(name, start, epochs=1)
    model, logs = explicit_cases.train(name, start, dtype=policy, epochs=1)
    if name != "perceptron":  # the LossScaleOptimizer is Keras's own
        wrapped = isinstance(
            model.optimizer, keras.optimizers.LossScaleOptimizer
        )
        assert wrapped == (policy == "mixed_float16")
    expected = np.linalg.norm(_update(ref, start))
    got = np.linalg.norm(_update(model, start))
    assert expected > 0.1
    assert abs(got - expected) / expected < 0.02
    x = explicit_cases.data(name)[0]
    assert keras.backend.standardize_dtype(model(x).dtype) == "float32"
    if name == "perceptron":  # computed in float32: the same mistakes
        assert logs == ref_logs
        for a, b in zip(model.get_weights(), ref.get_weights()):
            np.testing.assert_array_equal(a, b)
    else:
        assert np.isfinite(logs["loss"]).all()


def test_mlp_hidden_layers_compute_in_the_policy_dtype():
    model = explicit_cases.make_model("mlp", dtype="mixed_bfloat16")
    x = explicit_cases.data("mlp")[0]
    model.build(x.shape)
    zs, acts = model.forward(x)
    dtypes = [keras.backend.standardize_dtype(z.dtype) for z in zs]
    assert dtypes == ["bfloat16", "float32"]
    # head_dtype overrides the float32 head
    model = explicit_cases.make_model("mlp", dtype="mixed_bfloat16")
    model = model.__class__.from_config(
        {**model.get_config(), "head_dtype": "bfloat16"}
    )
    model.build(x.shape)
    assert keras.backend.standardize_dtype(model(x).dtype) == "bfloat16"


@TF_ONLY
@pytest.mark.large
def test_jax_fit_equals_tensorflow_fit(tmp_path):
    """The stateless JAX train_step runs the same formulas: same weights."""
    out = tmp_path / "jax.npz"
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    subprocess.run(
        [sys.executable, os.path.join(HERE, "explicit_cases.py"), str(out)],
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
    )
    expected = explicit_cases.train_all()
    with np.load(out) as got:
        assert str(got["backend"]) == "jax"
        assert set(got.files) == set(expected) | {"backend"}
        for key, value in expected.items():
            if key.startswith("perceptron/"):  # mistakes and steps: exact
                np.testing.assert_array_equal(got[key], value, err_msg=key)
            else:
                np.testing.assert_allclose(
                    got[key], value, rtol=0, atol=1e-5, err_msg=key
                )
