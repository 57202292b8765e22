"""
Title: Tokenization and a bag-of-words classifier
Description: Word, character, WordPiece and BPE tokenizers with the same
    special tokens; a from-scratch BPE merge loop checked against the library;
    then binary bag-of-words vectors and a logistic-regression spam-style
    classifier, exported with a string-in signature for TF Serving.
Seed section: 002 "Understanding Tokenization in NLP" (word, character,
    subword tokenization, special tokens), "The Bag of Words Model" (steps
    involved, limitations).
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
from refnn.data.text import make_corpus, make_sentiment  # noqa: E402
from refnn.export import check_parity, export_savedmodel  # noqa: E402
from refnn.models import LogisticRegression  # noqa: E402
from refnn.text import (  # noqa: E402
    SPECIAL_TOKENS,
    BagOfWords,
    CharTokenizer,
    WordTokenizer,
    learn_bpe_merges,
    learn_byte_pair_merges,
    train_byte_pair,
    train_word_piece,
)

"""
## Special tokens: one definition for every tokenizer

Every refnn tokenizer starts its vocabulary with the same five tokens, so an
id means the same thing whatever the tokenizer: `[PAD]`=0 (padding, masked
away), `[UNK]`=1 (out of vocabulary), `[SOS]`=2 / `[EOS]`=3 (start / end of
sequence) and `[MASK]`=4 (masked language modelling).
"""


def _text(x):
    x = x.numpy() if hasattr(x, "numpy") else x
    return x.decode() if isinstance(x, bytes) else str(x)


args = refnn.tutorials.parse_args("08_tokenization")
keras.utils.set_random_seed(0)
print(dict(zip(SPECIAL_TOKENS.tokens, range(5))))
corpus = make_corpus(300 if args.quick else 1000, seed=0)

"""
## Word and character tokenization

The seed's example, "The cat sat on the mat", splits into six words.
`WordTokenizer` also lowercases and strips punctuation (Keras's
`TextVectorization` standardization), so "The" and "the" are one
token. Unknown words become `[UNK]`; a character tokenizer has a tiny
vocabulary and no unknown words for the characters it knows, but long
sequences.
"""
words = WordTokenizer.from_corpus(corpus + ["The cat sat on the mat"])
sentence = "The cat sat on the mat"
ids = words.tokenize(sentence)
print(sentence, "->", words.split(sentence), "->", ids)
print(
    "unknown word:",
    words.detokenize(words.tokenize("the cat sat on a zebra")),
)
chars = CharTokenizer.from_corpus(corpus)
print(
    "characters:",
    len(chars.tokenize(sentence.lower())),
    "ids,",
    chars.vocabulary_size,
    "in the vocabulary",
)

"""
## Subwords: WordPiece and BPE, learned by the libraries

WordPiece's vocabulary is learned by keras_hub's
`compute_word_piece_vocabulary`. keras_hub has a byte-level BPE
tokenizer but no BPE trainer, so the merges come from Hugging Face
`tokenizers` (`BpeTrainer`), then go to keras_hub's `BytePairTokenizer`.
A word never seen in training is split into known pieces instead of
becoming `[UNK]`.
"""
print(f"learning WordPiece and BPE vocabularies on {len(corpus)} sentences")
word_piece = train_word_piece(corpus, 300)
bpe = train_byte_pair(corpus, 261 + 300)
rare = "the princesses visited tokyo"
wp_ids = np.asarray(word_piece.tokenize(rare)).tolist()
bpe_ids = np.asarray(bpe.tokenize(rare)).tolist()
print("WordPiece:", [_text(word_piece.id_to_token(i)) for i in wp_ids])
print("BPE:      ", [_text(bpe.id_to_token(i)) for i in bpe_ids])
assert _text(bpe.detokenize(bpe_ids)) == rare
assert _text(word_piece.detokenize(wp_ids)) == rare

"""
## BPE from scratch

