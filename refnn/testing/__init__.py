"""refnn.testing."""

from refnn.testing.test_case import TestCase

__all__ = ["TestCase"]
