"""`TestCase`: the shared checks every refnn layer and model goes through.

Modelled on keras-hub's ``TestCase.run_layer_test``: one call runs config and
serialization round trips, a symbolic and an eager call, a ``fit`` step
(eager and ``jit_compile=True``), a ``.keras`` save/reload and a SavedModel
export reloaded in a fresh plain-TensorFlow process (`refnn.export`).
"""

import tempfile
import unittest
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from refnn.export import check_parity, default_signatures, export_savedmodel
from refnn.export.savedmodel import _as_tf_dtype


def _to_numpy(x):
    if isinstance(x, keras.Variable):
        x = x.value
    if isinstance(x, (tf.Tensor, tf.Variable)) and x.dtype == tf.string:
        return x.numpy()
    return keras.ops.convert_to_numpy(x)


def _numpy_tree(tree):
    return keras.tree.map_structure(_to_numpy, tree)


def _named_outputs(y):
    """A layer/model output as a flat dict of named tensors (for serving)."""
    if isinstance(y, dict):
        return dict(y)
    if isinstance(y, (list, tuple)):
        return {f"output_{i}": t for i, t in enumerate(y)}
    return {"outputs": y}


def _call(fn, data, **kwargs):
    """Calls a layer with an array, or with a dict as keyword arguments."""
    if isinstance(data, dict):
        return fn(**data, **kwargs)
    return fn(data, **kwargs)


def _batch_size(data):
    first = next(iter(data.values())) if isinstance(data, dict) else data
    return np.shape(first)[0]


def _other_batch(data):
    """The same inputs at another batch size (1 row, or the rows twice)."""

    def take(x):
        x = np.asarray(x)
        return x[:1] if x.shape[0] > 1 else np.concatenate([x, x], axis=0)

    return keras.tree.map_structure(take, data)


def _spec_dtype(x):
    x = np.asarray(x)
    if x.dtype.kind in "USO":
        return "string"
    return keras.backend.standardize_dtype(x.dtype)


def _float_outputs(tree):
    return all(
        np.asarray(t).dtype.kind == "f" for t in keras.tree.flatten(tree)
    )


