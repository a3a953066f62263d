"""2 GB bodies sent over a real socket to a real `tipline serve`: refused with 413 long
before they are read, whether they announce their length or come chunked, and the
server's memory stays where it was.

Two guards refuse them. waitress refuses any body over the largest limit (the bulk one, 64
MiB, plus 1 MiB) from its Content-Length header, and stops reading a chunked one there;
under that, Tipline's middleware refuses what is over the route's own limit with its own
message (README, "Limits"). Neither holds a body in memory: waitress spools bodies past
512 KiB to a temporary file."""

from __future__ import annotations

import os
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ..conftest import start_tipline, wait_for
from ..processes import free_port, tipline

pytestmark = pytest.mark.slow

if os.environ.get("TIPLINE_DATABASE_URL", "").startswith("postgres"):
    pytest.skip(
        "runs on its own fresh SQLite data dir; the database plays no part",
        allow_module_level=True,
    )

GIB = 1 << 30
MIB = 1 << 20
CHUNK = b"\0" * MIB


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int, str]]:
    """(port, pid, provider token) of a `tipline serve` on its own data dir."""
    root = tmp_path_factory.mktemp("big-bodies")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(TIPLINE_DATA_DIR=str(root), TIPLINE_ANALYZE_NETWORK="off")
    tipline("setup", env=env)
    token = tipline("providers", "add", "Example Platform", env=env).splitlines()[-1]
    port = free_port()
    process = start_tipline("serve", "--port", str(port), env=env, log=root / "serve.log")
    try:
        wait_for(lambda: _answers(port), 60, "the server")
        yield port, process.pid, token
    finally:
        process.kill()
        process.wait(10)


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def memory_kib(pid: int) -> dict[str, int]:
    """The process's resident memory now (VmRSS) and at its peak (VmHWM), in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def send_streaming(
    port: int, head: bytes, body: Iterator[bytes], timeout: float = 120
) -> tuple[int, bytes, int]:
    """Send the request head, then the body from the generator, until the server answers;
    return (status, answer, body bytes sent before the answer came)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, MIB)
    sock.sendall(head)
    sent, pending, answer = 0, memoryview(b""), b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 1)
            if readable:
                break
            if writable:
                if not pending:
                    chunk = next(body, None)
                    if chunk is None:
                        break
                    pending = memoryview(chunk)
                try:
                    n = sock.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += n
                pending = pending[n:]
        sock.settimeout(10)
        while True:
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not data:
                break
            answer += data
            if b"\r\n\r\n" in answer and _complete(answer):
                break
    finally:
        sock.close()
    assert answer, f"no answer after {sent} bytes"
    status = int(answer.split(b" ", 2)[1])
    return status, answer, sent


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def zeros(total: int) -> Iterator[bytes]:
    for _ in range(total // MIB):
        yield CHUNK


def chunked(total: int) -> Iterator[bytes]:
    """The same bytes in HTTP/1.1 chunked encoding."""
    for chunk in zeros(total):
        yield b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    yield b"0\r\n\r\n"


def head(path: str, token: str, extra: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\n{extra}\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("path", "framing"),
    [
        ("/api/v1/reports", "length"),
        ("/api/v1/reports/bulk", "length"),
        ("/report/", "length"),
        ("/api/v1/reports", "chunked"),
        ("/api/v1/reports/bulk", "chunked"),
    ],
)
def test_a_2_gb_body_is_refused_early_and_memory_stays_flat(
    server: tuple[int, int, str], path: str, framing: str
) -> None:
    port, pid, token = server
    before = memory_kib(pid)
    if framing == "length":
        status, answer, sent = send_streaming(
            port, head(path, token, f"Content-Length: {2 * GIB}\r\n"), zeros(2 * GIB)
        )
        assert sent < 64 * MIB, f"{sent} bytes went out before the refusal"
    else:
        status, answer, sent = send_streaming(
            port, head(path, token, "Transfer-Encoding: chunked\r\n"), chunked(2 * GIB)
        )
        # Read up to the largest limit (65 MiB), and not much further.
        assert sent < 200 * MIB, f"{sent} bytes went out before the refusal"
    after = memory_kib(pid)
    assert status == 413, answer[:500]
    assert b"Request Entity Too Large" in answer
    grown = {k: (after[k] - before[k]) / 1024 for k in after}
    print(f"{path} {framing}: {sent / MIB:.1f} MiB sent, memory grew by {grown} MiB")
    assert grown["VmRSS"] < 100 and grown["VmHWM"] < 100, grown
    assert _answers(port)  # and the server still serves


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_a_body_over_the_route_limit_gets_tiplines_own_refusal(
    server: tuple[int, int, str], framing: str
) -> None:
    """40 MiB to the one-report route (32 MiB): under waitress's limit, so it reaches the
    middleware, which refuses it from its length (waitress gives a chunked body's length
    once it has it) with the limit in words, as JSON for the API."""
    port, pid, token = server
    before = memory_kib(pid)
    if framing == "length":
        extra, body = f"Content-Length: {40 * MIB}\r\n", zeros(40 * MIB)
    else:
        extra, body = "Transfer-Encoding: chunked\r\n", chunked(40 * MIB)
    status, answer, _ = send_streaming(port, head("/api/v1/reports", token, extra), body)
    after = memory_kib(pid)
    assert status == 413, answer[:500]
    assert b"application/json" in answer
    assert b"the limit on /api/v1/reports is 33554432 bytes" in answer
    assert (after["VmHWM"] - before["VmHWM"]) / 1024 < 100
