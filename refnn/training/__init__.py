"""refnn.training."""
