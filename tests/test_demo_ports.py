"""scripts/demo as someone runs it: on the ports DEMO_NETSUITE_PORT, DEMO_JAGGAER_PORT and DEMO_WEB_PORT name,
refusing at once a port that something else holds, and printing where to look after the servers' start-up lines.

Each test runs the real script in its own process group on 127.0.0.1, with its own SQLite database and lock
folder; the demo still writes its connection files (and, once, its admin password) into .local/."""

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.processes import accepting, wait_for
from tests.test_deployment import free_port

ROOT = Path(__file__).resolve().parent.parent
PORT_VARIABLES = {"DEMO_NETSUITE_PORT": "NetSuite sandbox", "DEMO_JAGGAER_PORT": "JAGGAER sandbox", "DEMO_WEB_PORT": "admin"}


def demo_environment(tmp_path: Path, ports: dict[str, int]) -> dict[str, str]:
    """The embedded defaults (SQLite, the ORM broker) in this test's folder, on `ports`."""
    environment = {name: value for name, value in os.environ.items() if name != "Q_BROKER"}
    return {**environment, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "SYNC_LOCK_DIR": str(tmp_path / "locks"),
            **{variable: str(port) for variable, port in ports.items()}}


def group_is_gone(leader: int) -> bool:
    try:
        os.killpg(leader, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def running_demo(tmp_path: Path) -> Iterator[tuple[dict[str, int], Path]]:
    """scripts/demo started on free ports, in its own process group; its ports and the file its output goes to.
    Stopped as Ctrl-C stops it, SIGINT to the whole group: a SIGTERM to the whole group (`kill -- -GROUP`) reaches
    every process of django-q2's cluster at once, which leaves the cluster's main process hung."""
    ports = {variable: free_port() for variable in PORT_VARIABLES}
    output = tmp_path / "demo.log"
    demo = subprocess.Popen([str(ROOT / "scripts" / "demo")], cwd=ROOT, env=demo_environment(tmp_path, ports),
                            stdout=output.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield ports, output
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        try:
            demo.wait(timeout=30)
            wait_for(lambda: group_is_gone(demo.pid), seconds=15, what="the demo's servers and worker to stop")
        finally:
            if not group_is_gone(demo.pid):
                os.killpg(demo.pid, signal.SIGKILL)
    assert not any(accepting(port) for port in ports.values()), output.read_text()[-3000:]


@pytest.mark.parametrize("taken", PORT_VARIABLES)
def test_a_port_already_taken_stops_the_demo_at_once_naming_the_port_and_its_variable(tmp_path: Path, taken: str) -> None:
    ports = {variable: free_port() for variable in PORT_VARIABLES}
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports[taken]))
        holder.listen()

        result = subprocess.run([str(ROOT / "scripts" / "demo")], cwd=ROOT, env=demo_environment(tmp_path, ports),
                                capture_output=True, text=True, timeout=20, start_new_session=True)
        others_listening = [port for variable, port in ports.items() if variable != taken and accepting(port)]

    assert result.returncode != 0
    assert f"127.0.0.1:{ports[taken]}" in result.stderr
    assert taken in result.stderr and PORT_VARIABLES[taken] in result.stderr
    # Nothing started, and the database was neither replaced nor created.
    assert result.stdout == ""
    assert others_listening == []
    assert not (tmp_path / "demo.sqlite3").exists()


def test_the_demo_runs_on_the_ports_given_and_prints_where_to_look_after_the_servers_start_up_lines(
        running_demo: tuple[dict[str, int], Path]) -> None:
    ports, output = running_demo
    admin = f"http://127.0.0.1:{ports['DEMO_WEB_PORT']}"
    wait_for(lambda: "(Ctrl-C stops everything)" in output.read_text(), seconds=90,
             what=f"the demo's look-here lines (output: {output.read_text()[-3000:]})")
    started = output.read_text().splitlines()

    login = requests.get(f"{admin}/admin/login/", timeout=10)
    stylesheet = requests.get(f"{admin}/static/admin/css/base.css", timeout=10)
    requests.get(f"{admin}/admin/login/?after=stylesheet", timeout=10)
    wait_for(lambda: "/admin/login/?after=stylesheet" in output.read_text(), seconds=10,
             what=f"the admin's request lines (output: {output.read_text()[-3000:]})")

    look_here = next(number for number, line in enumerate(started) if line.startswith("Look here:"))
    start_up = [number for number, line in enumerate(started)
                if any(mark in line for mark in ("Starting development server", "WARNING: This is a development server",
                                                 "ready for work", "Q Cluster"))]
    assert len(start_up) >= 4 and max(start_up) < look_here, "\n".join(started)
    assert len(started) == look_here + 4, "\n".join(started)  # the look-here lines are the last
    assert started[look_here].startswith(f"Look here: {admin}/admin/  user: admin  password: ")
    assert f"NetSuite http://127.0.0.1:{ports['DEMO_NETSUITE_PORT']}" in started[-1]
    assert f"JAGGAER http://127.0.0.1:{ports['DEMO_JAGGAER_PORT']}" in started[-1]
    # A real first sync through the sandboxes on their ports.
    assert "sandbox-netsuite (NetSuite): obtained an access token" in "\n".join(started)
    assert "Purchase orders: read 200" in "\n".join(started) and "could not run" not in "\n".join(started)
    assert login.status_code == 200 and "csrfmiddlewaretoken" in login.text
    assert stylesheet.status_code == 200
    shown = output.read_text()
    assert '"GET /admin/login/ HTTP/1.1" 200' in shown and "/static/" not in shown
