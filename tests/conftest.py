"""Shared fixtures: the two sandbox servers, started once per test session on free 127.0.0.1 ports
and reset to their seeded state before every test that uses them."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from sandbox.http import RunningServer


@dataclass
class LiveSandbox:
    """A sandbox application object and the server that serves it."""

    app: Any  # NetSuiteSandbox or JaggaerSandbox: their Python control API
    server: RunningServer

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="session")
def netsuite_server() -> Iterator[LiveSandbox]:
    from sandbox.netsuite.app import NetSuiteSandbox

    app = NetSuiteSandbox()
    server = RunningServer(app.wsgi_app())
    yield LiveSandbox(app=app, server=server)
    server.stop()


@pytest.fixture
def netsuite(netsuite_server: LiveSandbox) -> LiveSandbox:
    netsuite_server.app.reset()
    return netsuite_server


@pytest.fixture(scope="session")
def jaggaer_server() -> Iterator[LiveSandbox]:
    from sandbox.jaggaer.app import JaggaerSandbox

    app = JaggaerSandbox()
    server = RunningServer(app.wsgi_app())
    yield LiveSandbox(app=app, server=server)
    server.stop()


@pytest.fixture
def jaggaer(jaggaer_server: LiveSandbox) -> LiveSandbox:
    jaggaer_server.app.reset()
    return jaggaer_server
