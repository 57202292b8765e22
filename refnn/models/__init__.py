"""refnn.models."""

from refnn.models.bert_classifier import BertClassifier
from refnn.models.bert_encoder import BertEncoder
from refnn.models.bert_masked_lm import BertMaskedLM
from refnn.models.bert_masking import mask_tokens
from refnn.models.char_language_model import CharLanguageModel
from refnn.models.gpt import GPT
from refnn.models.logistic_regression import LogisticRegression
from refnn.models.mlp import MLP
from refnn.models.perceptron import Perceptron
from refnn.models.rnn_classifier import RNNClassifier
from refnn.models.seq2seq import Seq2Seq
from refnn.models.transformer import Transformer
