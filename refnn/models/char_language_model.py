"""One-to-many character-level language model that samples text."""

import keras
import numpy as np
from keras import ops

from refnn.models._heads import check_head_dtype, head_policy
from refnn.models.base import ModelMixin
from refnn.models.rnn_classifier import check_positive_int, make_rnn
from refnn.text.char_tokenizer import CharTokenizer
from refnn.text.special_tokens import SPECIAL_TOKENS


@keras.saving.register_keras_serializable(package="refnn")
class CharLanguageModel(ModelMixin, keras.Model):
    """Character-level RNN language model (one-to-many generation).

    Predicts the next character from the previous ones,

        h_t = RNN(E[x_t], h_{t-1});  p(x_{t+1} | x_≤t) = softmax(W h_t + b)

    and generates text from a prompt by sampling one character at a time
    from `softmax(logits / temperature)` and feeding it back (temperature
    0 is greedy). Train on `(ids[:, :-1], ids[:, 1:])` with
    `SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)`.

    Args:
        vocabulary: the characters (a string or list; the shared special
            tokens are added in front, `[PAD]`=0).
        embedding_dim: size of the character embeddings.
        units: hidden size of the recurrent layer.
        cell_type: `"lstm"`, `"gru"` or `"simple_rnn"` (refnn's layers).
        head_dtype: dtype of the output layer; None (default) is float32
            under a mixed policy and the model's dtype otherwise.
        **kwargs: base `keras.Model` arguments.

    Call arguments:
        token_ids: int tensor `(batch_size, sequence_length)`, 0 = padding.

    Returns:
        Next-character logits `(batch_size, sequence_length,
        vocabulary_size)`.

    Example:

    >>> lm = CharLanguageModel("ab ", units=8)
    >>> text = lm.sample("ab", length=5, seed=0)  # the prompt + 5 characters
    >>> len(text), text[:2], set(text) <= set("ab ")
    (7, 'ab', True)

    References:
        seed 002, "How RNNs Work", "One-to-Many RNN" (takes an initial input
        and generates multiple output tokens; music/tag generation).
    """

    def __init__(
        self,
        vocabulary,
        embedding_dim=16,
        units=64,
        cell_type="gru",
        head_dtype=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.head_dtype = check_head_dtype(head_dtype)
        self.tokenizer = CharTokenizer(vocabulary)
        self.vocabulary = "".join(self.tokenizer.vocabulary[5:])
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self.units = check_positive_int("units", units)
        self.cell_type = cell_type
        n = self.tokenizer.vocabulary_size
        self.embedding = keras.layers.Embedding(
            n, embedding_dim, mask_zero=True, name="embedding"
        )
        self.rnn = make_rnn(
            cell_type,
            units,
            return_sequences=True,
            return_state=True,
            name="rnn",
        )
        self.output_layer = keras.layers.Dense(
            n, name="output_layer", dtype=head_policy(self, self.head_dtype)
        )

    def step(self, token_ids, states=None):
        """Returns `(logits (B, T, V), states)` continuing from `states`."""
        x = self.embedding(token_ids)  # (B, T, E)
        seq, *states = self.rnn(x, initial_state=states)  # (B, T, H)
        return self.output_layer(seq), states

    def call(self, token_ids, training=None):
        logits, _ = self.step(token_ids)
        return logits

    def sample(self, prompt, length, temperature=1.0, seed=None):
        """Generates `length` characters after `prompt`.

        Args:
            prompt: a non-empty string (characters outside the vocabulary
                become `[UNK]`).
            length: number of characters to generate.
            temperature: > 0 divides the logits (lower = safer text);
                0 takes the arg-max (greedy).
            seed: integer seed of the sampler (same seed, same text).

        Returns:
            `prompt` followed by the generated characters (special tokens
            are never sampled).
        """
        if not isinstance(prompt, str) or not prompt:
            raise ValueError(
                f"prompt must be a non-empty string, got {prompt!r}."
            )
        if (
            isinstance(length, bool)
            or not isinstance(length, int)
            or length < 0
        ):
            raise ValueError(
                f"length must be a non-negative integer, got {length}."
            )
        if not isinstance(temperature, (int, float)) or temperature < 0:
            raise ValueError(
                f"temperature must be a number >= 0, got {temperature}."
            )
        rng = np.random.default_rng(seed)
        ids = np.array([self.tokenizer.tokenize(prompt)], dtype="int32")
        logits, states = self.step(ids)
        out = []
        n_special = len(SPECIAL_TOKENS.tokens)
        for _ in range(length):
            z = ops.convert_to_numpy(logits[0, -1]).astype("float64")
            z = z[n_special:]  # never sample a special token
            if temperature == 0:
                k = int(np.argmax(z))
            else:
                p = np.exp((z - z.max()) / temperature)
                k = int(rng.choice(len(p), p=p / p.sum()))
            out.append(k + n_special)
            logits, states = self.step(
                np.array([[k + n_special]], "int32"), states
            )
        return prompt + self.tokenizer.detokenize(out)

    # Serving -----------------------------------------------------------
    def serve(self, token_ids):
        logits = self(token_ids, training=False)
        return {
            "logits": logits,
            "probabilities": ops.softmax(logits, axis=-1),
        }

    def serving_signatures(self):
        if not self.built:  # e.g. only `sample` was called so far
            self(ops.ones((1, 1), dtype="int32"))
        from refnn.export.validation import check_token_ids

        n = self.tokenizer.vocabulary_size

        def serve(token_ids):
            return self.serve(check_token_ids(token_ids, n, "token_ids"))

        return {
            "serving_default": (
                serve,
                {"token_ids": ((None, None), "int32")},
            )
        }

    def get_config(self):
        return {
            **super().get_config(),
            "head_dtype": self.head_dtype,
            "vocabulary": self.vocabulary,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "cell_type": self.cell_type,
        }
