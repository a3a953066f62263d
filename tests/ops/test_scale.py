"""The scale generator: the same year for the same seed, its times in order, its audit
chain intact, its shares as documented."""

from __future__ import annotations

import pytest
from django.db.models import F

from tipline.common.audit import audit_verify
from tipline.crossref.models import Link, Membership
from tipline.harmonize.models import Item, ReportItem
from tipline.intake.models import Report
from tipline.ops import scale
from tipline.orient.models import Dispatch, Routing, Takedown

pytestmark = pytest.mark.django_db


def test_a_year_of_work_whose_times_follow_each_other() -> None:
    counts = scale.fill(items=3000, seed=7, year=2025, waiting_share=0.1)
    assert counts["items"] == Item.objects.count() == 3000
    assert counts["reports"] == Report.objects.count() == ReportItem.objects.count()
    items = Item.objects.all()
    assert items.filter(first_reported_at__year=2025).count() == 3000
    # Waiting items: about the share asked for, none assessed; the others assessed or known.
    waiting = items.filter(needs_assessment=True)
    assert counts["waiting"] == waiting.count()
    assert 200 < waiting.count() < 400
    assert not waiting.filter(assessed_at__isnull=False).exists()
    assert (
        not items.filter(needs_assessment=False, assessed_at__isnull=True)
        .exclude(analysis__known_content=True)
        .exists()
    )
    # Received → first reported → routed → assessed → queued → sent → acknowledged.
    assert not ReportItem.objects.filter(
        report__received_at__lt=F("item__first_reported_at")
    ).exists()
    assert not items.filter(last_reported_at__lt=F("first_reported_at")).exists()
    assert not Routing.objects.filter(decided_at__lt=F("item__first_reported_at")).exists()
    assert not items.filter(assessed_at__lt=F("first_reported_at")).exists()
    assert Routing.objects.filter(is_current=True).count() == 3000
    assert not Dispatch.objects.filter(queued_at__lt=F("created_at")).exists()
    assert not Dispatch.objects.filter(sent_at__lt=F("queued_at")).exists()
    assert not Dispatch.objects.filter(acknowledged_at__lt=F("sent_at")).exists()
    assert not Dispatch.objects.filter(
        state="proposed", item__needs_assessment=False
    ).exists()  # a proposal waits for an assessment that has not come
    assert Dispatch.objects.filter(state="acknowledged").exists()
    takedowns = Takedown.objects.all()
    assert takedowns.filter(state="removed").count() > takedowns.filter(state="open").count() > 0
    assert not takedowns.filter(removed_at__lt=F("opened_at")).exists()
    # Networks: every member linked to its first item, and the audit chain holds.
    assert Link.objects.count() == Membership.objects.count() - counts["networks"] > 0
    checked, broken = audit_verify()
    assert broken is None and checked == counts["audit_records"] > 0


def test_the_same_seed_gives_the_same_year() -> None:
    def year(first_id: int) -> list[tuple[object, ...]]:
        return list(
            Item.objects.filter(id__gte=first_id, id__lt=first_id + 400)
            .order_by("id")
            .values_list("host", "theme", "classification", "needs_assessment", "first_reported_at")
        )

    scale.fill(items=400, seed=3)
    scale.fill(items=400, seed=3)  # into the same database: the ids move on
    first = Item.objects.order_by("id").values_list("id", flat=True).first() or 0
    assert year(first) == year(first + 400)
    assert len({row[1] for row in year(first)}) > 3
