"""The sync tests' connection pair against the two sandboxes, for the hostile answers tests."""

from tests.sync.conftest import jaggaer_transport, pair  # noqa: F401 - fixtures, found by pytest under these names
