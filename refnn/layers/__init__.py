"""refnn.layers."""

from refnn.layers.attention import masked_softmax, scaled_dot_product_attention
from refnn.layers.dropout import Dropout
from refnn.layers.gru import GRU
from refnn.layers.gru_cell import GRUCell
from refnn.layers.lstm import LSTM
from refnn.layers.lstm_cell import LSTMCell
from refnn.layers.masks import (
    causal_mask,
    compute_causal_mask,
    merge_padding_and_attention_mask,
    padding_mask,
)
from refnn.layers.multi_head_attention import MultiHeadAttention
from refnn.layers.position_embedding import PositionEmbedding
from refnn.layers.simple_rnn import SimpleRNN
from refnn.layers.simple_rnn_cell import SimpleRNNCell
from refnn.layers.sine_positional_encoding import SinePositionalEncoding
from refnn.layers.token_and_position_embedding import TokenAndPositionEmbedding
from refnn.layers.transformer_decoder_layer import TransformerDecoderLayer
from refnn.layers.transformer_encoder_layer import TransformerEncoderLayer
