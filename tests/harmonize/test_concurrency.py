"""Two transactions counting reports on the same item at once must not lose a count."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tipline.harmonize import services as harmonize
from tipline.harmonize.models import Item
from tipline.intake import services

from ..conftest import receive_reports

pytestmark = pytest.mark.django_db(transaction=True)


def test_reports_of_one_page_harmonized_at_once_are_all_counted(monkeypatch) -> None:
    # The item exists already: a new one would make the second insert wait for the first.
    earlier, first, second = receive_reports(3, pages=1)
    services.reports_advance(report_ids=[earlier], worker_id="t")
    both_read = threading.Barrier(2)
    count_report = harmonize._count_report

    def count_after_the_other_has_read(*args, **kwargs):  # type: ignore[no-untyped-def]
        # Without the row lock both transactions get here having read the same count; with
        # it, the second is still waiting for the lock, so this wait times out.
        try:
            both_read.wait(timeout=1.5)
        except threading.BrokenBarrierError:
            pass
        return count_report(*args, **kwargs)

    monkeypatch.setattr(harmonize, "_count_report", count_after_the_other_has_read)
    errors: list[BaseException] = []

    def advance(report_id: int) -> None:
        try:
            services.reports_advance(report_ids=[report_id], worker_id=f"t{report_id}")
        except BaseException as e:  # reported by the assertion below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=advance, args=(rid,)) for rid in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    item = Item.objects.get()
    assert item.report_count == 3
    assert item.report_links.count() == 3
