"""refnn.text."""
