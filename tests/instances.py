"""Whole Tipline instances for tests: each its own data dir and database, its own
`tipline serve` on loopback (with its embedded workers) and, when asked, separate
`tipline worker` processes; two of them made partners that know each other's keys."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cryptography.fernet import Fernet

from .conftest import start_tipline, wait_for
from .processes import children_of, free_port, tipline


@dataclass
class Instance:
    """One Tipline: its data dir, database, server process and staff tokens."""

    name: str
    country: str
    root: Path
    port: int = field(default_factory=free_port)
    # Empty: SQLite in the data dir; else a PostgreSQL database of its own.
    database_url: str = ""
    base_env: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    analyst_token: str = ""
    provider_token: str = ""

    @property
    def instance_id(self) -> str:
        return f"tipline.{self.country.lower()}.example"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
        env.update(
            TIPLINE_DATA_DIR=str(self.root),
            TIPLINE_ANALYZE_NETWORK="off",  # no test reaches the internet
            TIPLINE_WORKER_POLL_S="0.2",
            TIPLINE_INSTANCE_ID=self.instance_id,
            TIPLINE_COUNTRY=self.country,
            TIPLINE_HOTLINE_NAME=f"Demo hotline {self.country} (fictional)",
            TIPLINE_OUTBOX_RETRY_BASE_S="1",
            TIPLINE_OUTBOX_RETRY_MAX_S="2",
            TIPLINE_OUTBOX_TIMEOUT_S="10",
        )
        if self.database_url:
            env["TIPLINE_DATABASE_URL"] = self.database_url
        env.update(self.base_env)
        env.update(self.extra_env)
        return env

    def run(self, *args: str) -> str:
        return tipline(*args, env=self.env)

    def prepare(self) -> None:
        """`tipline setup`, an analyst's API token, a provider's token, the public keys."""
        self.run("setup")
        self.analyst_token = self.run(
            "tokens", "add", "--user", "analyst", "--scope", "analyst"
        ).split()[-1]
        self.provider_token = self.run("providers", "add", "Example Platform").split()[-1]
        (self.root / "keys.json").write_text(self.run("keys", "show"))

    def add_partner(self, other: Instance) -> None:
        self.run(
            "partners",
            "add",
            "--code",
            f"partner-{other.country.lower()}",
            "--name",
            f"Demo hotline {other.country} (fictional)",
            "--country",
            other.country,
            "--url",
            f"{other.base}/api/v1/exchange/inbox",
            "--keys",
            str(other.root / "keys.json"),
        )

    def is_up(self) -> bool:
        """Serving, with at least one worker alive."""
        try:
            return bool(httpx.get(f"{self.base}/healthz").json()["workers"]["alive"] >= 1)
        except (httpx.HTTPError, ValueError, KeyError):
            return False

    def start(self, *, wait: bool = True, **extra_env: str) -> None:
        self.extra_env = extra_env
        self.process = start_tipline(
            "serve", "--port", str(self.port), env=self.env, log=self.root / "serve.log"
        )
        if wait:
            wait_for(self.is_up, 60, f"{self.name} to serve")

    def start_worker(self, worker_id: str) -> subprocess.Popen[bytes]:
        """A separate `tipline worker` on this instance's database, logging beside the server."""
        return start_tipline(
            "worker", "--worker-id", worker_id, env=self.env, log=self.root / "workers.log"
        )

    def embedded_workers(self) -> list[int]:
        """The pids of the workers `tipline serve` started and supervises."""
        return children_of(self.process.pid) if self.process else []

    def kill(self) -> None:
        """SIGKILL the server and its workers: no goodbye, no cleanup."""
        assert self.process is not None
        for pid in self.embedded_workers():
            os.kill(pid, signal.SIGKILL)
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> str:
        """Stop the server as an operator would (SIGTERM); returns its log."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        return (self.root / "serve.log").read_text()

    def api(self, method: str, path: str, *, token: str = "", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token or self.analyst_token}"}
        response = httpx.request(method, f"{self.base}/api/v1{path}", headers=headers, **kwargs)
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response.json()

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read this instance's database directly (`?` placeholders on both databases)."""
        if self.database_url.startswith("postgres"):
            with psycopg.connect(self.database_url) as db:
                return list(db.execute(query.replace("?", "%s"), params or None))  # type: ignore[arg-type]
        with sqlite3.connect(f"file:{self.root / 'tipline.sqlite3'}?mode=ro", uri=True) as db:
            return list(db.execute(query, params))

    def decrypt(self, token: str) -> str:
        """A value encrypted at rest with this instance's data key (kept in its data dir)."""
        return Fernet((self.root / "data_key").read_text().strip()).decrypt(token).decode()

    def partner_reports(self) -> int:
        return int(self.sql("select count(*) from intake_report where channel='partner'")[0][0])


def make_partners(a: Instance, b: Instance) -> None:
    """Set both instances up side by side, then make each the other's partner hotline."""
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(Instance.prepare, (a, b)))
        list(pool.map(Instance.add_partner, (a, b), (b, a)))
