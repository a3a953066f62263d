"""`tipline bench api` for real: a server it starts itself, and servers that do not answer."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..processes import free_port, instance_env

pytestmark = pytest.mark.slow

if os.environ.get("TIPLINE_DATABASE_URL", "").startswith("postgres"):
    pytest.skip(
        "the benchmark runs on its own fresh SQLite data dir; once per suite is enough",
        allow_module_level=True,
    )


def bench_api(*args: str, root: Path) -> dict:
    """Run the command as a user would; it must end by itself well within the timeout."""
    done = subprocess.run(
        [sys.executable, "-m", "tipline.cli", "bench", "api", "--json", *args],
        env=instance_env(root),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_short_load_on_its_own_server_stores_every_report_it_sent(tmp_path: Path) -> None:
    result = bench_api("--rate", "20", "--seconds", "2", root=tmp_path)
    assert result["requests"] == result["sent"] == 40 and result["not_sent"] == 0
    assert result["ok"] == 40 and result["statuses"] == {"201": 40}
    assert result["errors"] == 0 and result["failures"] == {} and result["stopped"] == ""
    assert result["stored"] == 40, "a report acknowledged by the server was not stored"
    assert 0 < result["latency_p50_ms"] <= result["latency_p90_ms"] <= result["latency_p99_ms"]
    assert result["latency_p99_ms"] <= result["latency_max_ms"]
    assert 15 <= result["rate_achieved"] <= 25
    assert result["drain_s"] is not None, "the server's worker did not orient the reports"
    assert 0 <= result["client_cpu_share"] < 1
    assert result["benchmark"] == "api" and result["database"] == "sqlite"


def test_nothing_listening_stops_the_load_after_failures_in_a_row(tmp_path: Path) -> None:
    dead = free_port()  # nothing listens there
    result = bench_api(
        "--rate", "20", "--seconds", "2", "--give-up-after", "10",
        "--url", f"http://127.0.0.1:{dead}", "--token", "tpl_x",
        root=tmp_path,
    )  # fmt: skip
    assert result["ok"] == 0 and result["latency_p50_ms"] is None
    assert result["errors"] == result["sent"] == result["failures"]["refused"]
    assert 10 <= result["sent"] < 40 and result["sent"] + result["not_sent"] == 40
    assert "10 requests in a row failed" in result["stopped"]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:  # closed at the end of the test
                return

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for conn in held:
        conn.close()


def test_a_server_that_never_answers_is_given_up_on_at_the_deadline(
    tmp_path: Path, silent_server: int
) -> None:
    result = bench_api(
        "--rate", "20", "--seconds", "2", "--max-in-flight", "5", "--timeout", "60",
        "--deadline", "2", "--url", f"http://127.0.0.1:{silent_server}", "--token", "tpl_x",
        root=tmp_path,
    )  # fmt: skip
    # Five requests wait for an answer; the rest cannot be sent; all stop at 2 s + 2 s.
    assert result["sent"] == 5 and result["not_sent"] == 35
    assert result["failures"] == {"unanswered_at_deadline": 5} and result["errors"] == 5
    assert "deadline" in result["stopped"]
    assert result["seconds"] < 6
