"""
Title: Word embeddings with skip-gram: neighbours, analogies, a 2-D map
Description: Learn word vectors on a generated corpus with skip-gram and
    negative sampling, find nearest neighbours by cosine and dot product,
    solve analogies (king - man + woman ~ queen, paris - france + italy ~
    rome) and draw a PCA projection of the embedding space.
Seed section: 002 "Understanding Embedding Vectors in Machine Learning"
    (Word2Vec skip-gram, self-supervised learning, PCA visualisation, analogy
    testing), "What Are Embedding Vectors?" (similarity, dot product, example
    calculations).
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

import refnn.tutorials  # noqa: E402
from refnn.data.text import (  # noqa: E402
    ANIMALS,
    COLOURS,
    COUNTRIES,
    FRUITS,
    GENDER_PAIRS,
    make_corpus,
)
from refnn.export import check_parity, export_savedmodel  # noqa: E402
from refnn.text import (  # noqa: E402
    SkipGram,
    WordTokenizer,
    analogy,
    analogy_accuracy,
    nearest_neighbours,
    skipgram_pairs,
)

"""
## A corpus with structure

`make_corpus` writes template sentences with consistent relations: animals
eat and sleep, colours paint things, each king/queen pair shares a role word
and he/his or she/her, each capital and its country share their language.
Nothing tells the model these facts; it only sees which words occur near
which.
"""


args = refnn.tutorials.parse_args("09_embeddings")
keras.utils.set_random_seed(0)
corpus = make_corpus(600 if args.quick else 2000, seed=0)
print("\n".join(corpus[:4]))
tok = WordTokenizer.from_corpus(corpus)
vocab = tok.vocabulary

"""
## Skip-gram with negative sampling

For every word and every neighbour within two positions, the model
should score the true (word, context) pair high and four random words
(drawn from the unigram distribution to the power 3/4) low. The score
is a dot product `v_w · u_c` of two embeddings and the loss is the
logistic loss on it; the word vectors `v` are what we keep.
"""
targets, contexts, labels = skipgram_pairs(
    [tok.tokenize(s) for s in corpus],
    tok.vocabulary_size,
    window_size=2,
    num_negatives=4,
    seed=0,
    ignore_ids=range(5),  # special tokens
)
print(f"{len(targets)} training examples, vocabulary {len(vocab)}")
model = SkipGram(tok.vocabulary_size, embedding_dim=32)
model.compile(
    keras.optimizers.Adam(0.01),
    keras.losses.BinaryCrossentropy(from_logits=True),
)
model.fit(
    {"target": targets, "context": contexts},
    labels,
    epochs=3 if args.quick else 5,
    batch_size=512,
    verbose=0,
    callbacks=[refnn.tutorials.progress()],
)
emb = keras.ops.convert_to_numpy(model.embeddings)
specials = vocab[:5]

"""
## Nearest neighbours

Cosine similarity `a·b / (|a||b|)` compares directions: words used in
the same contexts end up close (cat ~ horse, red ~ blue). The plain dot
product (the seed's similarity) also grows with the vectors' lengths,
so frequent context words with long vectors ("said", "city") creep into
its list; that is why embeddings are usually normalised first.
"""
for word in ("cat", "red", "paris", "apple", "king"):
    cos = nearest_neighbours(word, emb, vocab, k=4, exclude=specials)
    dot = nearest_neighbours(
        word, emb, vocab, k=4, metric="dot", exclude=specials
    )
    cos, dot = [w for w, _ in cos], [w for w, _ in dot]
    print(f"{word:>6}  cosine: {cos}  dot: {dot}")

"""
## Analogies

`analogy(a, b, c)` returns the word closest to `v(a) - v(b) + v(c)`:
"king - man + woman" should be "queen", "paris - france + italy"
should be "rome". We score every ordered pair of pairs.
"""
print("king - man + woman ~", analogy("king", "man", "woman", emb, vocab, k=3))
print(
    "paris - france + italy ~",
    analogy("paris", "france", "italy", emb, vocab, k=3),
)
gender = [
    (f1, m1, m2, f2)
    for m1, f1 in GENDER_PAIRS
    for m2, f2 in GENDER_PAIRS
    if m1 != m2
]
capitals = [
    (p1, c1, c2, p2)
    for c1, p1, _ in COUNTRIES
    for c2, p2, _ in COUNTRIES
    if c1 != c2
]
gender_acc = analogy_accuracy(gender, emb, vocab, exclude=specials)
capital_acc = analogy_accuracy(capitals, emb, vocab, exclude=specials)
print(f"analogy accuracy: gender {gender_acc:.2f}, capitals {capital_acc:.2f}")

"""
## A 2-D map (PCA)

The vectors have 32 dimensions; the first two principal components
(an SVD of the centred matrix) show the clusters.
"""
groups = {
    "animals": ANIMALS,
    "colours": COLOURS,
    "fruits": tuple(f for f in FRUITS if f != "orange"),
    "capitals": tuple(c[1] for c in COUNTRIES),
    "countries": tuple(c[0] for c in COUNTRIES),
    "people": tuple(w for pair in GENDER_PAIRS for w in pair),
}
words = [w for g in groups.values() for w in g]
matrix = emb[[tok.token_to_id(w) for w in words]]
centred = matrix - matrix.mean(axis=0)
_, _, vt = np.linalg.svd(centred, full_matrices=False)
xy = centred @ vt[:2].T
fig, ax = plt.subplots(figsize=(7, 6))
start = 0
for name, members in groups.items():
    pts = xy[start : start + len(members)]
    ax.scatter(pts[:, 0], pts[:, 1], label=name)
    for (x, y), w in zip(pts, members):
        ax.annotate(w, (x, y), fontsize=7)
    start += len(members)
ax.legend()
ax.set_title("Skip-gram word vectors, first two principal components")
fig.tight_layout()
fig.savefig(args.out / "embeddings_pca.png", dpi=100)
plt.close(fig)

"""
## Export

The served function maps token ids to their vectors (a lookup service
for downstream models).
"""
path = export_savedmodel(
    model, "09_embeddings_skipgram", base_dir=args.savedmodels
)
print("exported to", path)
if not args.quick:
    ids = np.array([tok.token_to_id(w) for w in ("king", "queen")], "int32")
    check_parity(path, {"token_ids": ids}, {"embeddings": emb[ids]})
    print("reload checked in plain TensorFlow")

animals = {w for w, _ in nearest_neighbours("cat", emb, vocab, k=3)}
assert animals <= set(ANIMALS), f"cat's neighbours should be animals: {animals}"
if not args.quick:
    assert gender_acc >= 0.8 and capital_acc >= 0.8, (
        "the embeddings should solve the analogies: gender "
        f"{gender_acc:.2f}, capitals {capital_acc:.2f}"
    )
print("plots written to", args.out)
refnn.tutorials.report(
    model="SkipGram",
    dataset="generated_corpus",
    metric="analogy_accuracy",
    value=(gender_acc + capital_acc) / 2,
    export=path,
    gender_analogy_accuracy=gender_acc,
    capital_analogy_accuracy=capital_acc,
)
