"""Backups of an instance and their restore: the database (a consistent snapshot taken while
Tipline runs), the evidence files and the data dir's secrets, with a manifest that lets a
copy be checked anywhere (`tipline backup`, `tipline backup --verify`, `tipline restore`).

The database is taken first, then the evidence files. Files are only ever added (before
the report that brings them commits) or deleted by retention, so every file the snapshot
can reference is still there when it is copied — except one retention deletes between the
two steps: it was past its retention, and Tipline treats an absent file as deleted by
retention, which is what it is. Files added after the snapshot are copied too; nothing in
the restored database points at them and they take no other room than their bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader

from tipline.common.audit import audit_verify
from tipline.common.evidence import FileEvidenceStore
from tipline.common.fields import encrypted_columns

FORMAT = "tipline-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
# The data dir's secrets of a local install; a deployment takes them from the environment.
SECRETS = (("secret_key", "TIPLINE_SECRET_KEY"), ("data_key", "TIPLINE_DATA_KEYS"))
# Caches in the data dir, rebuilt from the database: never backed up, and removed by a
# restore (their watermark would describe another database).
CACHES = ("pdq-index", "media-pdq-index")
DECRYPT_SAMPLE = 200
CHUNK = 1 << 20


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why and, when a file is at
    fault, names it."""


# --- The configured database ---------------------------------------------------------------


def _db() -> dict[str, Any]:
    return dict(settings.DATABASES["default"])


def _vendor(db: dict[str, Any]) -> str:
    engine = str(db["ENGINE"])
    if engine.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in engine:
        return "postgresql"
    raise BackupError(f"backups support SQLite and PostgreSQL, not {engine}")


def _pg_params(db: dict[str, Any]) -> dict[str, Any]:
    """libpq parameters for psycopg, pg_dump and pg_restore (the password apart: it goes
    in PGPASSWORD, never on a command line)."""
    params: dict[str, Any] = {
        k: v for k, v in (db.get("OPTIONS") or {}).items() if isinstance(v, str | int)
    }
    params.update(
        dbname=db["NAME"],
        user=db.get("USER") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
    )
    return {k: v for k, v in params.items() if v not in (None, "")}


def _pg_connect(db: dict[str, Any], *, autocommit: bool) -> psycopg.Connection[Any]:
    return psycopg.connect(
        **_pg_params(db), password=db.get("PASSWORD") or None, autocommit=autocommit
    )


def _pg_tool(tool: str, args: Sequence[str], db: dict[str, Any]) -> None:
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    conninfo = psycopg.conninfo.make_conninfo(**_pg_params(db))
    done = subprocess.run(  # noqa: S603 - PostgreSQL's own tool, arguments from settings
        [tool, "--no-password", *args, f"--dbname={conninfo}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _counts(cursor: Any, tables: Sequence[str]) -> dict[str, int]:
    out = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 - names from the catalog
        out[table] = int(cursor.fetchone()[0])
    return out


def _sqlite_tables(cursor: Any) -> list[str]:
    cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    )
    return [r[0] for r in cursor.fetchall()]


def _pg_tables(cursor: Any) -> list[str]:
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    )
    return [r[0] for r in cursor.fetchall()]


def _migrations(cursor: Any, tables: Sequence[str]) -> dict[str, list[str]]:
    if "django_migrations" not in tables:
        return {}
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    out: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        out.setdefault(app, []).append(name)
    return out


# --- Files ---------------------------------------------------------------------------------


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _evidence_files(root: Path) -> Iterator[Path]:
    """The store's files in name order (temporary files of writes under way left out)."""
    if not root.is_dir():
        return
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        yield from sorted(p for p in sub.iterdir() if p.is_file() and not p.name.startswith("."))


