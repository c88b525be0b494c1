"""The chaos soak's marker: it runs with the rest of the suite and is left out with `-m "not chaos"`."""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Registered here rather than in pyproject.toml, beside the only tests that carry it.
    config.addinivalue_line("markers", "chaos: the chaos soak (tests/chaos); deselect with -m 'not chaos'")
