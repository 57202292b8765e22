"""refnn.models."""

from refnn.models.char_language_model import CharLanguageModel
from refnn.models.logistic_regression import LogisticRegression
from refnn.models.mlp import MLP
from refnn.models.perceptron import Perceptron
from refnn.models.rnn_classifier import RNNClassifier
from refnn.models.seq2seq import Seq2Seq
