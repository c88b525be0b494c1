"""Shared fixtures: the two sandbox servers, started once per test session on free 127.0.0.1 ports
and reset to their seeded state before every test that uses them."""

import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from sandbox.http import RunningServer
from tests.processes import accepting, wait_for


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


CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
]
@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: accepting(port), seconds=10, what="redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)
