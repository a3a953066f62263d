"""Real Tipline processes for tests: a fresh instance's environment, `tipline <command>`,
`tipline serve` for the length of a block, and the workers a server started. A plain
module (not a test module), so tests on either database can use it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from .conftest import start_tipline, wait_for


def tipline(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tipline.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def instance_env(root: Path) -> dict[str, str]:
    """A new instance's environment: its own SQLite data dir under `root`, none of this
    test run's TIPLINE_* settings, and no lookup that would reach the internet."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(
        TIPLINE_DATA_DIR=str(root), TIPLINE_ANALYZE_NETWORK="off", TIPLINE_WORKER_POLL_S="0.2"
    )
    return env


@contextmanager
def serving(env: dict[str, str], root: Path) -> Iterator[str]:
    """`tipline serve` on a free port, with a worker alive, until the block ends (its base
    URL is yielded); stopped with SIGTERM, and its log must hold no traceback."""
    port = free_port()
    process = start_tipline("serve", "--port", str(port), env=env, log=root / "serve.log")
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return bool(httpx.get(f"{base}/healthz").json()["workers"]["alive"] >= 1)
        except (httpx.HTTPError, ValueError, KeyError):
            return False

    try:
        wait_for(up, 60, "the server")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
    assert "Traceback" not in (root / "serve.log").read_text()


def children_of(pid: int) -> list[int]:
    """Live processes started with --parent-pid pid (the embedded workers)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--parent-pid" in cmdline and str(pid).encode() in cmdline:
            found.append(int(proc.name))
    return found
