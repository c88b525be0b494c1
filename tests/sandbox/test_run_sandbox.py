"""`manage.py run_sandbox` with the latency and limit flags (issue 10), as the benchmarks start it: in its own
process, on free ports, writing the connection files that say where it listens."""

import json
import subprocess
import sys
from pathlib import Path

import requests

from tests.processes import wait_for

ROOT = Path(__file__).resolve().parents[2]


def written(path: Path) -> dict | None:
    """The JSON file once it is there whole."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def test_run_sandbox_serves_with_the_latency_and_limits_it_was_given(tmp_path: Path) -> None:
    command = [sys.executable, "manage.py", "run_sandbox", "--netsuite-port", "0", "--jaggaer-port", "0",
               "--vendors", "2", "--purchase-orders", "3", "--netsuite-latency", "0.15", "--netsuite-concurrency", "3",
               "--jaggaer-latency", "0.1", "--jaggaer-in-flight", "2", "--jaggaer-rate", "100",
               "--write-connections", str(tmp_path)]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: written(tmp_path / "jaggaer.json") or server.poll() is not None, seconds=60,
                 what="the sandboxes' connection files")
        assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
        netsuite, jaggaer = written(tmp_path / "netsuite.json"), written(tmp_path / "jaggaer.json")
        netsuite_stats = requests.get(f"{netsuite['base_url']}/_sandbox/stats", timeout=10).json()
        jaggaer_stats = requests.get(f"{jaggaer['base_url']}/_sandbox/stats", timeout=10).json()
    finally:
        server.terminate()
        server.wait(timeout=15)

    assert netsuite["concurrency_limit"] == 3
    assert (netsuite_stats["latency"], netsuite_stats["concurrency_limit"]) == (0.15, 3)
    assert (jaggaer_stats["latency"], jaggaer_stats["max_in_flight"], jaggaer_stats["rate_per_second"]) == (0.1, 2, 100)


def test_run_sandbox_refuses_a_latency_out_of_range() -> None:
    answer = subprocess.run([sys.executable, "manage.py", "run_sandbox", "--netsuite-latency", "45"], cwd=ROOT,
                            capture_output=True, timeout=60)

    assert answer.returncode != 0
    assert b"latency must be between 0 and 30 seconds" in answer.stderr
