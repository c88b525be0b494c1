"""The sync tests' connection pair against the two sandboxes, for the hostile answers tests."""

from tests.sync.conftest import pair  # noqa: F401 - a fixture, found by pytest under this name
