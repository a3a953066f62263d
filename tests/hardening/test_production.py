"""Production settings: Django's deploy checks pass with the production environment, an
instance served to others refuses to start without its secrets from the environment,
a local try-out still starts with nothing set, and pages carry a strict CSP."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

SECRET = "s" * 20 + "e" * 20 + "c" * 10 + "r3t-k3y-for-tests-0nly"
DATA_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()


def production_env(data_dir: Path, **changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(
        TIPLINE_DATA_DIR=str(data_dir),
        TIPLINE_DEBUG="0",
        TIPLINE_ALLOWED_HOSTS="hotline.example",
        TIPLINE_CSRF_TRUSTED_ORIGINS="https://hotline.example",
        TIPLINE_TLS="1",
        TIPLINE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        TIPLINE_SECRET_KEY=SECRET,
        TIPLINE_DATA_KEYS=DATA_KEY,
        TIPLINE_EMAIL_HOST="smtp.hotline.example",  # never contacted by a check
        TIPLINE_METRICS_TOKEN="metrics-token-for-tests",
        TIPLINE_LOG_FORMAT="json",
    )
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def tipline(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tipline.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_checks_pass_with_the_production_environment(tmp_path: Path) -> None:
    done = tipline("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_the_production_environment_turns_on_https_only_cookies_and_hsts(
    tmp_path: Path,
) -> None:
    names = [
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_REDIRECT_EXEMPT",
        "LOCAL_ONLY",
    ]
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))"
    )
    done = tipline("shell", "-c", code, env=production_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 365 * 86400,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_REDIRECT_EXEMPT": ["^healthz$", "^metrics$"],
        "LOCAL_ONLY": False,
    }
    # Nothing was generated into the data dir: every secret came from the environment.
    assert not (tmp_path / "secret_key").exists() and not (tmp_path / "data_key").exists()


@pytest.mark.parametrize(
    ("missing", "changes"),
    [
        ("TIPLINE_SECRET_KEY", {"TIPLINE_SECRET_KEY": None}),
        ("TIPLINE_DATA_KEYS", {"TIPLINE_DATA_KEYS": None}),
        # Served to others without TLS is still a deployment: no made-up secret either.
        ("TIPLINE_SECRET_KEY", {"TIPLINE_SECRET_KEY": None, "TIPLINE_TLS": "0"}),
    ],
)
def test_a_deployment_without_its_secrets_refuses_to_start(
    tmp_path: Path, missing: str, changes: dict[str, str | None]
) -> None:
    done = tipline("check", env=production_env(tmp_path, **changes))
    assert done.returncode == 2
    assert done.stderr.startswith(f"tipline: cannot start: {missing} is not set.")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "secret_key").exists() and not (tmp_path / "data_key").exists()


def test_a_malformed_data_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    done = tipline(
        "check", env=production_env(tmp_path, TIPLINE_DATA_KEYS=f"{DATA_KEY},not-a-key-abc")
    )
    assert done.returncode == 2
    assert "key 2 of 2 is not a data key" in done.stderr
    assert "not-a-key-abc" not in done.stderr


def test_a_local_try_out_starts_with_nothing_set_and_keeps_its_secrets(tmp_path: Path) -> None:
    """`make run` on a fresh machine: loopback only, no TLS, no variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env["TIPLINE_DATA_DIR"] = str(tmp_path)
    done = tipline("check", env=env)
    assert done.returncode == 0, done.stderr
    for name in ("secret_key", "data_key"):
        path = tmp_path / name
        assert path.read_text().strip()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.urlsafe_b64decode((tmp_path / "data_key").read_text())) == 32
    first = (tmp_path / "secret_key").read_text()
    assert tipline("check", env=env).returncode == 0
    assert (tmp_path / "secret_key").read_text() == first  # kept, not made again


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy_and_no_inline_script() -> None:
    response = Client().get("/report/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert all("src=" in s for s in scripts), scripts
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers either