The merge loop is a dozen lines (`refnn/text/bpe_teaching.py`): count
adjacent symbol pairs, merge the most frequent one everywhere, repeat.
Breaking ties the way the library does, it learns exactly the same
merges as Hugging Face `tokenizers`.
"""
n_merges = 40 if args.quick else 150
ours = [" ".join(p) for p in learn_bpe_merges(corpus, n_merges)]
_, library = learn_byte_pair_merges(corpus, 261 + n_merges)
print("first merges:", ours[:8])
assert ours == library, "the teaching loop must learn the library's merges"

"""
## Bag of words

The seed's steps: tokenize, lowercase, drop stop words, map tokens to
ids, then set a one at every id's position. The vector has one element
per vocabulary entry, and word order is lost ("not good, bad" and "bad,
not good" look the same). A logistic regression on these vectors
separates positive from negative sentences (spam / not-spam style).
"""
texts, labels = make_sentiment(400 if args.quick else 2000, seed=0)
test_texts, test_labels = make_sentiment(400, seed=1)
tok = WordTokenizer.from_corpus(
    texts, stop_words=("the", "a", "and", "it", "this", "was")
)
bow = BagOfWords(tok.vocabulary_size, mode="binary")
x = np.asarray(bow(tok.tokenize(texts)))
x_test = np.asarray(bow(tok.tokenize(test_texts)))
tv = keras.layers.TextVectorization(
    vocabulary=tok.vocabulary[5:], output_mode="multi_hot"
)
columns = [1] + list(range(5, tok.vocabulary_size))
assert np.array_equal(x[:, columns], np.asarray(tv(texts))), (
    "BagOfWords must equal TextVectorization(output_mode='multi_hot')"
)
classifier = LogisticRegression(num_classes=2)
classifier.compile(keras.optimizers.Adam(0.05), metrics=["accuracy"])
classifier.fit(
    x,
    labels,
    epochs=5 if args.quick else 20,
    batch_size=64,
    verbose=0,
    callbacks=[refnn.tutorials.progress(final=False)],
)
probs = np.asarray(classifier(x_test))[:, 0]
accuracy = float(np.mean((probs >= 0.5) == test_labels))
print(f"bag-of-words logistic regression: test accuracy {accuracy:.3f}")

weights = np.asarray(classifier.trainable_variables[0])[:, 0]
order = np.argsort(weights)
picked = list(order[:6]) + list(order[-6:])
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.barh([tok.vocabulary[i] for i in picked], weights[picked])
ax.set_title("Most negative / positive bag-of-words weights")
fig.tight_layout()
fig.savefig(args.out / "bag_of_words_weights.png", dpi=100)
plt.close(fig)

"""
## Export with a string-in signature

TF Serving only has core TensorFlow ops, so the served function
tokenizes with `tf.strings` and a `tf.lookup.StaticHashTable` (kept on
the model so that the export saves it), builds the bag of words and
runs the classifier. No refnn, keras_hub or tensorflow_text is needed
to load it.
"""
classifier.bow_lookup_table = tok.lookup_table()


def serve_text(text):
    ids = tok.tf_tokenize(text, table=classifier.bow_lookup_table)
    ids = tf.pad(ids, [[0, 0], [0, 1]])  # keeps length >= 1
    return classifier.serve(bow(ids))


path = export_savedmodel(
    classifier,
    "08_tokenization_bow_classifier",
    base_dir=args.savedmodels,
    signatures={"serving_default": (serve_text, {"text": ((None,), "string")})},
)
print("exported to", path)
if not args.quick:
    sample = np.array(test_texts[:5] + ["GREAT!! loved it", ""])
    live = {
        k: np.asarray(v) for k, v in serve_text(tf.constant(sample)).items()
    }
    check_parity(path, {"text": sample}, live)
    print("string-in reload checked in plain TensorFlow")

threshold = 0.7 if args.quick else 0.9
assert accuracy >= threshold, (
    f"bag of words should classify the sentences: {accuracy:.3f} < {threshold}"
)
print("plots written to", args.out)
refnn.tutorials.report(
    model="BagOfWords+LogisticRegression",
    dataset="generated_sentiment",
    metric="test_accuracy",
    value=accuracy,
    export=path,
    bpe_merges_equal_library=True,
    vocabulary_size=tok.vocabulary_size,
)
