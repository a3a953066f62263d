"""Django's SQLite backend, with a prompt wait for the write lock.

SQLite lets one connection write at a time. Waiting for the lock is left to SQLite's busy
handler, which sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 then 100 ms between tries:
a web request waiting behind a worker's stage transactions often sleeps through the
moments the lock is free, and a worker starting its next transaction at once takes it
again. Here a transaction's BEGIN is tried every millisecond or two until the configured
timeout instead, so whoever waits gets the lock within about 2 ms of its release.
"""

from __future__ import annotations

import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

FIRST_PAUSE_S = 0.0005
LONGEST_PAUSE_S = 0.002


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self) -> None:
        mode = getattr(self, "transaction_mode", None)  # set by Django from OPTIONS
        if mode not in ("IMMEDIATE", "EXCLUSIVE"):
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
            return
        timeout_s = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        deadline = time.monotonic() + timeout_s
        pause = FIRST_PAUSE_S
        with self.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 0")  # BEGIN answers "locked" at once
            try:
                while True:
                    try:
                        cursor.execute(f"BEGIN {mode}")
                        return
                    except OperationalError as exc:
                        if "locked" not in str(exc) or time.monotonic() >= deadline:
                            raise
                    time.sleep(pause)
                    pause = min(pause * 2, LONGEST_PAUSE_S)
            finally:
                # Statements outside a transaction still wait the usual way.
                cursor.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
