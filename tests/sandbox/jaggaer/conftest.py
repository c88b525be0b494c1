"""An authenticated J1P client for the JAGGAER sandbox tests."""

import pytest

from tests.sandbox.jaggaer.builders import J1pClient


@pytest.fixture
def api(jaggaer) -> J1pClient:
    return J1pClient(jaggaer.url, jaggaer.app.issue_access_token())
