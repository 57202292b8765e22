"""refnn.data."""
