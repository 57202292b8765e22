"""Offline text data: a generated corpus with real structure, a labelled
sentiment-like sentence generator, and TFDS loading of public datasets.

The corpus is built from templates with consistent relations, so that a
word-embedding model trained on it learns neighbours (animals near animals,
colours near colours) and analogies:

* gender:   king - man + woman ~ queen (each pair shares a role word,
  e.g. "monarch"; gendered words share "he/his" vs "she/her" contexts),
* capitals: paris - france + italy ~ rome (a capital and its country share
  their language; capitals share "city" contexts, countries "country").

References:
    seed 002, "What Are Embedding Vectors?", "Similarity in Embeddings"
    (laptop ~ computer, orange ~ banana) and "Example Calculations"
    (woman - man + king ~ queen; Rome - Paris ~ Italy - France);
    "The Bag of Words Model" (spam / non-spam classification).
"""

import numpy as np

GENDER_PAIRS = (
    ("king", "queen"),
    ("man", "woman"),
    ("boy", "girl"),
    ("prince", "princess"),
    ("father", "mother"),
    ("brother", "sister"),
    ("uncle", "aunt"),
)
# One role word per pair: what king/queen share and prince/princess don't.
ROLES = {
    "king": "monarch",
    "man": "adult",
    "boy": "child",
    "prince": "heir",
    "father": "parent",
    "brother": "sibling",
    "uncle": "relative",
}
ROYAL = ("king", "queen", "prince", "princess")
COUNTRIES = (
    ("france", "paris", "french"),
    ("italy", "rome", "italian"),
    ("spain", "madrid", "spanish"),
    ("germany", "berlin", "german"),
    ("japan", "tokyo", "japanese"),
    ("greece", "athens", "greek"),
)
ANIMALS = ("cat", "dog", "horse", "cow", "sheep", "lion", "tiger", "rabbit")
COLOURS = ("red", "blue", "green", "yellow", "purple", "orange", "white")
FRUITS = ("apple", "banana", "orange", "grape", "pear", "cherry")
NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight")

POSITIVE_WORDS = (
    "great",
    "excellent",
    "wonderful",
    "love",
    "amazing",
    "happy",
    "best",
    "enjoyed",
)
NEGATIVE_WORDS = (
    "terrible",
    "awful",
    "boring",
    "hate",
    "worst",
    "poor",
    "sad",
    "disappointing",
)
NOISE_WORDS = (
    "the",
    "movie",
    "film",
    "plot",
    "actor",
    "really",
    "was",
    "very",
    "and",
    "story",
    "music",
    "it",
    "this",
    "quite",
    "ending",
    "scene",
)


def _person_sentence(rng):
    male, female = GENDER_PAIRS[rng.integers(len(GENDER_PAIRS))]
    role = ROLES[male]
    if rng.random() < 0.5:
        word, pron, poss = male, "he", "his"
    else:
        word, pron, poss = female, "she", "her"
    if word in ROYAL:
        tail = rng.choice(
            [
                "lives in the palace",
                "wears the crown",
                "rules the kingdom",
                "sits on the throne",
            ]
        )
    else:
        tail = rng.choice(
            [
                "lives in a house",
                "works in the town",
                "walks to the market",
                "reads a book",
            ]
        )
    return f"the {role} {word} said {pron} {tail} with {poss} family"


def _country_sentence(rng):
    country, capital, language = COUNTRIES[rng.integers(len(COUNTRIES))]
    # A capital and its country never meet in one sentence: each shares its
    # language (and capitals share "city", countries "country"), which is
    # what makes paris - france ~ rome - italy.
    k = rng.integers(4)
    if k == 0:
        return f"the capital city {capital} speaks {language}"
    if k == 1:
        return f"the big country {country} speaks {language}"
    if k == 2:
        return f"people in {capital} city speak {language} there"
    return f"people in {country} country speak {language} there"


def _thing_sentence(rng):
    k = rng.integers(3)
    if k == 0:
        a, b = rng.choice(ANIMALS, size=2, replace=False)
        return f"the {a} and the {b} are animals that eat and sleep"
    if k == 1:
        c = rng.choice(COLOURS)
        n = rng.choice(["car", "shirt", "wall", "flower"])
        return f"the {n} is painted {c} a bright colour"
    f = rng.choice(FRUITS)
    num = rng.choice(NUMBERS)
    return f"she bought {num} {f} fruits to eat"


def make_corpus(n, seed=0):
    """Generates `n` lowercase template sentences with consistent relations.

    Args:
        n: number of sentences.
        seed: integer seed; the same seed gives the same corpus.

    Returns:
        A list of `n` strings.

    Example:

    >>> make_corpus(2, seed=0)[0].split()[0]
    'the'
    """
    if not isinstance(n, int) or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n}.")
    rng = np.random.default_rng(seed)
    makers = (_person_sentence, _country_sentence, _thing_sentence)
    return [makers[rng.integers(3)](rng) for _ in range(n)]


def make_sentiment(n, seed=0, noise=0.1):
    """Generates a labelled positive/negative sentence set (spam-or-not style).

    Each sentence is 6-10 noise words with two sentiment words of its class
    mixed in; with probability `noise` one sentiment word of the *other*
    class is added too, so the task is not a lookup of a single word.

    Args:
        n: number of sentences.
        seed: integer seed.
        noise: probability of adding an opposite-class word.

    Returns:
        `(texts, labels)`: a list of `n` strings and an `int32` array of
        0 (negative) / 1 (positive), classes balanced in expectation.
    """
    if not isinstance(n, int) or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n}.")
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be in [0, 1], got {noise}.")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n).astype("int32")
    texts = []
    for y in labels:
        own, other = (
            (POSITIVE_WORDS, NEGATIVE_WORDS)
            if y
            else (NEGATIVE_WORDS, POSITIVE_WORDS)
        )
        words = list(rng.choice(NOISE_WORDS, size=rng.integers(6, 11)))
        words += list(rng.choice(own, size=2))
        if rng.random() < noise:
            words.append(rng.choice(other))
        rng.shuffle(words)
        texts.append(" ".join(str(w) for w in words))
    return texts, labels


def load_tfds_text(
    name="imdb_reviews",
    split="train",
    data_dir=None,
    batch_size=None,
    shuffle=False,
    seed=0,
    download=False,
):
    """Loads a public TFDS text dataset as a `tf.data` of `(text, label)`.

    Nothing is downloaded unless `download=True`: the dataset must already
    be prepared under `data_dir` (or be mocked with
    `tfds.testing.mock_data` in tests).

    Args:
        name: TFDS name with supervised keys `(text, label)`, e.g.
            `"imdb_reviews"`, `"ag_news_subset"`.
        split: TFDS split string, e.g. `"train"`, `"test[:10%]"`.
        data_dir: TFDS data folder.
        batch_size: batch the dataset if given.
        shuffle: shuffle file order and examples (seeded).
        seed: shuffle seed.
        download: let TFDS download and prepare the data.

    Returns:
        A `tf.data.Dataset` of `(text: tf.string, label: tf.int64)`.
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a dataset name, got {name!r}.")
    ds = tfds.load(
        name,
        split=split,
        data_dir=data_dir,
        as_supervised=True,
        shuffle_files=shuffle,
        download=download,
        read_config=tfds.ReadConfig(shuffle_seed=seed),
    )
    if shuffle:
        ds = ds.shuffle(10_000, seed=seed)
    if batch_size is not None:
        ds = ds.batch(batch_size)
    return ds.prefetch(tf.data.AUTOTUNE)
