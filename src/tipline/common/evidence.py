"""The evidence store: content-addressed files (media, captures) under the data dir.

An edge behind a small interface, so a deployment can put evidence elsewhere.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class EvidenceStoreError(Exception):
    """The store could not keep a file (disk full, permissions): the caller retries later."""


class EvidenceStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store `data`; return its SHA-256 (hex), which is also its address."""
        ...

    def get(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> bool:
        """Remove the file (retention); False when it was not there."""
        ...


class FileEvidenceStore:
    """Files at <root>/<sha[:2]>/<sha>, written atomically and fsynced before we answer."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        path = self._path(sha)
        if path.exists():
            return sha
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            why = e.strerror or str(e)
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                why = f"the disk is full ({why})"
            raise EvidenceStoreError(f"could not store evidence file: {why}") from e
        return sha

    def get(self, sha256: str) -> bytes:
        return self._path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def delete(self, sha256: str) -> bool:
        try:
            self._path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True


def default_store() -> EvidenceStore:
    from django.conf import settings

    return FileEvidenceStore(Path(settings.EVIDENCE_DIR))
