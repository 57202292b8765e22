"""refnn.export."""
