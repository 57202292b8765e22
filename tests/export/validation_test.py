"""check_token_ids: out-of-range ids fail inside a signature, by name."""

import numpy as np
import pytest
import tensorflow as tf

from refnn.export import export_savedmodel
from refnn.export.validation import (
    check_non_negative,
    check_positions,
    check_token_ids,
)
from refnn.models.gpt import GPT


def test_in_range_ids_pass_through():
    ids = np.array([[0, 4, 9]], "int32")
    np.testing.assert_array_equal(check_token_ids(ids, 10), ids)


@pytest.mark.parametrize("bad", [-1, 10, 2**31 - 1])
def test_out_of_range_raises_naming_input_and_range(bad):
    fn = tf.function(
        lambda x: check_token_ids(x, 10, "prompt_ids") * 2,
        input_signature=[tf.TensorSpec((None, None), tf.int32)],
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"prompt_ids"):
        fn(tf.constant([[1, bad]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[0, 10\)"):
        fn(tf.constant([[bad]]))


def test_bad_arguments():
    with pytest.raises(ValueError, match="vocabulary_size"):
        check_token_ids([1], 0)
    with pytest.raises(TypeError, match="float32"):
        check_token_ids(np.zeros(2, "float32"), 5, "ids")
    with pytest.raises(tf.errors.InvalidArgumentError, match="n must be"):
        check_non_negative(tf.constant(-1), "n")


def test_gpt_export_rejects_ids_outside_vocabulary(tmp_path):
    model = GPT(
        vocabulary_size=11,
        max_length=8,
        num_layers=1,
        hidden_dim=8,
        num_heads=2,
        intermediate_dim=16,
    )
    model(np.zeros((1, 2), "int32"))
    path = export_savedmodel(model, "gpt", base_dir=tmp_path)
    loaded = tf.saved_model.load(str(path))
    serve = loaded.signatures["serving_default"]
    generate = loaded.signatures["generate"]
    ok = serve(token_ids=tf.constant([[0, 10]]))
    assert ok["logits"].shape == (1, 2, 11)
    # Before the check, -1 silently read the last embedding row.
    for bad in (-1, 11):
        with pytest.raises(tf.errors.InvalidArgumentError, match="token_ids"):
            serve(token_ids=tf.constant([[1, bad]]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="prompt_ids"):
            generate(
                prompt_ids=tf.constant([[bad]]),
                max_new_tokens=tf.constant(1),
            )
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_new_tokens"):
        generate(prompt_ids=tf.constant([[1]]), max_new_tokens=tf.constant(-1))


def test_positions_must_index_the_sequence():
    fn = tf.function(
        lambda ids, pos: tf.gather(
            ids, check_positions(pos, ids), batch_dims=1
        ),
        input_signature=[
            tf.TensorSpec((None, None), tf.int32),
            tf.TensorSpec((None, None), tf.int32),
        ],
    )
    ids = tf.constant([[7, 8, 9]])
    np.testing.assert_array_equal(fn(ids, tf.constant([[2, 0]])), [[9, 7]])
    for bad in (-1, 3):
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=r"mask_positions must hold positions in \[0, sequence_length",
        ):
            fn(ids, tf.constant([[bad]]))
