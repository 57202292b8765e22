"""
Title: Sequence to sequence: an encoder-decoder RNN translates dates
Description: Train a many-to-many GRU encoder-decoder with teacher forcing on
    a generated date-format translation task ("12 March 2021" ->
    "2021-03-12"), decode greedily, measure exact match, export it for
    TF Serving and check the reload in plain TensorFlow.
Seed section: 002 "How RNNs Work" ("Many-to-Many RNN": processes an input
    sequence and generates an output sequence token by token; language
    translation), "1. Recurrent Neural Networks (RNN)" (GRU).
"""

import refnn_cli

# refnn and TensorFlow start here, TensorFlow's start-up log lines hidden
# (`--verbose` or REFNN_VERBOSE=1 shows them).
refnn_cli.import_refnn()

import time  # noqa: E402

import keras  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import refnn.tutorials  # noqa: E402
from refnn.data.seq2seq_tasks import (  # noqa: E402
    DATE_SOURCE_CHARS,
    DATE_TARGET_CHARS,
    encode_pairs,
    exact_match,
    make_date_translation,
)
from refnn.export import check_parity, export_savedmodel  # noqa: E402
from refnn.models import Seq2Seq  # noqa: E402

"""
## The task

Dates written four ways by people, one way by machines. The source is a
character sequence of variable length, the target is always ten characters,
and a translation is right only if *every* character is: the score is exact
match, the share of perfect outputs.
"""


args = refnn.tutorials.parse_args("11_seq2seq")
keras.utils.set_random_seed(0)
n_train = 800 if args.quick else 4000
epochs = 2 if args.quick else 8
train_src, train_tgt = make_date_translation(n_train, seed=0)
test_src, test_tgt = make_date_translation(300, seed=1)
for s, t in list(zip(train_src, train_tgt))[:4]:
    print(f"{s!r:>22} -> {t!r}")

"""
## Encoder, decoder, teacher forcing

The encoder GRU reads the source characters; its final hidden state
`c = h_T` summarises the whole date. The decoder GRU starts from `c`
and emits one target character per step, also seeing `c` at every step
(Cho et al., 2014), so it does not have to carry the source in its own
state. During training the decoder is fed the *true* previous
character (teacher forcing): input `[SOS] 2 0 2 1 - ...`, label
`2 0 2 1 - ... [EOS]`. Padding (id 0) is masked in the encoder and
ignored by the loss.
"""
model = Seq2Seq(
    DATE_SOURCE_CHARS,
    DATE_TARGET_CHARS,
    embedding_dim=16,
    units=64,
    cell_type="gru",
    max_decode_length=11,
)
enc, dec_in, dec_out = encode_pairs(
    train_src, train_tgt, model.source_tokenizer, model.target_tokenizer
)
print("encoder input:", enc[0].tolist())
print("decoder input:", dec_in[0].tolist())
print("decoder label:", dec_out[0].tolist())
model.compile(
    keras.optimizers.Adam(0.01),
    keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=0
    ),
)

"""
## Training, and exact match after every epoch

At test time there is no true previous character: the decoder feeds
back its own arg-max (greedy decoding) until `[EOS]`.
"""
print(
    "training: the first step traces the model into a TensorFlow graph, "
    "which takes a while on a CPU",
    flush=True,
)
scores, losses = [], []
start = time.perf_counter()
for epoch in range(epochs):
    history = model.fit(
        {"encoder_inputs": enc, "decoder_inputs": dec_in},
        dec_out,
        epochs=1,
        batch_size=64,
        verbose=0,
        callbacks=[refnn.tutorials.progress(final=False)],
    )
    losses.append(history.history["loss"][-1])
    # A 100-example check per epoch; the full 300 at the end.
    scores.append(exact_match(model.translate(test_src[:100]), test_tgt[:100]))
    print(
        f"epoch {epoch + 1}: loss {losses[-1]:.3f}  "
        f"exact match {scores[-1]:.3f}"
    )
train_seconds = time.perf_counter() - start
final = exact_match(model.translate(test_src), test_tgt)
print(f"test exact match (300 dates): {final:.3f}")

"""
## Greedy decoding, a few examples
"""
examples = [
    "12 March 2021",
    "March 12, 2021",
    "12/03/2021",
    "mar 12 2021",
    "1 January 2000",
    "dec 31 1999",
]
print("| source | translation |")
print("|---|---|")
for s, t in zip(examples, model.translate(examples)):
    print(f"| {s} | {t} |")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(range(1, epochs + 1), scores, "o-", label="exact match (test)")
ax.plot(range(1, epochs + 1), losses, "s--", label="training loss")
ax.set_xlabel("epoch")
ax.set_title("Date translation with a GRU encoder-decoder")
ax.legend()
fig.tight_layout()
fig.savefig(args.out / "seq2seq_training.png", dpi=100)
plt.close(fig)

"""
## Export for TF Serving

`serving_default` takes padded source ids `(batch, length)` (both
dimensions variable) and returns the greedy target ids: the decoding
loop is part of the graph. `translate` takes and returns *strings*: it
splits characters with `tf.strings.unicode_split`, looks them up in a
`tf.lookup.StaticHashTable`, decodes, and joins the output characters,
all with core TensorFlow ops that stock TF Serving has.
`teacher_forcing` returns the logits for given decoder inputs. The
reload runs in a fresh process with plain TensorFlow.
"""
print("exporting: tracing the serving signatures takes a while", flush=True)
path = export_savedmodel(model, "11_seq2seq_dates", base_dir=args.savedmodels)
print("exported to", path)
if not args.quick:  # a fresh TensorFlow process costs a few seconds
    text = np.array(examples)
    live = model.serve_text(keras.ops.convert_to_tensor(text))
    live = {k: keras.ops.convert_to_numpy(v) for k, v in live.items()}
    assert [t.decode() for t in live["translation"]] == (
        model.translate(examples)
    )
    check_parity(path, {"text": text}, live, endpoint="translate")
    print("string-in reload checked in plain TensorFlow")

if args.quick:
    assert losses[-1] < losses[0], f"the loss should fall: {losses}"
else:
    assert final >= 0.9, (
        "the encoder-decoder should translate dates exactly: exact "
        f"match {final:.3f} < 0.9"
    )
print("plots written to", args.out)
refnn.tutorials.report(
    model="Seq2Seq(GRU)",
    dataset="date_translation",
    metric="test_exact_match",
    value=final,
    export=path,
    train_seconds=round(train_seconds, 1),
)