class TestCase(unittest.TestCase):
    """`unittest.TestCase` with refnn's layer, saving, export and grad checks.

    Works under pytest. Example:

    ```python
    class DenseTest(TestCase):
        def test_layer(self):
            self.run_layer_test(
                keras.layers.Dense, {"units": 3},
                input_data=np.ones((2, 4), "float32"),
                expected_output_shape=(2, 3),
            )
    ```
    """

    # ------------------------------------------------------------------ asserts
    def assertAllClose(self, actual, desired, atol=1e-6, rtol=1e-6, msg=None):
        """Asserts two (nested) tensors/arrays are elementwise close."""

        def compare(a, d, where):
            if a.dtype.kind in "SUO" or d.dtype.kind in "SUO":
                np.testing.assert_array_equal(a, d, err_msg=where)
            else:
                np.testing.assert_allclose(
                    a, d, atol=atol, rtol=rtol, err_msg=where
                )

        _assert_tree(actual, desired, compare, msg or "")

    def assertAllEqual(self, actual, desired, msg=None):
        """Asserts two (nested) tensors/arrays are exactly equal."""

        def compare(a, d, where):
            np.testing.assert_array_equal(a, d, err_msg=where)

        _assert_tree(actual, desired, compare, msg or "")

    def get_temp_dir(self):
        """A temporary folder removed when the test ends."""
        tmp = tempfile.TemporaryDirectory(prefix="refnn-test-")
        self.addCleanup(tmp.cleanup)
        return Path(tmp.name)

    # --------------------------------------------------------------- layer test
    def run_serialization_test(self, instance):
        """`get_config`/`from_config` and keras (de)serialization round trips.

        Returns the re-created instance.
        """
        cls = type(instance)
        config = instance.get_config()
        revived = cls.from_config(config)
        self.assertEqual(revived.get_config(), config)
        serialized = keras.saving.serialize_keras_object(instance)
        revived = keras.saving.deserialize_keras_object(serialized)
        self.assertIs(type(revived), cls)
        self.assertEqual(revived.get_config(), config)
        return revived

    def run_layer_test(
        self,
        layer_cls,
        init_kwargs,
        input_data,
        expected_output_shape=None,
        expected_output=None,
        run_training=True,
        run_jit=True,
        run_saving=True,
        run_export=True,
        variable_input_data=None,
    ):
        """Runs the standard checks on a layer class.

        A dict `input_data` is passed as keyword arguments
        (``layer(**input_data)``), so `{"inputs": x, "mask": m}` works.

        Args:
            layer_cls: the layer class.
            init_kwargs: dict of constructor arguments.
            input_data: an array, or a dict of arrays (batch first).
            expected_output_shape: the output shape (or a structure of shapes)
                for `input_data`.
            expected_output: the expected eager output (atol 1e-5).
            run_training: one SGD `fit` step on an MSE loss (float outputs);
                its loss must be finite and some trainable weight must move.
            run_jit: also a `fit` step with `jit_compile=True`.
            run_saving: `.keras` save and reload give identical outputs.
            run_export: SavedModel export; a fresh plain-TF process must
                reproduce the outputs at another batch size (and at the
                sequence length of `variable_input_data`, if given).
            variable_input_data: inputs with another sequence length (axis 1);
                the export then declares axis 1 variable.

        Returns:
            The eager output for `input_data`.
        """
        # Config and serialization round trips.
        layer = layer_cls(**init_kwargs)
        self.run_serialization_test(layer)

        # Symbolic call.
        symbolic_inputs = keras.tree.map_structure(
            lambda x: keras.KerasTensor(np.shape(x), _spec_dtype(x)),
            input_data,
        )
        layer = layer_cls(**init_kwargs)
        symbolic = _call(layer, symbolic_inputs)
        self.assertTrue(layer.built, msg="the layer is not built after a call")
        symbolic_shape = keras.tree.map_structure(
            lambda t: tuple(t.shape), symbolic
        )
        if expected_output_shape is not None:
            self.assertEqual(
                _as_shape_tree(symbolic_shape),
                _as_shape_tree(expected_output_shape),
                msg="unexpected symbolic output shape",
            )

        # Eager call.
        layer = layer_cls(**init_kwargs)
        output = _call(layer, input_data)
        eager_shape = keras.tree.map_structure(lambda t: tuple(t.shape), output)
        self.assertEqual(
            eager_shape, symbolic_shape, msg="eager and symbolic shapes differ"
        )
        if expected_output is not None:
            self.assertAllClose(output, expected_output, atol=1e-5, rtol=1e-5)
        # Config of a built layer still round-trips.
        self.run_serialization_test(layer)

        if not (run_training or run_jit or run_saving or run_export):
            return output

        model = self._functional_model(
            layer_cls, init_kwargs, input_data, variable_input_data is not None
        )
        if run_training or run_jit:
            if _float_outputs(output):
                modes = [False] * bool(run_training) + [True] * bool(run_jit)
                for jit in modes:
                    self._fit_step(model, input_data, output, jit)
        if run_saving:
            self.run_model_saving_test(model, input_data)
        if run_export:
            inputs = [input_data, _other_batch(input_data)]
            if variable_input_data is not None:
                inputs.append(variable_input_data)
            specs = self._input_specs(input_data, variable_input_data)

            def serve(**kwargs):
                x = kwargs if isinstance(input_data, dict) else kwargs["inputs"]
                return _named_outputs(model(x, training=False))

            self.run_export_test(
                model,
                [self._as_input_dict(x) for x in inputs],
                signatures={"serving_default": (serve, specs)},
            )
        return output

    @staticmethod
    def _as_input_dict(data):
        return dict(data) if isinstance(data, dict) else {"inputs": data}

    @staticmethod
    def _input_specs(input_data, variable_input_data):
        def spec(x):
            shape = [None] + list(np.shape(x)[1:])
            if variable_input_data is not None and len(shape) > 1:
                shape[1] = None
            return (tuple(shape), _spec_dtype(x))

        if isinstance(input_data, dict):
            return {k: spec(v) for k, v in input_data.items()}
        return {"inputs": spec(input_data)}

    def _functional_model(self, layer_cls, init_kwargs, input_data, variable):
        def make_input(x, name):
            shape = list(np.shape(x)[1:])
            if variable and shape:
                shape[0] = None
            return keras.Input(
                shape=tuple(shape), dtype=_spec_dtype(x), name=name
            )

        if isinstance(input_data, dict):
            inputs = {k: make_input(v, k) for k, v in input_data.items()}
        else:
            inputs = make_input(input_data, "inputs")
        outputs = _call(layer_cls(**init_kwargs), inputs)
        return keras.Model(inputs, outputs)

    def _fit_step(self, model, input_data, output, jit_compile):
        rng = np.random.default_rng(0)
        target = keras.tree.map_structure(
            lambda t: _to_numpy(t) + rng.normal(size=t.shape).astype("float32"),
            output,
        )
        if isinstance(target, tuple):
            target = list(target)
        model.compile(optimizer="sgd", loss="mse", jit_compile=jit_compile)
        before = [_to_numpy(v) for v in model.trainable_variables]
        history = model.fit(
            input_data,
            target,
            batch_size=_batch_size(input_data),
            epochs=1,
            shuffle=False,
            verbose=0,
        )
        loss = history.history["loss"][-1]
        mode = "jit_compile=True" if jit_compile else "eager"
        self.assertTrue(np.isfinite(loss), msg=f"{mode} fit loss is {loss}")
        if before:
            after = [_to_numpy(v) for v in model.trainable_variables]
            moved = any(not np.array_equal(a, b) for a, b in zip(after, before))
            self.assertTrue(
                moved, msg=f"no trainable weight changed in a {mode} fit step"
            )

    # ------------------------------------------------------------ model checks
    def run_model_saving_test(self, model, input_data, atol=1e-6):
        """`.keras` save and reload: same class, identical outputs.

        Returns the reloaded model.
        """
        path = self.get_temp_dir() / "model.keras"
        expected = model(input_data, training=False)
        model.save(path)
        reloaded = keras.saving.load_model(path)
        self.assertIs(type(reloaded), type(model))
        actual = reloaded(input_data, training=False)
        self.assertAllClose(actual, expected, atol=atol, rtol=0)
        return reloaded

    def run_export_test(
        self,
        model,
        inputs,
        endpoint="serving_default",
        atol=1e-5,
        signatures=None,
    ):
        """Exports `model` and checks a fresh plain-TF reload's outputs.

        The live endpoint (``model.serving_signatures()``, or `signatures`,
        or the inferred default) is run on each inputs dict and compared with
        the reload, all cases in one subprocess.

        Args:
            model: a built model.
            inputs: a list of dicts ``{input_name: array}`` (e.g. two batch
                sizes / sequence lengths); a single dict is accepted.
            endpoint: the signature to check.
            atol: absolute (and relative) tolerance for float outputs.
            signatures: optional signatures dict (see `export_savedmodel`).

        Returns:
            The export path.
        """
        if isinstance(inputs, dict):
            inputs = [inputs]
        if signatures is None:
            if hasattr(model, "serving_signatures"):
                signatures = model.serving_signatures()
            else:
                signatures = default_signatures(model)
        self.assertIn(endpoint, signatures)
        fn, specs = signatures[endpoint]
        expected = []
        for case in inputs:
            tensors = {
                k: tf.constant(np.asarray(v), dtype=_tf_dtype(specs[k]))
                for k, v in case.items()
            }
            expected.append(_numpy_tree(_named_outputs(fn(**tensors))))
        path = export_savedmodel(
            model,
            "model",
            base_dir=self.get_temp_dir(),
            signatures=signatures,
        )
        check_parity(
            path, inputs, expected, endpoint=endpoint, atol=atol, rtol=atol
        )
        return path

    def assert_grads_match(
        self, model, x, y, loss_fn=None, atol=1e-5, rtol=1e-5
    ):
        """Hand-written `model.compute_gradients(x, y)` equals autodiff.

        Args:
            model: a built, compiled model with a ``compute_gradients(x, y)``
                method returning one gradient per
                ``model.trainable_variables`` (same order).
            x: inputs.
            y: targets.
            loss_fn: ``loss_fn(model, x, y) -> scalar`` differentiated with
                `tf.GradientTape`; default ``model.compute_loss(x=x, y=y,
                y_pred=model(x, training=True))``.
            atol: absolute tolerance.
            rtol: relative tolerance.

        Returns:
            The list of (explicit) gradients as numpy arrays.
        """
        variables = list(model.trainable_variables)
        explicit = list(model.compute_gradients(x, y))
        self.assertEqual(
            len(explicit),
            len(variables),
            msg=f"compute_gradients returned {len(explicit)} gradients for "
            f"{len(variables)} trainable variables",
        )
        if loss_fn is None:

            def loss_fn(model, x, y):
                return model.compute_loss(
                    x=x, y=y, y_pred=model(x, training=True)
                )

        with tf.GradientTape() as tape:
            loss = loss_fn(model, x, y)
        taped = tape.gradient(loss, variables)
        result = []
        for var, mine, ref in zip(variables, explicit, taped):
            ref = np.zeros(var.shape, "float32") if ref is None else ref
            mine = _to_numpy(mine)
            self.assertEqual(
                tuple(mine.shape),
                tuple(var.shape),
                msg=f"gradient shape for {var.path}",
            )
            np.testing.assert_allclose(
                mine,
                _to_numpy(ref),
                atol=atol,
                rtol=rtol,
                err_msg=f"explicit gradient of {var.path} differs from "
                "tf.GradientTape",
            )
            result.append(mine)
        return result


