"""`tipline demo generate`: synthetic reports with ground truth, stored and processed, and
the networks cross-reference finds scored against that truth."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tipline.crossref import core as crossref_core
from tipline.crossref.models import Membership
from tipline.harmonize.models import ReportItem
from tipline.intake import core
from tipline.intake.models import Report

pytestmark = pytest.mark.django_db


def generate(*args: str) -> dict[str, object]:
    out = io.StringIO()
    call_command("demo", "generate", *args, stdout=out)
    return json.loads(out.getvalue())


def test_generated_reports_go_through_the_pipeline_and_their_networks_are_found(
    run_tasks, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    truth_file = tmp_path / "truth.json"
    summary = generate("--reports", "150", "--seed", "3", "--truth", str(truth_file))
    assert summary["stored"] == 150 and summary["networks"] >= 5
    run_tasks()
    assert set(Report.objects.values_list("state", flat=True)) == {"oriented"}
    truth = json.loads(truth_file.read_text())
    page_of = dict(
        ReportItem.objects.filter(item__kind="url").values_list("report__external_id", "item_id")
    )
    network_of = dict(Membership.objects.values_list("item_id", "network_id"))
    scores = crossref_core.pairwise_scores(
        {page_of[e]: n for e, n in truth.items()},
        {page_of[e]: network_of.get(page_of[e]) for e in truth},
    )
    assert scores.true_pairs > 100
    assert scores.precision >= 0.95 and scores.recall >= 0.9, scores
    # Generating the same corpus again stores nothing new.
    again = generate("--reports", "150", "--seed", "3")
    assert (again["stored"], again["already_there"]) == (0, 150)


def test_the_corpus_can_be_written_as_ndjson_for_the_bulk_api(tmp_path: Path, db) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "demo.ndjson"
    summary = generate("--reports", "40", "--seed", "1", "--no-images", "--out", str(out))
    lines = out.read_text().splitlines()
    assert summary["written_to"] == str(out) and len(lines) == 40
    for line in lines:
        core.parse_report(json.loads(line), max_media_bytes=1 << 20)
    assert not Report.objects.exists()


def test_bad_arguments_are_refused_clearly(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="at least 1"):
        generate("--reports", "0")
