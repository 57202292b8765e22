"""refnn.layers."""
