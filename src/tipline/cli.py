"""The `tipline` command: Django's manage.py for this project, plus Tipline's own commands."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tipline.settings")
    scratch = None
    if len(argv) > 1 and argv[1] == "bench" and not os.environ.get("TIPLINE_BENCH_KEEP_ENV"):
        # Benchmarks measure a fresh SQLite database in a new temporary data dir, set before
        # settings are read, and removed afterwards (a million items take gigabytes).
        # TIPLINE_BENCH_KEEP_ENV=1 measures the configured database instead.
        scratch = tempfile.mkdtemp(prefix="tipline-bench-")
        os.environ["TIPLINE_DATA_DIR"] = scratch
        os.environ.pop("TIPLINE_DATABASE_URL", None)
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(argv)
    except ImproperlyConfigured as exc:
        if settings.configured:
            raise
        # Tipline's settings refused the environment (a secret missing in production, a
        # malformed value): the message says what to set; a traceback would only hide it.
        sys.stderr.write(f"tipline: cannot start: {exc}\n")
        sys.exit(2)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
