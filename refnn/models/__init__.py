"""refnn.models."""

from refnn.models.logistic_regression import LogisticRegression
from refnn.models.mlp import MLP
from refnn.models.perceptron import Perceptron