def tipline_version() -> str:
    try:
        return metadata.version("tipline")
    except metadata.PackageNotFoundError:  # a source checkout that is not installed
        pyproject = Path(settings.BASE_DIR).parent.parent / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text())["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown"


# --- Backup --------------------------------------------------------------------------------


def _snapshot_sqlite(db: dict[str, Any], out: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """SQLite's online backup in one step: a consistent copy while writers go on (WAL)."""
    source = sqlite3.connect(str(db["NAME"]), timeout=30)
    try:
        target = sqlite3.connect(str(out))
        try:
            source.backup(target)
            # A file that stands alone: no -wal or -shm beside it when it is read.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    finally:
        source.close()
    snap = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
    try:
        cursor = snap.cursor()
        tables = _sqlite_tables(cursor)
        info = {
            "vendor": "sqlite",
            "file": out.name,
            "server_version": sqlite3.sqlite_version,
            "migrations": _migrations(cursor, tables),
        }
        return info, _counts(cursor, tables)
    finally:
        snap.close()


def _snapshot_postgresql(db: dict[str, Any], out: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """pg_dump of a snapshot this connection exports and holds, so the row counts in the
    manifest are those of the very data dumped."""
    with _pg_connect(db, autocommit=False) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            row = cursor.fetchone()
            assert row is not None
            snapshot, version = row
            _pg_tool("pg_dump", ["--format=custom", f"--snapshot={snapshot}", f"--file={out}"], db)
            tables = _pg_tables(cursor)
            info = {
                "vendor": "postgresql",
                "file": out.name,
                "server_version": version,
                "migrations": _migrations(cursor, tables),
            }
            counts = _counts(cursor, tables)
        conn.rollback()
    return info, counts


@dataclass
class Written:
    manifest: dict[str, Any]
    corrupt: list[str] = field(default_factory=list)


def backup(dest: Path, *, with_secrets: bool = True, say: Callable[[str], None] = print) -> Written:
    """Write a backup of this instance into `dest` (new or empty): the database, then the
    evidence files, then the secrets in the data dir, and last the manifest."""
    started = time.monotonic()
    db = _db()
    vendor = _vendor(db)
    evidence_root = Path(settings.EVIDENCE_DIR).resolve()
    dest = dest.resolve()
    if dest == evidence_root or evidence_root in dest.parents:
        raise BackupError(f"{dest} is inside the evidence store: choose another place")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} exists and is not an empty directory")
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    files: dict[str, dict[str, Any]] = {}

    def listed(path: Path, sha: str | None = None) -> None:
        rel = path.relative_to(dest).as_posix()
        files[rel] = {"sha256": sha or _sha256_of(path), "bytes": path.stat().st_size}

    # 1. The database.
    if vendor == "sqlite":
        out = dest / SQLITE_FILE
        database, counts = _snapshot_sqlite(db, out)
    else:
        out = dest / PG_FILE
        database, counts = _snapshot_postgresql(db, out)
    _fsync(out)
    listed(out)
    database["tables"] = counts
    say(f"database: {sum(counts.values())} rows in {len(counts)} tables ({vendor})")

    # 2. The evidence files, each checked against its name (its SHA-256) as it is copied.
    corrupt: list[str] = []
    evidence_bytes = 0
    for path in _evidence_files(evidence_root):
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        if sha != path.name:
            corrupt.append(path.name)
            continue
        copy = dest / "evidence" / sha[:2] / sha
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(data)
        _fsync(copy)
        listed(copy, sha)
        evidence_bytes += len(data)
    evidence_count = sum(1 for f in files if f.startswith("evidence/"))
    say(f"evidence: {evidence_count} files, {evidence_bytes} bytes")

    # 3. The secrets the data dir holds (a local install's); a deployment's are in its
    # environment and secret store, not here.
    kept, from_env = [], []
    for name, env in SECRETS:
        source = Path(settings.DATA_DIR) / name
        if os.environ.get(env, "").strip():
            from_env.append(env)
        if with_secrets and source.is_file():
            _write_private(dest / "secrets" / name, source.read_bytes())
            listed(dest / "secrets" / name)
            kept.append(name)

    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tipline_version": tipline_version(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "database": database,
        "evidence": {"files": evidence_count, "bytes": evidence_bytes, "corrupt": corrupt},
        "secrets": kept,
        "secrets_from_environment": from_env,
        "files": files,
        "took_s": round(time.monotonic() - started, 2),
    }
    # Last: a backup without its manifest is an unfinished one.
    tmp = dest / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    _fsync(tmp)
    tmp.replace(dest / MANIFEST)
    return Written(manifest, corrupt)


# --- Verify --------------------------------------------------------------------------------


def verify(src: Path, *, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Check a backup without restoring it: its manifest, and every file's size and SHA-256
    (an evidence file's must also be its name). Raises BackupError naming the first file
    at fault; returns the manifest."""
    src = src.resolve()
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(
            f"{src / MANIFEST} is missing: not a backup, or an unfinished one"
        ) from None
    except (OSError, ValueError) as e:
        raise BackupError(f"{src / MANIFEST} cannot be read: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{src / MANIFEST} is not a Tipline backup's manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{src / MANIFEST}: format version {manifest.get('format_version')}, this Tipline "
            f"reads version {FORMAT_VERSION}"
        )
    files: dict[str, dict[str, Any]] = manifest["files"]
    for rel, expected in sorted(files.items()):
        path = src / rel
        if not path.is_file():
            raise BackupError(f"the backup is damaged: {path} is missing")
        if path.stat().st_size != expected["bytes"] or _sha256_of(path) != expected["sha256"]:
            raise BackupError(
                f"the backup is damaged: {path} does not match its SHA-256 in the manifest"
            )
        if rel.startswith("evidence/") and Path(rel).name != expected["sha256"]:
            raise BackupError(f"the backup is damaged: {path} is not named by its SHA-256")
    extra = sorted(
        p.relative_to(src).as_posix()
        for p in src.rglob("*")
        if p.is_file() and p.name != MANIFEST and p.relative_to(src).as_posix() not in files
    )
    if extra:
        raise BackupError(f"the backup holds a file its manifest does not list: {src / extra[0]}")
    say(
        f"backup of {manifest['created_at']} (Tipline {manifest['tipline_version']}, "
        f"{manifest['database']['vendor']}): {len(files)} files intact"
    )
    return manifest


# --- Restore -------------------------------------------------------------------------------


@dataclass
class Restored:
    tables: int
    rows: int
    evidence_files: int
    evidence_bytes: int
    secrets: list[str]
    decrypted: int
    audit_records: int
    pending_migrations: int
    warnings: list[str]


def _target_tables(db: dict[str, Any], vendor: str) -> list[str]:
    if vendor == "sqlite":
        if not Path(str(db["NAME"])).exists():
            return []
        return list(_target_counts(db, vendor))
    with _pg_connect(db, autocommit=True) as pg, pg.cursor() as pg_cursor:
        return _pg_tables(pg_cursor)


def _target_counts(db: dict[str, Any], vendor: str) -> dict[str, int]:
    if vendor == "sqlite":
        lite = sqlite3.connect(str(db["NAME"]), timeout=30)
        try:
            cursor = lite.cursor()
            return _counts(cursor, _sqlite_tables(cursor))
        finally:
            lite.close()
    with _pg_connect(db, autocommit=True) as pg, pg.cursor() as pg_cursor:
        return _counts(pg_cursor, _pg_tables(pg_cursor))


def _restore_sqlite(db: dict[str, Any], snapshot: Path) -> None:
    """SQLite's backup API again, from the snapshot into the configured file: it replaces
    the whole database, WAL included, under SQLite's own locks."""
    source = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(str(db["NAME"]), timeout=30)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=WAL")  # as Tipline runs it
        finally:
            target.close()
    finally:
        source.close()


def _restore_postgresql(db: dict[str, Any], dump: Path, tables: Sequence[str]) -> None:
    if tables:  # --force: what the database held goes first
        with _pg_connect(db, autocommit=True) as conn, conn.cursor() as cursor:
            names = ", ".join(_quote(t) for t in tables)
            cursor.execute(f"DROP TABLE IF EXISTS {names} CASCADE")
    _pg_tool(
        "pg_restore",
        ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", str(dump)],
        db,
    )


def _restore_secrets(src: Path, names: Sequence[str], *, replaced_data: bool) -> list[str]:
    """The backup's secrets into the data dir. A different secret already there is kept
    aside (`<name>.replaced-<time>`) when the database it opened was replaced (--force);
    over an empty database it protected nothing and is overwritten."""
    notes = []
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for name in names:
        data = (src / "secrets" / name).read_bytes()
        target = Path(settings.DATA_DIR) / name
        if replaced_data and target.is_file() and target.read_bytes() != data:
            aside = target.with_name(f"{name}.replaced-{stamp}")
            target.replace(aside)
            notes.append(f"the data dir's previous {name} was kept as {aside}")
        _write_private(target, data)
    return notes


def _data_keys_after_restore() -> tuple[str, list[str]]:
    """The data keys Tipline will use once restarted: the environment's, else the data
    dir's file (as settings read them)."""
    from_env = [k.strip() for k in os.environ.get("TIPLINE_DATA_KEYS", "").split(",") if k.strip()]
    if from_env:
        return "TIPLINE_DATA_KEYS", from_env
    path = Path(settings.DATA_DIR) / "data_key"
    return str(path), [path.read_text().strip()] if path.is_file() else []


def _decrypt_check() -> tuple[int, str | None]:
    """Open a sample of every encrypted column with the keys Tipline will start with;
    return how many opened and, if one did not, why."""
    source, keys = _data_keys_after_restore()
    if not keys:
        return 0, f"no data key ({source}): reporters' contact details cannot be read"
    try:
        fernet = MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError:
        return 0, f"{source} does not hold valid data keys"
    opened = 0
    connection = connections["default"]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model, column in encrypted_columns():
            name = quote(column.column or column.name)
            cursor.execute(
                f"SELECT {name} FROM {quote(model._meta.db_table)} "  # noqa: S608 - metadata
                f"WHERE {name} <> '' LIMIT %s",
                [DECRYPT_SAMPLE],
            )
            for (token,) in cursor.fetchall():
                try:
                    fernet.decrypt(token.encode())
                except InvalidToken:
                    return opened, (
                        f"{model._meta.db_table}.{column.column} does not open with the keys in "
                        f"{source}: give Tipline the data keys of the instance backed up"
                    )
                opened += 1
    return opened, None


def _pending_migrations() -> tuple[int, int]:
    """(migrations this code has that the database lacks, applied ones it does not know)."""
    loader = MigrationLoader(connections["default"], ignore_no_migrations=True)
    applied = set(loader.applied_migrations or ())
    known = set(loader.graph.nodes)
    return len(known - applied), len(applied - known - set(loader.replacements))


def restore(src: Path, *, force: bool = False, say: Callable[[str], None] = print) -> Restored:
    """Restore a backup into the configured database and data dir (Tipline stopped)."""
    manifest = verify(src, say=say)  # nothing is touched before the whole backup checks out
    src = src.resolve()
    db = _db()
    vendor = _vendor(db)
    if manifest["database"]["vendor"] != vendor:
        raise BackupError(
            f"this backup is of a {manifest['database']['vendor']} database and Tipline is "
            f"configured for {vendor}: restore it into the same kind of database"
        )
    connections.close_all()
    tables = _target_tables(db, vendor)
    if tables and not force:
        where = db["NAME"]
        raise BackupError(
            f"the database {where} is not empty ({len(tables)} tables): restore into an empty "
            "database, or give --force to replace everything it holds"
        )
    warnings: list[str] = []

    # Caches built from another database: their watermark would skip rows of this one.
    for stem in CACHES:
        for path in (Path(settings.DATA_DIR) / stem, Path(settings.DATA_DIR) / f"{stem}.last-id"):
            if path.is_dir():
                for part in path.iterdir():
                    part.unlink()
                path.rmdir()
            else:
                path.unlink(missing_ok=True)

    dump = src / manifest["database"]["file"]
    if vendor == "sqlite":
        _restore_sqlite(db, dump)
    else:
        _restore_postgresql(db, dump, tables)
    say(f"database restored ({vendor}: {db['NAME']})")

    store = FileEvidenceStore(Path(settings.EVIDENCE_DIR))
    restored_files = restored_bytes = 0
    for rel in sorted(manifest["files"]):
        if not rel.startswith("evidence/"):
            continue
        data = (src / rel).read_bytes()
        if store.put(data) != Path(rel).name:  # verified above; a disk that changed it now
            raise BackupError(f"{src / rel} changed while it was being restored")
        restored_files += 1
        restored_bytes += len(data)
    say(f"evidence: {restored_files} files, {restored_bytes} bytes")

    warnings += _restore_secrets(src, manifest["secrets"], replaced_data=bool(tables))
    missing = [
        env for env in manifest.get("secrets_from_environment", []) if not os.environ.get(env)
    ]
    if missing:
        warnings.append(
            f"the instance backed up took {', '.join(missing)} from its environment: set the "
            "same values here before starting Tipline"
        )

    counts = _target_counts(db, vendor)
    expected: dict[str, int] = manifest["database"]["tables"]
    differ = [t for t in sorted(set(expected) | set(counts)) if expected.get(t) != counts.get(t)]
    if differ:
        t = differ[0]
        raise BackupError(
            f"the restored database differs from the backup: {t} has {counts.get(t)} rows, the "
            f"manifest says {expected.get(t)} ({len(differ)} table(s) differ)"
        )
    decrypted, problem = _decrypt_check()
    if problem:
        warnings.append(problem)
    checked, broken = audit_verify()
    if broken is not None:
        warnings.append(f"the audit chain breaks at record #{broken.seq}: {broken.reason}")
    pending, unknown = _pending_migrations()
    if pending:
        warnings.append(f"{pending} migration(s) to apply: run `tipline setup` before starting")
    if unknown:
        warnings.append(
            f"the backup was made by a newer Tipline ({manifest['tipline_version']}): "
            f"{unknown} applied migration(s) are unknown to this one"
        )
    return Restored(
        tables=len(counts),
        rows=sum(counts.values()),
        evidence_files=restored_files,
        evidence_bytes=restored_bytes,
        secrets=list(manifest["secrets"]),
        decrypted=decrypted,
        audit_records=checked,
        pending_migrations=pending,
        warnings=warnings,
    )