def _is_leaf_list(x):
    return all(isinstance(e, (int, float, bool, str, bytes)) for e in x)


def _assert_tree(actual, desired, compare, where):
    """Walks dicts and lists of tensors; compares the leaves as arrays."""
    if isinstance(actual, dict) or isinstance(desired, dict):
        if not (isinstance(actual, dict) and isinstance(desired, dict)):
            raise AssertionError(f"{where}: a dict and a non-dict differ")
        if set(actual) != set(desired):
            raise AssertionError(
                f"{where}: keys differ: {sorted(actual)} != {sorted(desired)}"
            )
        for key in desired:
            _assert_tree(actual[key], desired[key], compare, f"{where}[{key}]")
        return
    seqs = (list, tuple)
    if (
        isinstance(actual, seqs)
        and isinstance(desired, seqs)
        and not (_is_leaf_list(actual) and _is_leaf_list(desired))
    ):
        if len(actual) != len(desired):
            raise AssertionError(
                f"{where}: lengths differ: {len(actual)} != {len(desired)}"
            )
        for i, (a, d) in enumerate(zip(actual, desired)):
            _assert_tree(a, d, compare, f"{where}[{i}]")
        return
    compare(
        np.asarray(_to_numpy(actual)), np.asarray(_to_numpy(desired)), where
    )


def _tf_dtype(spec):
    dtype = spec[1] if isinstance(spec, tuple) else spec.dtype
    return _as_tf_dtype("", dtype)


def _as_shape_tree(shape):
    """A shape, or a structure of shapes, as tuples."""
    if isinstance(shape, dict):
        return {k: _as_shape_tree(v) for k, v in shape.items()}
    if (
        isinstance(shape, (list, tuple))
        and shape
        and all(isinstance(s, (list, tuple, dict)) for s in shape)
    ):
        return tuple(_as_shape_tree(s) for s in shape)
    return tuple(shape)
