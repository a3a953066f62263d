"""The `tipline` command: Django's manage.py for this project, plus Tipline's own commands."""

from __future__ import annotations

import os
import sys
import tempfile


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tipline.settings")
    if len(argv) > 1 and argv[1] == "bench" and "TIPLINE_BENCH_KEEP_ENV" not in os.environ:
        # Benchmarks measure a fresh database: point the data dir at a new temporary folder
        # before settings are read (unless the caller named a database to measure).
        os.environ["TIPLINE_DATA_DIR"] = tempfile.mkdtemp(prefix="tipline-bench-")
        if "--database-url" not in argv:
            os.environ.pop("TIPLINE_DATABASE_URL", None)
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
