"""
Title: The encoder-decoder Transformer vs the RNN on date translation
Description: Train refnn's Transformer and the GRU Seq2Seq of tutorial 11 on
    the same generated dates with the same budget, compare exact match,
    decode greedily with the decoder's KV cache, export for TF Serving.
Seed section: 002 "Transformer Architecture" (Core Components: encoder,
    decoder; Key Mechanisms: self-attention, positional encoding;
    Applications: machine translation; RNNs vs Transformers).
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
    date_tokenizers,
    encode_pairs,
    exact_match,
    make_date_translation,
)
from refnn.export import export_savedmodel  # noqa: E402
from refnn.models import Seq2Seq, Transformer  # noqa: E402

"""
## Same task, two architectures

Tutorial 11 translated "12 March 2021" into "2021-03-12" with a GRU
encoder-decoder: the encoder squeezes the whole source into one state
vector. The Transformer keeps one vector *per source character*; every
decoder step attends over all of them (encoder-decoder attention), and
the decoder attends over its own previous outputs (masked self-attention).
Position comes from the sine/cosine encoding added to the embeddings,
since attention by itself ignores order.

The comparison is fair: the same training pairs (teacher forcing: decoder
input `[SOS] y_1 .. y_n`, labels `y_1 .. y_n [EOS]`, padding ignored by the
loss), the same number of epochs and batch size, greedy decoding for both.
"""


def train(model, x, y, test_src, test_tgt, epochs, translate, lr):
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=0
        ),
    )
    scores = []
    start = time.perf_counter()
    print(f"training {model.name} (the first step traces it)", flush=True)
    for epoch in range(epochs):
        model.fit(
            x,
            y,
            batch_size=64,
            epochs=1,
            verbose=0,
            callbacks=[refnn.tutorials.progress(final=False)],
        )
        scores.append(exact_match(translate(test_src), test_tgt))
        print(
            f"  {model.name} epoch {epoch + 1}/{epochs}: "
            f"exact match {scores[-1]:.3f}",
            flush=True,
        )
    return scores, time.perf_counter() - start


args = refnn.tutorials.parse_args("13_transformer_seq2seq")
keras.utils.set_random_seed(0)
n_train = 400 if args.quick else 1500
epochs = 2 if args.quick else 6
train_src, train_tgt = make_date_translation(n_train, seed=0)
test_src, test_tgt = make_date_translation(50 if args.quick else 300, 1)
src_tok, tgt_tok = date_tokenizers()
enc, dec_in, dec_out = encode_pairs(
    train_src, train_tgt, src_tok, tgt_tok, source_length=18
)
x = {"encoder_inputs": enc, "decoder_inputs": dec_in}

"""
## The Transformer

One encoder block and one decoder block, width 64, 4 heads.
"""
transformer = Transformer(
    src_tok.vocabulary_size,
    tgt_tok.vocabulary_size,
    encoder_max_length=18,
    decoder_max_length=dec_in.shape[1],
    num_layers=1,
    hidden_dim=64,
    num_heads=4,
    intermediate_dim=128,
    dropout=0.0,
)
scores_tf, seconds_tf = train(
    transformer,
    x,
    dec_out,
    test_src,
    test_tgt,
    epochs,
    lambda s: transformer.translate(s, src_tok, tgt_tok),
    3e-3,
)

"""
## The RNN of tutorial 11

Tutorial 11's GRU encoder-decoder and learning rate.
"""
keras.utils.set_random_seed(0)
rnn = Seq2Seq(
    DATE_SOURCE_CHARS,
    DATE_TARGET_CHARS,
    embedding_dim=16,
    units=64,
    cell_type="gru",
    max_decode_length=dec_in.shape[1],
)
scores_rnn, seconds_rnn = train(
    rnn, x, dec_out, test_src, test_tgt, epochs, rnn.translate, 1e-2
)
print("| model | exact match per epoch | train seconds |")
print("|---|---|---|")
for name, scores, seconds in (
    ("Transformer", scores_tf, seconds_tf),
    ("Seq2Seq (GRU)", scores_rnn, seconds_rnn),
):
    curve = " ".join(f"{s:.2f}" for s in scores)
    print(f"| {name} | {curve} | {seconds:.1f} |")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(range(1, epochs + 1), scores_tf, "o-", label="Transformer")
ax.plot(range(1, epochs + 1), scores_rnn, "s--", label="Seq2Seq (GRU)")
ax.set_xlabel("epoch")
ax.set_ylabel("exact match (test)")
ax.set_title(f"{n_train} training dates")
ax.legend()
fig.tight_layout()
fig.savefig(args.out / "transformer_vs_rnn.png", dpi=100)
plt.close(fig)

"""
## Greedy decoding with the KV cache

At inference the decoder emits one character per step. With the cache,
each step runs the decoder on the new character only: the keys/values
of the earlier characters (self-attention) and of the encoder output
(cross-attention, computed once) are read from caches. The result is
identical to recomputing the whole prefix every step.
"""
examples = ["12 March 2021", "mar 12 2021", "dec 31 1999", "07/04/1976"]
for s, t in zip(examples, transformer.translate(examples, src_tok, tgt_tok)):
    print(f"{s!r:>18} -> {t!r}")
ids = src_tok.tokenize(test_src, sequence_length=18)
cached = transformer.greedy_decode(ids, use_cache=True)
recomputed = transformer.greedy_decode(ids, use_cache=False)
assert np.array_equal(cached, recomputed), "cache must not change output"

"""
## Export

`serving_default` maps source ids to the greedy target ids (the cached
loop runs inside the graph); `teacher_forcing` returns the logits.
"""
print("exporting: tracing the serving signatures takes a while", flush=True)
path = export_savedmodel(
    transformer, "13_transformer_dates", base_dir=args.savedmodels
)
print("exported to", path)

assert scores_tf[-1] >= scores_rnn[-1], (
    f"the Transformer should beat the RNN on the same budget: "
    f"{scores_tf[-1]:.3f} vs {scores_rnn[-1]:.3f}"
)
if not args.quick:
    assert scores_tf[-1] >= 0.5, f"exact match {scores_tf[-1]:.3f}"
print("plots written to", args.out)
refnn.tutorials.report(
    model="Transformer",
    dataset=f"date translation ({n_train} pairs)",
    metric="test_exact_match",
    value=scores_tf[-1],
    export=path,
    rnn_exact_match=scores_rnn[-1],
    epochs=epochs,
)
