"""`tipline bench api`: a bounded, open-loop load of single reports on a running server.

Request i is due at t0 + i/rate whatever happened to the ones before, and its latency is
counted from that due time, so a server that stalls shows in the figures instead of
quietly slowing the load down ("coordinated omission"). The load stops by itself: a fixed
number of requests, a cap on those in flight, and a hard deadline after which whatever
was not sent is counted as such.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings
from django.db import connection

from tipline.intake import services
from tipline.intake.choices import ReportState
from tipline.intake.models import Report
from tipline.ops.synthetic import synthetic_report

REPORTS_PATH = "/api/v1/reports"
SERVER_START_S = 90.0
# With --url the workers' progress is read through the API, on the last reports sent.
API_CHECKED = 100
WARM_UP = 10


@dataclass
class Load:
    """What one run of the load saw."""

    planned: int
    sent: int = 0
    latencies_ms: list[float] = field(default_factory=list)  # requests that were answered
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # no answer, by cause
    created: list[int] = field(default_factory=list)
    sending_s: float = 0.0  # from the first request due to the last one sent
    wall_s: float = 0.0
    cpu_s: float = 0.0
    stopped: str = ""


def run(
    *,
    rate: float,
    seconds: float,
    url: str | None,
    token: str | None,
    max_in_flight: int,
    timeout: float,
    deadline: float,
    give_up_after: int,
    drain: float,
    seed: int,
    workers: int = 1,
) -> dict[str, Any]:
    """Drive `url` (or a `tipline serve` started here on the bench's own data dir)."""
    if rate <= 0 or seconds <= 0 or max_in_flight < 1:
        raise ValueError("--rate, --seconds and --max-in-flight must be positive")
    if url and not token:
        raise ValueError("--url needs --token (a provider token of that server)")
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
    count = math.ceil(rate * seconds)
    # Built before the clock starts: the client's own work is kept out of the figures.
    run_tag = f"bench-{time.time_ns():x}"  # new external ids, also on a server run before
    bodies = [
        json.dumps({**synthetic_report(n, rng), "external_id": f"{run_tag}-{n}"}).encode()
        for n in range(count)
    ]
    load_before = os.getloadavg()[0]
    # httpx logs every request at INFO: that is the client's work, not the server's.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with _server(url, token, workers) as (base, auth, server_pid):
        _warm_up(base, auth, rng, run_tag)
        server_cpu = _cpu_seconds(server_pid)
        load = asyncio.run(
            _drive(
                base,
                auth,
                bodies,
                rate=rate,
                max_in_flight=max_in_flight,
                timeout=timeout,
                hard_stop_s=seconds + deadline,
                give_up_after=give_up_after,
            )
        )
        server_cpu = _cpu_seconds(server_pid) - server_cpu
        backlog = _backlog(base, auth, load.created, own=url is None, drain=drain, tag=run_tag)
    answered = sorted(load.latencies_ms)
    ok = sum(n for code, n in load.statuses.items() if 200 <= code < 300)
    return {
        "server": url or f"tipline serve --workers {workers}, started for the run",
        "requests": count,
        "sent": load.sent,
        "not_sent": count - load.sent,
        "rate_asked": rate,
        "rate_achieved": round(load.sent / load.sending_s, 1) if load.sending_s else None,
        "ok": ok,
        "statuses": {str(code): n for code, n in sorted(load.statuses.items())},
        "errors": sum(load.statuses.values()) - ok + sum(load.failures.values()),
        "failures": dict(sorted(load.failures.items())),
        "stopped": load.stopped,
        "latency_p50_ms": _percentile(answered, 0.50),
        "latency_p90_ms": _percentile(answered, 0.90),
        "latency_p99_ms": _percentile(answered, 0.99),
        "latency_max_ms": round(answered[-1], 1) if answered else None,
        "max_in_flight": max_in_flight,
        "seconds": round(load.wall_s, 2),
        "client_cpu_s": round(load.cpu_s, 2),
        # Of one core, over the run: what the load generator took from the server.
        "client_cpu_share": round(load.cpu_s / load.wall_s, 3) if load.wall_s else None,
        # The web server's process alone (its workers are other processes): CPU per answer.
        "server_cpu_ms_per_request": (
            round(server_cpu * 1000 / len(answered), 1) if server_pid and answered else None
        ),
        "load_avg_1m_before": round(load_before, 2),
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
        **backlog,
    }


def _warm_up(base: str, auth: str, rng: random.Random, run_tag: str) -> None:
    """A few reports before the clock starts, one at a time: the server's first requests
    load code and open connections, which a server that has been up a while has done."""
    headers = {"Authorization": f"Bearer {auth}"}
    with httpx.Client(base_url=base, headers=headers, timeout=5) as client:
        for n in range(WARM_UP):
            report = {**synthetic_report(n, rng), "external_id": f"warm-up-{run_tag}-{n}"}
            try:
                client.post(REPORTS_PATH, json=report)
            except httpx.HTTPError:
                return  # a server that does not answer: the load counts it


def _percentile(ordered: list[float], p: float) -> float | None:
    """Nearest rank: the smallest value with at least p of them at or below it."""
    if not ordered:
        return None
    return round(ordered[max(0, math.ceil(p * len(ordered)) - 1)], 1)


async def _drive(
    base: str,
    auth: str,
    bodies: list[bytes],
    *,
    rate: float,
    max_in_flight: int,
    timeout: float,
    hard_stop_s: float,
    give_up_after: int,
) -> Load:
    load = Load(planned=len(bodies))
    slots = asyncio.Semaphore(max_in_flight)
    in_flight: set[asyncio.Task[None]] = set()
    failed_in_a_row = 0
    loop = asyncio.get_running_loop()
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    client = _Connections(base, auth)

    async def send(body: bytes, due: float) -> None:
        nonlocal failed_in_a_row
        try:
            status, answer = await asyncio.wait_for(client.post(REPORTS_PATH, body), timeout)
        except TimeoutError:
            load.failures["timeout"] += 1
            failed_in_a_row += 1
        except (OSError, asyncio.IncompleteReadError, ValueError) as e:
            # Refused, reset, closed without an answer, not HTTP.
            load.failures[_FAILURES.get(type(e), type(e).__name__)] += 1
            failed_in_a_row += 1
        else:
            load.latencies_ms.append((loop.time() - due) * 1000)
            load.statuses[status] += 1
            if status == 201:
                load.created.append(json.loads(answer)["id"])
            failed_in_a_row = 0 if status < 500 else failed_in_a_row + 1
        finally:
            slots.release()

    t0 = loop.time() + 0.05
    hard_stop = t0 + hard_stop_s
    try:
        for i, body in enumerate(bodies):
            due = t0 + i / rate
            if due > hard_stop:
                load.stopped = "deadline reached"
                break
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            if failed_in_a_row >= give_up_after:
                load.stopped = f"{failed_in_a_row} requests in a row failed"
                break
            try:
                # A full set of requests in flight holds the next ones back; they are
                # late, and their latency (counted from when they were due) says so.
                await asyncio.wait_for(slots.acquire(), max(0.0, hard_stop - loop.time()))
            except TimeoutError:
                load.stopped = "deadline reached with every request slot waiting for an answer"
                break
            task = asyncio.create_task(send(body, due))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            load.sent += 1
            load.sending_s = loop.time() - t0
        if in_flight:
            _done, late = await asyncio.wait(in_flight, timeout=max(0.0, hard_stop - loop.time()))
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
                load.failures["unanswered_at_deadline"] += len(late)
                load.stopped = load.stopped or "deadline reached with requests unanswered"
    finally:
        client.close()
    load.wall_s = time.perf_counter() - wall_start
    load.cpu_s = time.process_time() - cpu_start
    return load


_FAILURES = {
    ConnectionRefusedError: "refused",
    ConnectionResetError: "closed without an answer",
    BrokenPipeError: "closed without an answer",
    asyncio.IncompleteReadError: "closed without an answer",
}


class _Connections:
    """Keep-alive HTTP/1.1 POSTs to one server, the least a load generator needs: httpx
    takes about five times the CPU per request (2.4 against 0.5 ms, measured here), which
    on a 2-core machine would be taken from the server being measured."""

    def __init__(self, base: str, token: str) -> None:
        url = httpx.URL(base)
        self.host, self.tls = url.host, url.scheme == "https"
        self.port = url.port or (443 if self.tls else 80)
        self.headers = (
            f"Host: {self.host}:{self.port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\n"
        )
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """One request and its answer (status, body), on an idle connection or a new one."""
        reused = bool(self.idle)
        reader, writer = self.idle.pop() if reused else await self._connect()
        try:
            head = f"POST {path} HTTP/1.1\r\n{self.headers}Content-Length: {len(body)}\r\n\r\n"
            writer.write(head.encode() + body)
            status_line = await reader.readline()
            if not status_line and reused:  # the server closed it while idle: once more
                writer.close()
                return await self.post(path, body)
            status, answer, keep = await self._answer(status_line, reader)
        except BaseException:
            writer.close()
            raise
        if keep:
            self.idle.append((reader, writer))
        else:
            writer.close()
        return status, answer

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.host, self.port, ssl=self.tls or None)

    @staticmethod
    async def _answer(status_line: bytes, reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
        if not status_line:
            raise ConnectionResetError("closed without an answer")
        parts = status_line.split()
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise ValueError(f"not an HTTP answer: {status_line[:80]!r}")
        length, chunked, keep = 0, False, parts[0] == b"HTTP/1.1"
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = value == b"chunked"
            elif name == b"connection":
                keep = value == b"keep-alive" or (keep and value != b"close")
        if not chunked:
            return int(parts[1]), await reader.readexactly(length), keep
        answer = b""
        while size := int((await reader.readline()).split(b";")[0], 16):
            answer += (await reader.readexactly(size + 2))[:-2]
        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return int(parts[1]), answer, keep

    def close(self) -> None:
        for _reader, writer in self.idle:
            writer.close()


def _backlog(
    base: str, auth: str, created: list[int], *, own: bool, drain: float, tag: str
) -> dict[str, Any]:
    """Whether the pipeline workers kept up: reports not yet oriented when the load ended,
    and how long the rest took (None: not within `drain` seconds)."""
    ended = time.perf_counter()
    if own:
        # The server runs on this process's database: every report is counted.
        sent = Report.objects.filter(external_id__startswith=f"{tag}-")

        def waiting() -> int:
            return sent.exclude(state=ReportState.ORIENTED).count()

        checked = sent.count()
    else:
        sample = created[-API_CHECKED:]
        checked = len(sample)
        headers = {"Authorization": f"Bearer {auth}"}

        def waiting() -> int:
            with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
                return sum(
                    client.get(f"{REPORTS_PATH}/{rid}").json().get("state") != "oriented"
                    for rid in sample
                )

    try:
        at_end = left = waiting()
        while left and time.perf_counter() - ended < drain:
            time.sleep(0.5)
            left = waiting()
    except (httpx.HTTPError, ValueError) as e:
        return {"backlog_error": f"{type(e).__name__}: {e}"[:300]}
    finally:
        connection.close()
    return {
        "stored": checked if own else None,
        "not_oriented_at_end": at_end,
        "checked": checked,
        "drain_s": None if left else round(time.perf_counter() - ended, 1),
    }


@contextmanager
def _server(
    url: str | None, token: str | None, workers: int
) -> Iterator[tuple[str, str, int | None]]:
    """The base URL, provider token and server process id (None: not ours) to drive: the
    ones given, or those of a `tipline serve` started on a free loopback port, stopped at
    the end whatever happens."""
    if url:
        yield url.rstrip("/"), token or "", None
        return
    _provider, token = services.provider_create(name="Benchmark Platform")
    connection.close()  # the server's workers write to this database
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_path = Path(settings.DATA_DIR) / "bench-api-serve.log"
    # No capture or hosting lookup: the generated reports name .example sites.
    env = {**os.environ, "TIPLINE_ANALYZE_NETWORK": "off"}
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "tipline.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, log_path, workers=min(1, workers))
        yield base, token, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _cpu_seconds(pid: int | None) -> float:
    """User and system CPU time of one process so far (Linux; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_until_up(
    base: str, process: subprocess.Popen[bytes], log_path: Path, *, workers: int
) -> None:
    """Until /healthz answers with `workers` pipeline workers alive."""
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"tipline serve exited with {process.returncode}: {tail}")
        try:
            health = httpx.get(f"{base}/healthz", timeout=5).json()
            if health.get("workers", {}).get("alive", 0) >= workers:
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"tipline serve did not answer on {base} within {SERVER_START_S:.0f}s")
