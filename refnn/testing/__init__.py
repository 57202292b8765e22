"""refnn.testing."""
