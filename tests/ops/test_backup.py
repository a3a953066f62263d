"""Backups for real: an instance filled with a year's records, pictures and encrypted
contact details is backed up, wiped and restored with the commands an operator runs
(`tipline backup`, `tipline restore` as processes), and nothing is missing. The instance
uses the database the suite runs on: its own SQLite data dir, or its own PostgreSQL
database, dropped and created again to wipe it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

pytestmark = pytest.mark.slow

SUITE_URL = os.environ.get("TIPLINE_DATABASE_URL", "")
ON_POSTGRES = SUITE_URL.startswith("postgres")

# Run inside the instance (`tipline shell -c`; one process, as each start costs seconds):
# what the data is made of, then the pipeline run over it.
FILL = """
from django.core.management import call_command
from tipline.ops.scale import fill
from tipline.orient import keys
call_command("setup")
fill(items=300, seed=5)  # reports with encrypted contacts, dispatches, a valid audit chain
call_command("demo", "generate", "--reports", "30", "--seed", "4")  # pictures: evidence
keys.instance_keys_rotate()  # one more audit record, appended through the service
call_command("worker", "--batch")  # items, fingerprints, thumbnails, links
"""
# What a person would check after a restore: contact details read back, the audit chain.
FACTS = """
import hashlib, json
from tipline.common.audit import audit_verify
from tipline.intake.models import Report
contacts = sorted(
    (r.id, r.reporter_name, r.reporter_email, r.reporter_phone)
    for r in Report.objects.order_by("id")
    if r.reporter_name or r.reporter_email or r.reporter_phone
)
checked, broken = audit_verify()
print("FACTS " + json.dumps({
    "contacts": len(contacts),
    "contacts_sha256": hashlib.sha256(repr(contacts).encode()).hexdigest(),
    "audit_records": checked,
    "audit_broken": broken is not None,
}))
"""


@dataclass
class Instance:
    root: Path  # its data dir
    env: dict[str, str]
    database: str  # the PostgreSQL database's name, or "" on SQLite

    def tipline(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "tipline.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if ok and done.returncode != 0:
            raise AssertionError(f"tipline {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done

    def facts(self, before: str = "") -> dict[str, Any]:
        out = self.tipline("shell", "-c", before + FACTS).stdout
        line = next(x for x in out.splitlines() if x.startswith("FACTS "))
        return dict(json.loads(line.removeprefix("FACTS ")))

    def rows(self) -> dict[str, str]:
        """Per table, a SHA-256 of all its rows (sorted), read straight from the database."""
        if self.database:
            conn: Any = psycopg.connect(_admin_url(self.database))
            tables = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        else:
            conn = sqlite3.connect(self.root / "tipline.sqlite3")
            tables = "SELECT name FROM sqlite_master WHERE type = 'table'"
        try:
            cursor = conn.cursor()
            cursor.execute(tables)
            out = {}
            for (table,) in cursor.fetchall():
                cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - the catalog's names
                rows = sorted(repr(r) for r in cursor.fetchall())
                out[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
            return out
        finally:
            conn.close()

    def evidence(self) -> dict[str, str]:
        """Every evidence file, by its path under the store, with its content's SHA-256."""
        store = self.root / "evidence"
        return {
            p.relative_to(store).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in store.rglob("*")
            if p.is_file()
        }

    def wipe(self) -> None:
        shutil.rmtree(self.root)
        if self.database:
            _recreate(self.database)


def _admin_url(database: str) -> str:
    parts = urlsplit(SUITE_URL)
    return parts._replace(path=f"/{database}").geturl()


def _recreate(database: str, *, create: bool = True) -> None:
    with psycopg.connect(_admin_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{database}"')


@dataclass
class Filled:
    instance: Instance
    backup: Path
    rows: dict[str, str]
    evidence: dict[str, str]
    facts: dict[str, Any]
    backup_output: str


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    """An instance set up, filled, run through the pipeline and backed up."""
    base = tmp_path_factory.mktemp("backup")
    root = base / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(TIPLINE_DATA_DIR=str(root), TIPLINE_ANALYZE_NETWORK="off")
    database = ""
    if ON_POSTGRES:
        database = f"tipline_backup_{os.getpid()}"
        _recreate(database)
        env["TIPLINE_DATABASE_URL"] = _admin_url(database)
    instance = Instance(root, env, database)
    try:
        facts = instance.facts(before=FILL)
        before = Filled(
            instance=instance,
            backup=base / "backup",
            rows=instance.rows(),
            evidence=instance.evidence(),
            facts=facts,
            backup_output="",
        )
        before.backup_output = instance.tipline("backup", str(before.backup)).stdout
        yield before
    finally:
        if database:
            _recreate(database, create=False)


def test_backed_up_wiped_and_restored_nothing_is_missing(filled: Filled) -> None:
    instance, backup = filled.instance, filled.backup
    # What was backed up is a real instance's worth, and the manifest says what it holds.
    assert filled.facts["contacts"] > 20 and filled.facts["audit_records"] > 100
    assert not filled.facts["audit_broken"]
    assert len(filled.evidence) >= 10  # pictures and their thumbnails
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"]["vendor"] == ("postgresql" if ON_POSTGRES else "sqlite")
    assert manifest["evidence"]["files"] == len(filled.evidence)
    assert manifest["database"]["tables"]["intake_report"] > 300
    assert "intake" in manifest["database"]["migrations"]
    assert manifest["secrets"] == ["secret_key", "data_key"]
    assert "this backup holds keys" in filled.backup_output

    instance.wipe()
    restored = instance.tipline("restore", str(backup)).stdout
    assert "files intact" in restored and "restored: start Tipline" in restored

    after = instance.rows()
    assert after.keys() == filled.rows.keys()
    assert [t for t in after if after[t] != filled.rows[t]] == []  # every row of every table
    assert instance.evidence() == filled.evidence
    assert all(Path(path).name == sha for path, sha in instance.evidence().items())
    assert instance.facts() == filled.facts  # contacts decrypt the same; the chain holds


def test_a_damaged_backup_is_refused_naming_the_file(filled: Filled, tmp_path: Path) -> None:
    instance = filled.instance
    damaged = tmp_path / "damaged"
    shutil.copytree(filled.backup, damaged)
    victim = sorted((damaged / "evidence").rglob("*"))[-1]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))

    checked = instance.tipline("backup", "--verify", str(damaged), ok=False)
    assert checked.returncode != 0 and str(victim) in checked.stderr
    rows = instance.rows()
    refused = instance.tipline("restore", "--force", str(damaged), ok=False)
    assert refused.returncode != 0
    assert f"the backup is damaged: {victim} does not match its SHA-256" in refused.stderr
    assert instance.rows() == rows  # refused before touching anything


def test_restoring_over_a_database_that_holds_data_is_refused(filled: Filled) -> None:
    instance = filled.instance
    rows = instance.rows()
    refused = instance.tipline("restore", str(filled.backup), ok=False)
    assert refused.returncode != 0
    assert "is not empty" in refused.stderr and "--force" in refused.stderr
    assert instance.rows() == rows
