"""
Title: SimpleRNN vs LSTM vs GRU: the vanishing gradient through time
Description: Measure how much the last hidden state still depends on early
    inputs (gradient norms through time, up to 100 steps back), train the
    three layers on a "remember the first token" task, and export the LSTM
    classifier with variable batch and sequence length.
Seed section: 002 "Challenges with RNNs" (diminishing gradient problem),
    "1. Recurrent Neural Networks (RNN)" (Simple RNN, LSTM, GRU).
"""

import refnn_cli

# refnn and TensorFlow start here, TensorFlow's start-up log lines hidden
# (`--verbose` or REFNN_VERBOSE=1 shows them).
refnn_cli.import_refnn()

import keras  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import refnn.tutorials  # noqa: E402
from refnn.export import export_savedmodel  # noqa: E402
from refnn.layers import GRU, LSTM, SimpleRNN  # noqa: E402

"""
## Three recurrent layers

All three read a sequence x_1 … x_T one step at a time and keep a hidden
state h_t (the seed's "internal state (memory)"):

- SimpleRNN: h_t = tanh(x_t W + h_{t-1} U + b). The gradient of h_T with
  respect to an early x_t is a product of T − t Jacobians U·diag(tanh'),
  which shrinks (or blows up) geometrically: the seed's "diminishing
  gradient problem".
- LSTM adds a cell state c_t = f ⊙ c_{t-1} + i ⊙ g. Along c the Jacobian
  is just the forget gate f (started near σ(1) ≈ 0.73 by
  `unit_forget_bias`), and the network can learn f ≈ 1 to carry
  information for a long time.
- GRU mixes h_t = z ⊙ h_{t-1} + (1 − z) ⊙ ĥ: the same additive path with
  one gate fewer.

The refnn layers are drop-in copies of `keras.layers.SimpleRNN/LSTM/GRU`
(the tests copy Keras's weights in and compare outputs and gradients).
"""

LAYERS = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}

"""
## How far back does the gradient reach?

Feed random sequences to freshly initialized layers and compute
‖∂h_T/∂x_t‖ for every step t with `tf.GradientTape`. Plotted against the
distance T − t on a log scale each curve is roughly a straight line: the
gradient shrinks by a constant factor per step. SimpleRNN's factor is
smaller than the LSTM's, so over 100 steps the gap grows to orders of
magnitude. The GRU starts with its update gate z ≈ σ(0) = 0.5, which halves
the carried state at every step: its reach is the shortest *until it
learns* z ≈ 1 for the units that must remember — gates are what make long
memory learnable, not what makes it free.
"""


def gradient_through_time(layer_cls, seq_len, units=32, seed=0):
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.normal(size=(16, seq_len, 4)).astype("float32"))
    layer = layer_cls(units)
    with tf.GradientTape() as tape:
        tape.watch(x)
        h_last = layer(x)  # (batch_size, units)
        loss = tf.reduce_sum(h_last)
    grads = tape.gradient(loss, x)  # (batch_size, seq_len, 4)
    return tf.reduce_mean(tf.norm(grads, axis=-1), axis=0).numpy()


"""
## A long-range task: remember the first token

Each sequence starts with a ±1 "signal" followed by T − 1 steps of Gaussian
noise; the label is whether the signal was +1. Only the first step matters,
so the model must carry one bit across the whole sequence while ignoring
the noise. We train at T = 10, where all three layers learn it within a
few seconds, and export the LSTM. (Longer T needs far more training than a
tutorial can afford, and the outcome then depends on the run: with this
one-dimensional noise and Keras's orthogonal initialization a SimpleRNN is
a surprisingly good memory at moderate lengths. Initialization matters as
much as architecture; the gradients above show where the architectures
differ.)
"""


def first_token_data(n, seq_len, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, seq_len, 1)).astype("float32")
    labels = rng.integers(0, 2, size=n)
    x[:, 0, 0] = 2.0 * labels - 1.0
    return x, labels.astype("float32")


def classifier(layer_cls, units):
    inputs = keras.Input((None, 1), name="sequences")
    hidden = layer_cls(units)(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


def train_accuracy(layer_cls, seq_len, n, epochs, units=16, seed=0):
    keras.utils.set_random_seed(seed)
    x, y = first_token_data(n, seq_len, seed)
    x_test, y_test = first_token_data(256, seq_len, seed + 1)
    model = classifier(layer_cls, units)
    model.fit(
        x,
        y,
        batch_size=64,
        epochs=epochs,
        verbose=0,
        callbacks=[refnn.tutorials.progress(final=False)],
    )
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    return float(accuracy), model


args = refnn.tutorials.parse_args("10_rnn_lstm_gru")
grad_len, seq_len = 100, 10
n, epochs = 1024, 4

"""
### Gradient norms through time
"""

reach = {}
plt.figure(figsize=(6, 4))
for name, layer_cls in LAYERS.items():
    norms = gradient_through_time(layer_cls, grad_len)
    distance = grad_len - 1 - np.arange(grad_len)
    plt.semilogy(distance, norms, label=name)
    # How much of the last step's influence survives at the first step.
    reach[name] = float(norms[0] / norms[-1])
    print(f"{name:9s} |dh_T/dx_1| / |dh_T/dx_T| = {reach[name]:.2e}")
plt.xlabel("distance T - t (steps)")
plt.ylabel("mean ||dh_T / dx_t||")
plt.title("Gradient through time at initialization")
plt.legend()
plt.tight_layout()
plt.savefig(args.out / "gradient_through_time.png")
plt.close()

"""
### Training on the first-token task

`--quick` trains only the LSTM (the model we export).
"""

names = ["LSTM"] if args.quick else list(LAYERS)
accuracy, models = {}, {}
for name in names:
    accuracy[name], models[name] = train_accuracy(
        LAYERS[name], seq_len, n, epochs
    )
    print(f"T={seq_len} {name:9s} test accuracy {accuracy[name]:.3f}")

"""
## Export the LSTM classifier

The serving function takes `sequences` of any batch size and length
and returns the probability that the first token was +1 and the label.
"""

lstm_model = models["LSTM"]


def serve(sequences):
    probability = lstm_model(sequences, training=False)[:, 0]
    return {
        "probability": probability,
        "label": keras.ops.cast(probability > 0.5, "int32"),
    }


specs = {"sequences": ((None, None, 1), "float32")}
path = export_savedmodel(
    lstm_model,
    "10_rnn_lstm_gru_first_token_lstm",
    base_dir=args.savedmodels,
    signatures={"serving_default": (serve, specs)},
)
print("exported to", path)

assert reach["LSTM"] > 10 * reach["SimpleRNN"], (
    "100 steps back, the LSTM's gradient should be at least 10x the "
    f"SimpleRNN's (relative to the last step), got {reach}"
)
assert accuracy["LSTM"] >= 0.8, (
    f"the LSTM should learn the T={seq_len} first-token task, got "
    f"test accuracy {accuracy['LSTM']:.3f}"
)
print("plots written to", args.out)
refnn.tutorials.report(
    model="LSTM",
    dataset=f"first_token_T{seq_len}",
    metric="test_accuracy",
    value=accuracy["LSTM"],
    export=path,
    accuracies=accuracy,
    gradient_reach_100_steps=reach,
)
