"""refnn.models."""
