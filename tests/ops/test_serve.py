"""The quick start for real: setup, a provider token, `tipline serve` with its embedded worker."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from ..conftest import start_tipline, wait_for
from ..processes import children_of, free_port, instance_env, tipline

pytestmark = pytest.mark.slow

if os.environ.get("TIPLINE_DATABASE_URL", "").startswith("postgres"):
    pytest.skip(
        "runs on its own fresh SQLite data dir; once per suite is enough", allow_module_level=True
    )


@pytest.fixture
def fresh_env(tmp_path: Path) -> dict[str, str]:
    return instance_env(tmp_path / "var")


def test_setup_prints_the_first_analyst_login_once(fresh_env: dict[str, str]) -> None:
    first = tipline("setup", env=fresh_env)
    assert "username: analyst" in first and "password: " in first
    again = tipline("setup", env=fresh_env)
    assert "password" not in again


def test_providers_add_prints_the_token_alone_on_the_last_line(fresh_env: dict[str, str]) -> None:
    tipline("setup", env=fresh_env)
    token = tipline("providers", "add", "Example Platform", env=fresh_env).splitlines()[-1]
    assert token.startswith("tpl_") and len(token) > 40
    database = (Path(fresh_env["TIPLINE_DATA_DIR"]) / "tipline.sqlite3").read_bytes()
    assert token.encode() not in database  # only its hash is kept
    listing = tipline("providers", "list", env=fresh_env)
    assert "Example Platform" in listing and token not in listing
    with pytest.raises(subprocess.CalledProcessError) as exc:
        tipline("providers", "add", "Example Platform", env=fresh_env)
    assert "already exists" in exc.value.stderr


def test_a_report_posted_to_the_server_is_oriented_with_nothing_else_started(
    fresh_env: dict[str, str], processes, tmp_path: Path
) -> None:
    tipline("setup", env=fresh_env)
    token = tipline("providers", "add", "Example Platform", env=fresh_env).splitlines()[-1]
    port = free_port()
    server = start_tipline("serve", "--port", str(port), env=fresh_env, log=tmp_path / "serve.log")
    processes.append(server)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/healthz").json()["workers"]["alive"] == 1
        except httpx.HTTPError:
            return False

    wait_for(up, 30, "the server and its worker")
    auth = {"Authorization": f"Bearer {token}"}
    created = httpx.post(
        f"{base}/api/v1/reports",
        headers=auth,
        json={
            "external_id": "e2e-1",
            "category": "sex ad",
            "urls": ["https://ads.example/p/1"],
            "excerpt": "new in town, call 01 99 00 12 34",
        },
    )
    assert created.status_code == 201, created.text
    report = created.json()
    started = time.monotonic()
    wait_for(
        lambda: (
            httpx.get(f"{base}/api/v1/reports/{report['id']}", headers=auth).json()["state"]
            == "oriented"
        ),
        15,
        "the report to be oriented",
    )
    assert time.monotonic() - started < 15
    assert httpx.get(f"{base}/report/").status_code == 200
    assert "Tipline" in httpx.get(f"{base}/fr/signaler/").text

    server.send_signal(signal.SIGTERM)
    assert server.wait(30) == 0
    assert children_of(server.pid) == [], "the embedded workers outlived the server"
    log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log, log


def test_with_the_database_down_the_server_says_so_and_accepts_nothing(
    fresh_env: dict[str, str], processes, tmp_path: Path
) -> None:
    port, dead_port = free_port(), free_port()  # nothing listens on dead_port
    env = {**fresh_env, "TIPLINE_DATABASE_URL": f"postgres://postgres@127.0.0.1:{dead_port}/x"}
    server = start_tipline(
        "serve", "--port", str(port), "--workers", "0", env=env, log=tmp_path / "serve.log"
    )
    processes.append(server)
    base = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        try:
            return httpx.get(f"{base}/healthz").status_code == 503
        except httpx.HTTPError:
            return False

    wait_for(answering, 30, "the server to answer")
    health = httpx.get(f"{base}/healthz").json()
    assert health["status"] == "error" and health["database"]["ok"] is False
    refused = httpx.post(
        f"{base}/api/v1/reports",
        json={"urls": ["https://ads.example/1"]},
        headers={"Authorization": "Bearer tpl_x"},
    )
    assert refused.status_code == 503
    assert "nothing was stored" in refused.json()["detail"]
    assert refused.headers["Retry-After"] == "60"
    form = httpx.get(f"{base}/status/AAAA-BBBB-CCCC-DDDD")
    assert form.status_code == 503 and "try again" in form.text
