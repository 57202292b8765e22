"""
Title: BERT-style pre-training and fine-tuning
Description: Pre-train a small bidirectional Transformer encoder with masked
    language modelling on unlabelled sentences, then fine-tune it on a few
    labelled ones (head first, encoder frozen; then everything) and compare
    with the same classifier trained from scratch.
Seed section: 002 "Transformer Architecture" (Architecture Variants: BERT,
    bidirectional encoder, masked language modeling), "Transfer Learning".
"""

import refnn_cli

# refnn and TensorFlow start here, TensorFlow's start-up log lines hidden
# (`--verbose` or REFNN_VERBOSE=1 shows them).
refnn_cli.import_refnn()

import keras  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import refnn.tutorials  # noqa: E402
from refnn.data.text import make_sentiment  # noqa: E402
from refnn.export import export_savedmodel  # noqa: E402
from refnn.models import (  # noqa: E402
    BertClassifier,
    BertEncoder,
    BertMaskedLM,
    mask_tokens,
)
from refnn.text import WordTokenizer  # noqa: E402
from refnn.training import FreezeSchedule  # noqa: E402

"""
## Labels are expensive, text is cheap

We have many sentences but labels (positive / negative) for only a few.
BERT's answer is to learn from the unlabelled text first. *Masked language
modelling* hides 15% of the words (80% become `[MASK]`, 10% a random word,
10% stay) and trains the encoder to recover them from both sides of the
context. Words that appear in the same contexts (here: positive words
appear together with other positive words) end up with similar
representations, which is exactly what the classifier needs later.
"""

LENGTH = 16  # [SOS] + at most 13 words, padded


def encoder_config(vocabulary_size):
    return dict(
        vocabulary_size=vocabulary_size,
        max_length=LENGTH,
        num_layers=2,
        hidden_dim=64,
        num_heads=4,
        intermediate_dim=128,
        dropout=0.1,
    )


def pretrain(encoder, ids, epochs, seed=0):
    """Masked-LM pre-training; a fresh random mask every epoch."""
    mlm = BertMaskedLM(encoder)
    mlm.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight"
        ),
        weighted_metrics=["accuracy"],
    )
    history = []
    for epoch in range(epochs):
        data = mask_tokens(ids, encoder.vocabulary_size, seed=seed + epoch)
        h = mlm.fit(
            {k: data[k] for k in ("token_ids", "mask_positions")},
            data["mask_ids"],
            sample_weight=data["mask_weights"],
            batch_size=64,
            epochs=1,
            verbose=0,
            callbacks=[refnn.tutorials.progress(final=False)],
        )
        history.append(h.history["accuracy"][-1])
        print(
            f"  pre-training epoch {epoch + 1}/{epochs}: masked-token "
            f"accuracy {history[-1]:.3f}",
            flush=True,
        )
    return mlm, history


"""
## Fine-tuning with freezing

The seed's transfer-learning cases: with a small labelled set, first train
only the new layer on top of the frozen pre-trained network, then
"re-train the entire neural network" with a small learning rate.
`refnn.training.FreezeSchedule` does both phases inside one `fit`.
"""


def fine_tune(model, x, y, epochs, freeze_epochs, vx, vy):
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model(x[:1])  # build the head, so the optimizer sees all weights
    callbacks = []
    if freeze_epochs:
        callbacks.append(
            FreezeSchedule(
                up_to=model.encoder.name,
                epochs=freeze_epochs,
                fine_tune_learning_rate=5e-4,
            )
        )
    history = model.fit(
        x,
        y,
        validation_data=(vx, vy),
        batch_size=16,
        epochs=epochs,
        callbacks=callbacks + [refnn.tutorials.progress()],
        verbose=0,
    )
    return history.history["val_accuracy"]


args = refnn.tutorials.parse_args("15_bert_finetune")
keras.utils.set_random_seed(0)
texts, _ = make_sentiment(400 if args.quick else 3000, seed=0)
labelled, labels = make_sentiment(24, seed=1)
test, test_labels = make_sentiment(100 if args.quick else 400, seed=2)
tokenizer = WordTokenizer.from_corpus(texts)
encode = lambda t: tokenizer.tokenize(  # noqa: E731
    t, sequence_length=LENGTH, add_sos=True
)
ids, x, tx = encode(texts), encode(labelled), encode(test)
print(
    f"{len(texts)} unlabelled sentences, {len(labelled)} labelled, "
    f"vocabulary {tokenizer.vocabulary_size}"
)
print("example:", texts[0], "->", ids[0].tolist())

"""
## 1. Pre-training (no labels used)
"""
encoder = BertEncoder(**encoder_config(tokenizer.vocabulary_size))
mlm, mlm_accuracy = pretrain(encoder, ids, 2 if args.quick else 8)
print(f"masked-token accuracy after pre-training: {mlm_accuracy[-1]:.3f}")

"""
## 2. Fine-tuning vs training from scratch

Same classifier, same labelled sentences, same epochs; the only
difference is where the encoder's weights come from.
"""
epochs = 3 if args.quick else 10
keras.utils.set_random_seed(1)
pretrained = BertClassifier(encoder, num_classes=2)
curve_pre = fine_tune(pretrained, x, labels, epochs, 2, tx, test_labels)
keras.utils.set_random_seed(1)
scratch = BertClassifier(
    BertEncoder(**encoder_config(tokenizer.vocabulary_size)),
    num_classes=2,
)
curve_scratch = fine_tune(scratch, x, labels, epochs, 0, tx, test_labels)
print(
    f"test accuracy: pre-trained + fine-tuned {curve_pre[-1]:.3f}, "
    f"from scratch {curve_scratch[-1]:.3f}"
)

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(
    range(1, epochs + 1),
    curve_pre,
    "o-",
    label="pre-trained (frozen 2 epochs)",
)
ax.plot(range(1, epochs + 1), curve_scratch, "s--", label="from scratch")
ax.axvline(2.5, c="gray", ls=":", lw=1)
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy")
ax.set_title(f"{len(labelled)} labelled sentences")
ax.legend()
fig.tight_layout()
fig.savefig(args.out / "bert_finetune.png", dpi=100)
plt.close(fig)

"""
## Export

The classifier's `serving_default` endpoint maps token ids to
`probabilities` and `label`.
"""
print("exporting: tracing the serving signatures takes a while", flush=True)
path = export_savedmodel(
    pretrained, "15_bert_classifier", base_dir=args.savedmodels
)
print("exported to", path)

# Quick mode only checks the pipeline: too little pre-training to help.
margin = -1.0 if args.quick else 0.05
assert curve_pre[-1] >= curve_scratch[-1] + margin, (
    "pre-training should help with few labels: "
    f"{curve_pre[-1]:.3f} vs {curve_scratch[-1]:.3f} from scratch"
)
print("plots written to", args.out)
refnn.tutorials.report(
    model="BertClassifier",
    dataset=f"sentiment sentences ({len(labelled)} labels)",
    metric="test_accuracy",
    value=curve_pre[-1],
    export=path,
    scratch_test_accuracy=curve_scratch[-1],
    mlm_accuracy=mlm_accuracy[-1],
)
