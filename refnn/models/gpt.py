"""GPT: a decoder-only Transformer language model with KV-cache generation."""

import keras
from keras import ops

from refnn.kernels.transformer import apply_dense
from refnn.layers import TokenAndPositionEmbedding, TransformerDecoderLayer
from refnn.layers.masks import compute_causal_mask
from refnn.models._checks import check_positive_int, check_transformer_args
from refnn.models._heads import check_head_dtype, head_policy
from refnn.models.base import ModelMixin

TRUNCATE_POLICIES = ("error", "left")


@keras.saving.register_keras_serializable(package="refnn")
class GPT(ModelMixin, keras.Model):
    """Decoder-only Transformer language model (GPT) with a KV cache.

    Token ids are embedded (token embedding + learned position embedding),
    refined by `num_layers` pre-norm decoder blocks (masked self-attention
    and a feed-forward network, each with a residual connection), normalized
    and projected to one logit per vocabulary entry. The softmax of the
    logits at position t is the distribution of token t + 1:

        p(x_{t+1} | x_{<=t}) = softmax(W_out LayerNorm(h_t) + b_out)

    Generation is autoregressive. With the KV cache (the default) each new
    token runs the network on that one token only: the keys and values of
    all earlier tokens are read from a cache of shape
    `(batch_size, num_layers, 2, total_length, num_heads, head_dim)`, so the
    cost per token does not grow with the dense work of the prefix.

    The context window is `max_length`: prompt plus generated tokens never
    exceed it. A longer request raises a `ValueError` (`truncate="error"`)
    or keeps only the last tokens of the prompt (`truncate="left"`).

    Args:
        vocabulary_size: int, number of token ids.
        max_length: int, the context window (longest sequence the model
            can attend over, prompt and generated tokens together).
        num_layers: int, number of decoder blocks.
        hidden_dim: int, embedding and hidden size.
        num_heads: int, attention heads; must divide `hidden_dim`.
        intermediate_dim: int, feed-forward inner size (default
            `4 * hidden_dim`).
        dropout: float in [0, 1), dropout rate used in training.
        layer_norm_epsilon: float, epsilon of the layer normalizations.
        head_dtype: dtype of the output layer; None (default) is float32
            under a mixed policy and the model's dtype otherwise.
        **kwargs: forwarded to `keras.Model`.

    Call arguments:
        token_ids: int tensor of shape `(batch_size, sequence_length)`.
        training: bool, whether dropout is active.

    Returns:
        Logits of shape `(batch_size, sequence_length, vocabulary_size)`.

    Example:

    >>> import numpy as np
    >>> model = GPT(vocabulary_size=20, max_length=16, num_layers=1,
    ...             hidden_dim=8, num_heads=2)
    >>> model(np.zeros((2, 5), "int32")).shape
    TensorShape([2, 5, 20])

    Generation: ``model.generate(prompt_ids, 4, temperature=0.0)`` returns
    the prompt and 4 greedy tokens, `(batch_size, prompt_length + 4)` (not
    run here: tracing the decode loop takes seconds).

    References:
        seeds/002: "Transformer Architecture" (Architecture Variants: GPT,
        decoder-only, autoregressive modeling; Positional Encoding:
        learnable positions), "Overview of Transformer Model Functionality"
        (tokens -> embeddings -> attention blocks -> softmax over the next
        token), "Concept of Context Window".
    """

    def __init__(
        self,
        vocabulary_size,
        max_length,
        num_layers=2,
        hidden_dim=64,
        num_heads=4,
        intermediate_dim=None,
        dropout=0.0,
        layer_norm_epsilon=1e-5,
        head_dtype=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.head_dtype = check_head_dtype(head_dtype)
        if intermediate_dim is None:
            intermediate_dim = 4 * hidden_dim
        check_transformer_args(
            hidden_dim,
            num_heads,
            dropout,
            vocabulary_size=vocabulary_size,
            max_length=max_length,
            num_layers=num_layers,
            intermediate_dim=intermediate_dim,
        )
        self.vocabulary_size = vocabulary_size
        self.max_length = max_length
        self.num_layers = num_layers
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.head_dim = hidden_dim // num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon

        self.embedding = TokenAndPositionEmbedding(
            vocabulary_size=vocabulary_size,
            sequence_length=max_length,
            embedding_dim=hidden_dim,
            dtype=self.dtype_policy,
            name="embedding",
        )
        self.embedding_dropout = keras.layers.Dropout(
            dropout, dtype=self.dtype_policy, name="embedding_dropout"
        )
        self.decoder_layers = [
            TransformerDecoderLayer(
                intermediate_dim=intermediate_dim,
                num_heads=num_heads,
                dropout=dropout,
                activation="gelu",
                layer_norm_epsilon=layer_norm_epsilon,
                normalize_first=True,
                dtype=self.dtype_policy,
                name=f"decoder_layer_{i}",
            )
            for i in range(num_layers)
        ]
        self.final_layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon,
            dtype=self.dtype_policy,
            name="final_layer_norm",
        )
        self.lm_head = keras.layers.Dense(
            vocabulary_size,
            dtype=head_policy(self, self.head_dtype),
            name="lm_head",
        )
        # Compiled decode loops, kept out of Keras/TF tracking (not saved).
        self._generate_functions = _FunctionCache()

    def build(self, input_shape=None):
        shape = (None, None)
        self.embedding.build(shape)
        hidden_shape = (None, None, self.hidden_dim)
        for layer in self.decoder_layers:
            layer.build(hidden_shape)
        self.final_layer_norm.build(hidden_shape)
        self.lm_head.build(hidden_shape)
        self.built = True

    def call(self, token_ids, training=None):
        x = self.embedding(token_ids)  # (B, T, H)
        x = self.embedding_dropout(x, training=training)
        for layer in self.decoder_layers:
            x = layer(x, training=training)
        return self.lm_head(self.final_layer_norm(x))  # (B, T, V)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.vocabulary_size,)

    # ------------------------------------------------------------------ cache
    def init_cache(self, batch_size, length):
        """Returns an all-zero KV cache for `length` positions.

        Shape `(batch_size, num_layers, 2, length, num_heads, head_dim)`:
        for every layer, the keys (index 0) and values (index 1) of every
        position. Its size per token is
        `2 * num_layers * num_heads * head_dim * dtype_size` bytes.
        """
        shape = (
            batch_size,
            self.num_layers,
            2,
            length,
            self.num_heads,
            self.head_dim,
        )
        return ops.zeros(shape, dtype=self.compute_dtype)

    def call_with_cache(self, token_ids, cache, cache_update_index):
        """Runs new tokens through the model, reading and updating the cache.

        Args:
            token_ids: int tensor `(batch_size, new_length)`, the tokens at
                positions `cache_update_index ... + new_length - 1`.
            cache: the KV cache (see `init_cache`).
            cache_update_index: int or int scalar tensor, the position of
                the first new token.

        Returns:
            `(logits, cache)`: logits `(batch_size, new_length,
            vocabulary_size)` and the updated cache.
        """
        caches = [cache[:, i, ...] for i in range(self.num_layers)]
        logits, caches = self._call_with_layer_caches(
            token_ids, caches, cache_update_index
        )
        return logits, ops.stack(caches, axis=1)  # (B, L, 2, T, heads, dim)

    def _call_with_layer_caches(self, token_ids, caches, cache_update_index):
        # One (B, 2, T, heads, head_dim) cache per layer: the decode loop
        # carries them separately, so no step copies the stacked cache.
        # The causal mask is the same for every layer: build it once.
        mask = compute_causal_mask(
            1,
            ops.shape(caches[0])[2],
            ops.shape(token_ids)[1],
            cache_update_index,
        )  # (1, T, S)
        x = self.embedding(token_ids, start_index=cache_update_index)
        new_caches = []
        for layer, cache in zip(self.decoder_layers, caches):
            x, cache = layer(
                x,
                decoder_attention_mask=mask,
                self_attention_cache=cache,
                self_attention_cache_update_index=cache_update_index,
                use_causal_mask=False,
            )
            new_caches.append(cache)
        hidden = self.final_layer_norm(x)
        if self.lm_head.compute_dtype == self.compute_dtype:
            logits = apply_dense(self.lm_head, hidden)
        else:  # float32 head: Layer.__call__ casts and reads unrounded
            logits = self.lm_head(hidden)
        return logits, tuple(new_caches)

    # ------------------------------------------------------------- generation
    def generate(
        self,
        prompt_ids,
        max_new_tokens,
        temperature=1.0,
        top_k=None,
        seed=None,
        truncate="error",
        use_cache=True,
        jit_compile=False,
    ):
        """Continues `prompt_ids` by `max_new_tokens` sampled tokens.

        Each step draws token t + 1 from `softmax(logits_t / temperature)`,
        restricted to the `top_k` most likely tokens when `top_k` is set
        (Gumbel-max sampling: `argmax(logits_t / temperature + g)`,
        `g = -log(-log(u))`, `u ~ U(0, 1)`). `temperature=0` is greedy
        decoding (`argmax(logits_t)`).

        Args:
            prompt_ids: int array `(batch_size, prompt_length)` or
                `(prompt_length,)`; all prompts of a batch share one length.
            max_new_tokens: int >= 1, number of tokens to generate.
            temperature: float >= 0; 0 means greedy.
            top_k: None or int >= 1, sample only among the top-k logits.
            seed: None or int; an int makes sampling reproducible.
            truncate: `"error"` (default) raises a `ValueError` when
                `prompt_length + max_new_tokens > max_length`; `"left"`
                drops the oldest prompt tokens so that the request fits the
                context window.
            use_cache: bool, decode with the KV cache (default) or by
                recomputing the whole sequence at every step.
            jit_compile: bool, compile the decode loop with XLA.

        Returns:
            A numpy int32 array `(batch_size, kept_prompt_length +
            max_new_tokens)`: the (possibly truncated) prompt followed by
            the generated tokens.
        """
        import numpy as np

        prompt = np.asarray(prompt_ids)
        squeeze = prompt.ndim == 1
        if squeeze:
            prompt = prompt[None, :]
        if prompt.ndim != 2 or not np.issubdtype(prompt.dtype, np.integer):
            raise ValueError(
                "prompt_ids must be an integer array of shape (batch_size, "
                f"prompt_length), got shape {prompt.shape} and dtype "
                f"{prompt.dtype}."
            )
        if prompt.shape[1] < 1:
            raise ValueError("prompt_ids must hold at least one token.")
        check_positive_int("max_new_tokens", max_new_tokens)
        if truncate not in TRUNCATE_POLICIES:
            raise ValueError(
                f"truncate must be one of {TRUNCATE_POLICIES}, got "
                f"{truncate!r}."
            )
        if max_new_tokens >= self.max_length:
            raise ValueError(
                f"max_new_tokens={max_new_tokens} leaves no room for the "
                f"prompt in the context window max_length={self.max_length}."
            )
        total = prompt.shape[1] + max_new_tokens
        if total > self.max_length:
            if truncate == "error":
                raise ValueError(
                    f"The prompt length ({prompt.shape[1]}) plus "
                    f"max_new_tokens ({max_new_tokens}) is {total}, longer "
                    f"than the model's context window max_length="
                    f"{self.max_length}. Shorten the prompt or pass "
                    "truncate='left'."
                )
            prompt = prompt[:, total - self.max_length :]
        _check_sampling(temperature, top_k, self.vocabulary_size)
        noise = None
        if temperature > 0:
            noise = keras.random.uniform(
                (prompt.shape[0], max_new_tokens, self.vocabulary_size),
                minval=1e-20,
                maxval=1.0,
                seed=seed,
            )
        if not self.built:  # the decode loop reads weights a call creates
            self(ops.convert_to_tensor(prompt[:, :1], "int32"))
        fn = self._get_generate_function(
            float(temperature), top_k, bool(use_cache), bool(jit_compile)
        )
        ids = fn(ops.convert_to_tensor(prompt, "int32"), max_new_tokens, noise)
        ids = np.asarray(ops.convert_to_numpy(ids))
        return ids[0] if squeeze else ids

    def _get_generate_function(self, temperature, top_k, use_cache, jit):
        key = (temperature, top_k, use_cache, jit)
        if key not in self._generate_functions.functions:

            def fn(prompt_ids, max_new_tokens, noise):
                return self.generate_step(
                    prompt_ids,
                    max_new_tokens,
                    temperature=temperature,
                    top_k=top_k,
                    noise=noise,
                    use_cache=use_cache,
                )

            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                fn = tf.function(fn, jit_compile=jit)
            self._generate_functions.functions[key] = fn
        return self._generate_functions.functions[key]

    def generate_step(
        self,
        prompt_ids,
        max_new_tokens,
        temperature=0.0,
        top_k=None,
        noise=None,
        use_cache=True,
    ):
        """The decode loop in `keras.ops` (traceable, compilable).

        Args:
            prompt_ids: int32 tensor `(batch_size, prompt_length)`.
            max_new_tokens: int or int32 scalar tensor.
            temperature: Python float; 0 means greedy.
            top_k: None or Python int.
            noise: uniform noise `(batch_size, max_new_tokens,
                vocabulary_size)` for sampling (unused when greedy).
            use_cache: Python bool.

        Returns:
            int32 tensor `(batch_size, prompt_length + max_new_tokens)`.
        """
        prompt_ids = ops.cast(prompt_ids, "int32")
        batch_size = ops.shape(prompt_ids)[0]
        prompt_length = ops.shape(prompt_ids)[1]
        total = prompt_length + max_new_tokens
        ids = ops.concatenate(
            [prompt_ids, ops.zeros((batch_size, max_new_tokens), "int32")],
            axis=1,
        )  # (B, P + N)

        def sample(logits, step):
            # logits: (B, V) at the last known position.
            logits = ops.cast(logits, "float32")
            if temperature == 0:
                return ops.cast(ops.argmax(logits, axis=-1), "int32")
            logits = logits / temperature
            if top_k is not None:
                kth = ops.top_k(logits, top_k)[0][:, -1:]  # (B, 1)
                logits = ops.where(logits < kth, -1e9, logits)
            u = ops.take(noise, step, axis=1)  # (B, V)
            gumbel = -ops.log(-ops.log(u))
            return ops.cast(ops.argmax(logits + gumbel, axis=-1), "int32")

        if use_cache:
            cache = self.init_cache(batch_size, total)
            caches = tuple(cache[:, i] for i in range(self.num_layers))
            logits, caches = self._call_with_layer_caches(prompt_ids, caches, 0)
            next_logits = logits[:, -1, :]  # (B, V)

            def body(step, state):
                ids, caches, next_logits = state
                token = sample(next_logits, step)[:, None]  # (B, 1)
                index = prompt_length + step
                ids = _write_column(ids, index, token)
                logits, caches = self._call_with_layer_caches(
                    token, caches, index
                )
                return ids, caches, logits[:, 0, :]

            ids, _, _ = ops.fori_loop(
                0, max_new_tokens, body, (ids, caches, next_logits)
            )
            return ids

        def body(step, ids):
            index = prompt_length + step
            logits = self(ids, training=False)  # (B, P + N, V)
            next_logits = ops.take(logits, index - 1, axis=1)
            token = sample(next_logits, step)[:, None]
            return _write_column(ids, index, token)

        return ops.fori_loop(0, max_new_tokens, body, ids)

    # ---------------------------------------------------------------- serving
    def serving_signatures(self):
        """Serving endpoints for `refnn.export.export_savedmodel`.

        * `serving_default`: `token_ids` `(batch, length)` int32 ->
          `logits` `(batch, length, vocabulary_size)` and `next_token`
          `(batch,)`, the greedy next token.
        * `generate`: `prompt_ids` `(batch, length)` int32 and
          `max_new_tokens` int32 scalar -> `token_ids`, greedy decoding
          with the KV cache, the whole loop inside the graph.

        Out-of-range ids (negative or >= `vocabulary_size`) and a negative
        `max_new_tokens` fail with ``InvalidArgument`` naming the input.
        """
        from refnn.export.validation import check_non_negative, check_token_ids

        n = self.vocabulary_size

        def serve(token_ids):
            return self.serve(check_token_ids(token_ids, n, "token_ids"))

        def generate(prompt_ids, max_new_tokens):
            return self.serve_generate(
                check_token_ids(prompt_ids, n, "prompt_ids"),
                check_non_negative(max_new_tokens, "max_new_tokens"),
            )

        return {
            "serving_default": (
                serve,
                {"token_ids": ((None, None), "int32")},
            ),
            "generate": (
                generate,
                {
                    "prompt_ids": ((None, None), "int32"),
                    "max_new_tokens": ((), "int32"),
                },
            ),
        }

    def serve(self, token_ids):
        logits = self(token_ids, training=False)
        next_token = ops.argmax(logits[:, -1, :], axis=-1)
        return {"logits": logits, "next_token": ops.cast(next_token, "int32")}

    def serve_generate(self, prompt_ids, max_new_tokens):
        ids = self.generate_step(prompt_ids, max_new_tokens, temperature=0.0)
        return {"token_ids": ids}

    def get_config(self):
        return {
            **super().get_config(),
            "head_dtype": self.head_dtype,
            "vocabulary_size": self.vocabulary_size,
            "max_length": self.max_length,
            "num_layers": self.num_layers,
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }


def _write_column(ids, index, token):
    """`ids[:, index] = token[:, 0]` as one scatter (cheaper per decode step
    than `slice_update`, which TensorFlow runs as an XLA op)."""
    batch = ops.shape(ids)[0]
    rows = ops.arange(batch, dtype="int32")
    cols = ops.broadcast_to(ops.cast(index, "int32"), (batch,))
    indices = ops.stack([rows, cols], axis=1)  # (B, 2)
    return ops.scatter_update(ids, indices, token[:, 0])


def _check_sampling(temperature, top_k, vocabulary_size):
    if not isinstance(temperature, (int, float)) or temperature < 0:
        raise ValueError(
            f"temperature must be a number >= 0, got {temperature}."
        )
    if top_k is not None:
        if (
            isinstance(top_k, bool)
            or not isinstance(top_k, int)
            or not 1 <= top_k <= vocabulary_size
        ):
            raise ValueError(
                "top_k must be None or an integer in [1, vocabulary_size="
                f"{vocabulary_size}], got {top_k}."
            )


class _FunctionCache:
    """A plain holder, so Keras does not track (and export) the functions."""

    def __init__(self):
        self.functions = {}
