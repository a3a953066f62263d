"""Fault injection (#9): hotline A's pipeline and its delivery to partner B keep their promises
while A's workers (separate `tipline worker` processes and those `tipline serve` supervises)
and B's server are SIGKILLed at 100 random moments (seeded). Afterwards, read from both
databases: every report went through each stage exactly once, no item, report-item link or
cross-reference link is duplicated or missing, and every dispatch reached B exactly once in
effect. On PostgreSQL, A runs on a database of its own made for the test (B stays on SQLite)."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest

from tipline.common.pipeline import STAGES
from tipline.harmonize.urls import item_url

from ..conftest import wait_for
from ..instances import Instance, make_partners

pytestmark = pytest.mark.slow

SEED = 9
KILLS = 100
POSTGRES = os.environ.get("TIPLINE_DATABASE_URL", "").startswith("postgres")
# Separate `tipline worker` processes on A, beside the one `tipline serve` supervises.
SEPARATE_WORKERS = 2 if POSTGRES else 1
GROUPS = 48  # pages of one group share a site, a phone number and an ad text
ABROAD_EVERY = 3  # every third group's site is hosted in B's country
# A new worker first loads what the stages use (1.5 s, more on a busy machine): killed
# before its first stage every time, it would never get anything done. So a worker is
# killed at a random moment of LIFE_S once it has run a stage or been up for WARM_S, and
# B once it answers. Starting a process costs 2 s of CPU (Django and the pipeline's
# imports): the 100 restarts are most of the run's time.
WARM_S = 2.0
LIFE_S = (0.3, 2.0)
PATIENCE_S = 2.0

A_ENV = {
    # Each stage holds its transaction a moment, so kills land inside stages.
    "TIPLINE_PIPELINE_STAGE_DELAY_S": "0.2",
    "TIPLINE_PIPELINE_CHUNK": "10",
    "TIPLINE_PIPELINE_RETRY_BASE_S": "1",
    "TIPLINE_PIPELINE_RETRY_MAX_S": "4",
    "TIPLINE_WORKER_POLL_S": "0.1",
    "TIPLINE_WORKER_HEARTBEAT_S": "0.5",
    # A busy SQLite worker waits for the write lock to beat: not too eager to declare it dead.
    "TIPLINE_WORKER_DEAD_AFTER_S": "5",
    "TIPLINE_OUTBOX_TIMEOUT_S": "3",
    "TIPLINE_OUTBOX_LEASE_S": "6",  # a worker killed mid-send: sent again 6 s later
}
B_ENV = {
    # B's server alone is killed; its worker runs beside it (restarting one costs 2 s of CPU).
    "TIPLINE_TASK_WORKERS": "0",
    # B stores an envelope, then answers: kills land between the two too.
    "TIPLINE_EXCHANGE_TEST_DELAY_S": "0.3",
    "TIPLINE_WORKER_POLL_S": "0.1",
    "TIPLINE_WORKER_HEARTBEAT_S": "0.5",
    "TIPLINE_WORKER_DEAD_AFTER_S": "5",
}


# --- The reports: synthetic pages in groups, each page reported several times ------------


@dataclass
class Page:
    group: int
    url: str  # canonical: what A's item must be
    host: str
    abroad: bool
    reports: int = 0


def pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice("bdfklmnprstvz") + rng.choice("aeiou") for _ in range(3))


def corpus(rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, Page]]:
    """Reports (as the bulk API takes them) and the pages they point at, by canonical URL.
    A page is reported one to four times, with and without tracking parameters."""
    reports: list[dict[str, Any]] = []
    pages: dict[str, Page] = {}
    for group in range(GROUPS):
        abroad = group % ABROAD_EVERY == 0
        host = f"{'anzeigen' if abroad else 'annonces'}-{group}.example"
        phone = f"01 99 00 {10 + group // 100:02d} {group % 100:02d}"
        text = " ".join(pseudo_word(rng) for _ in range(20))
        for p in range(rng.randint(1, 4)):
            page = Page(group, f"https://{host}/ad/{p}", host, abroad)
            pages[page.url] = page
            for r in range(rng.randint(1, 4)):
                tracking = f"?utm_source=feed{r}&fbclid={pseudo_word(rng)}" if r else ""
                reports.append(
                    {
                        "external_id": f"faults-{group}-{p}-{r}",
                        "category": "sex ad",
                        "urls": [page.url + tracking],
                        "excerpt": f"{text} {phone}",
                        "reporter": {"country": "FR"},
                    }
                )
                page.reports += 1
    for url in pages:
        assert str(item_url(url)) == url
    rng.shuffle(reports)
    return reports, pages


def is_tree(nodes: list[int], edges: list[tuple[int, int]]) -> bool:
    """The edges join all the nodes, with none to spare."""
    root = {n: n for n in nodes}

    def find(n: int) -> int:
        while root[n] != n:
            n = root[n]
        return n

    for x, y in edges:
        root[find(x)] = find(y)
    return len(edges) == len(nodes) - 1 and len({find(n) for n in nodes}) == 1


def canonical(url: str) -> str:
    scheme, netloc, path, _, _ = urlsplit(url)
    return urlunsplit((scheme, netloc, path, "", ""))


# --- What gets killed ---------------------------------------------------------------------


def worker_id_of(pid: int) -> str:
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    return cmdline[cmdline.index("--worker-id") + 1]


def task_held_by(a: Instance, worker_id: str) -> str:
    """The task this worker is running, if any, as A's database sees it."""
    for path, worker_ids in a.sql(
        "select task_path, worker_ids from django_tasks_database_dbtaskresult "
        "where status = 'RUNNING'"
    ):
        ids = json.loads(worker_ids) if isinstance(worker_ids, str) else worker_ids
        if ids and ids[-1] == worker_id:
            return str(path).rsplit(".", 1)[-1]
    return ""


def working(a: Instance, worker_id: str, first_beat: dict[str, float]) -> bool:
    """The worker has done a stage's work, or has been beating for WARM_S."""
    now = time.monotonic()
    if worker_id not in first_beat:
        if not a.sql("select 1 from ops_workerheartbeat where worker_id = ?", worker_id):
            return False
        first_beat[worker_id] = now
    return now - first_beat[worker_id] >= WARM_S or bool(
        a.sql("select 1 from intake_stagerun where worker_id = ? limit 1", worker_id)
    )


@dataclass
class Target:
    """Something the test SIGKILLs: `up` says it is working, `busy` that it holds a task,
    `kill` kills it, has it restarted, and says what it was doing."""

    name: str
    up: Callable[[], bool]
    kill: Callable[[], str]
    busy: Callable[[], bool] = lambda: True
    kill_at: float | None = None
    kills: int = 0
    mid_task: Counter[str] = field(default_factory=Counter)


def separate_worker(a: Instance, n: int, started: list[subprocess.Popen[bytes]]) -> Target:
    lives = itertools.count()
    current: dict[str, Any] = {}
    first_beat: dict[str, float] = {}

    def start() -> None:
        current["id"] = f"faults-w{n}-{next(lives)}"
        current["process"] = a.start_worker(current["id"])
        started.append(current["process"])

    def up() -> bool:
        assert current["process"].poll() is None, f"worker {current['id']} died by itself"
        return working(a, current["id"], first_beat)

    def kill() -> str:
        doing = task_held_by(a, current["id"])
        current["process"].send_signal(signal.SIGKILL)
        current["process"].wait(10)
        start()
        return doing

    start()
    return Target(f"A: tipline worker #{n}", up, kill, lambda: bool(task_held_by(a, current["id"])))


def embedded_worker(a: Instance) -> Target:
    """The worker `tipline serve` runs; its supervisor starts a new one when it dies."""
    first_beat: dict[str, float] = {}

    def live() -> list[tuple[int, str]]:
        found = []
        for pid in a.embedded_workers():
            try:
                found.append((pid, worker_id_of(pid)))
            except (OSError, ValueError):  # exited just now
                pass
        return found

    def up() -> bool:
        return any(working(a, wid, first_beat) for _, wid in live())

    def kill() -> str:
        [(pid, wid)] = live()  # up() saw it a moment ago; only the test kills it
        doing = task_held_by(a, wid)
        os.kill(pid, signal.SIGKILL)
        return doing

    def busy() -> bool:
        return any(task_held_by(a, wid) for _, wid in live())

    return Target("A: worker in tipline serve", up, kill, busy)


def receiving_server(b: Instance) -> Target:
    def up() -> bool:
        assert b.process is not None and b.process.poll() is None, "B's server died by itself"
        return b.is_up()

    def kill() -> str:
        b.kill()
        b.start(wait=False)
        return ""

    return Target("B: tipline serve", up, kill)


# --- A database of A's own on PostgreSQL --------------------------------------------------


@pytest.fixture
def a_database() -> Iterator[str]:
    """Empty on SQLite (A's data dir holds its database); on PostgreSQL a new database."""
    if not POSTGRES:
        yield ""
        return
    server = urlsplit(os.environ["TIPLINE_DATABASE_URL"])
    name = f"tipline_faults_{os.getpid()}"
    admin = urlunsplit(server._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[arg-type]
        db.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    yield urlunsplit(server._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


# --- The run --------------------------------------------------------------------------------


class Analysts:
    """A's side of the run: a provider sends the reports in ten batches over the first
    80 kills; analysts assess the pages hosted in B's country as their items
    appear, which sends each of them to B."""

    def __init__(self, a: Instance, reports: list[dict[str, Any]]) -> None:
        self.a = a
        self.batches = [reports[i::10] for i in range(10)]
        self.assessed: set[int] = set()
        self.last_look = 0.0

    def work(self, kills: int) -> None:
        while self.batches and kills >= (10 - len(self.batches)) * KILLS * 8 // 100:
            sent = httpx.post(
                f"{self.a.base}/api/v1/reports/bulk",
                headers={"Authorization": f"Bearer {self.a.provider_token}"},
                json=self.batches.pop(),
                timeout=60,
            )
            assert sent.status_code == 202 and not sent.json()["rejected"], sent.text
        if time.monotonic() - self.last_look < 0.5:
            return
        self.last_look = time.monotonic()
        for (item_id,) in self.a.sql(
            "select id from harmonize_item where host like 'anzeigen-%' "
            "and classification = 'unassessed'"
        ):
            if item_id not in self.assessed:
                self.a.api(
                    "POST",
                    f"/items/{item_id}/assess",
                    json={"theme": "trafficking", "classification": "national"},
                    timeout=60,  # A is busy: its workers hold SQLite's write lock in turns
                )
                self.assessed.add(item_id)


def kill_at_random(targets: list[Target], rng: random.Random, analysts: Analysts) -> None:
    """KILLS SIGKILLs, each target dying at a random moment of each of its lives once it
    works (a worker holding a task, unless it stays idle PATIENCE_S), so that they die
    side by side, often while another one is starting."""
    kills = 0
    began = time.monotonic()
    while kills < KILLS:
        analysts.work(kills)
        for t in targets:
            now = time.monotonic()
            if kills == KILLS:
                break
            if t.kill_at is None:
                if t.up():
                    t.kill_at = now + rng.uniform(*LIFE_S)
            elif now >= t.kill_at and (t.busy() or now >= t.kill_at + PATIENCE_S):
                t.mid_task[t.kill() or "idle"] += 1
                t.kills += 1
                t.kill_at = None
                kills += 1
                if kills % 20 == 0:
                    print(f"{kills} kills in {time.monotonic() - began:.0f} s", flush=True)
        time.sleep(0.1)


def settled(a: Instance, b: Instance, reports: int, abroad: int) -> bool:
    """Every report processed on A, every dispatch acknowledged, B done with its reports."""
    states = dict(a.sql("select state, count(*) from intake_report group by state"))
    assert "failed" not in states, a.sql(
        "select id, failed_stage, last_error from intake_report where state = 'failed'"
    )
    acknowledged = a.sql(
        "select count(*) from orient_dispatch d join orient_destination t "
        "on t.id = d.destination_id where t.code = 'partner-de' and d.state = 'acknowledged'"
    )
    return (
        states == {"oriented": reports}
        and acknowledged[0][0] >= abroad
        and b.partner_reports() >= abroad
        and b.sql("select count(*) from intake_report where state != 'oriented'") == [(0,)]
    )


# --- What must hold afterwards ------------------------------------------------------------


def assert_each_stage_ran_once(me: Instance, reports: int) -> None:
    """Every report is oriented, with exactly one run of each stage."""
    assert me.sql("select state, count(*) from intake_report group by state") == [
        ("oriented", reports)
    ]
    runs = Counter(
        me.sql(
            "select r.id, s.stage from intake_report r "
            "left join intake_stagerun s on s.report_id = r.id"
        )
    )
    assert [k for k, n in runs.items() if n != 1] == []
    stages: dict[int, set[str]] = defaultdict(set)
    for rid, stage in runs:
        stages[rid].add(stage)
    assert [r for r, done in stages.items() if done != {s.name for s in STAGES}] == []


def assert_one_item_per_page(a: Instance, pages: dict[str, Page], reports: int) -> dict[int, int]:
    """One item per page counting each of its reports once, one report-item link per
    report. Returns each item's group."""
    items = {
        url: (iid, n) for iid, url, n in a.sql("select id, url, report_count from harmonize_item")
    }
    assert sorted(items) == sorted(pages)
    expected = {url: page.reports for url, page in pages.items()}
    assert {url: n for url, (_, n) in items.items()} == expected
    per_report = Counter(r for (r,) in a.sql("select report_id from harmonize_reportitem"))
    assert len(per_report) == reports and set(per_report.values()) == {1}
    per_item = Counter(i for (i,) in a.sql("select item_id from harmonize_reportitem"))
    assert {url: per_item[iid] for url, (iid, _) in items.items()} == expected
    return {iid: pages[url].group for url, (iid, _) in items.items()}


def assert_links_and_networks(a: Instance, group_of: dict[int, int]) -> Counter[str]:
    """The pages of a group share a phone number and an ad text, nothing else is shared.
    Each value joins its carriers with one link per carrier (a tree): a lost link leaves
    a group in pieces, a duplicated one makes a cycle. Each group of two pages or more is
    one network. Returns the links by kind."""
    links = a.sql("select item_a_id, item_b_id, kind from crossref_link where state = 'active'")
    assert [link for link in links if group_of[link[0]] != group_of[link[1]]] == []
    assert {kind for *_, kind in links} == {"shared_phone", "similar_text"}
    groups: dict[int, list[int]] = defaultdict(list)
    for iid, group in sorted(group_of.items()):
        groups[group].append(iid)
    for kind in ("shared_phone", "similar_text"):
        edges: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for x, y, k in links:
            if k == kind:
                edges[group_of[x]].append((x, y))
        assert {g: edges[g] for g, ids in groups.items() if not is_tree(ids, edges[g])} == {}
    members: dict[int, set[int]] = defaultdict(set)
    for iid, nid in a.sql(
        "select m.item_id, m.network_id from crossref_membership m "
        "join crossref_network n on n.id = m.network_id where n.merged_into_id is null"
    ):
        members[nid].add(iid)
    assert a.sql("select count(*) from crossref_membership") == [(sum(map(len, members.values())),)]
    assert {frozenset(ids) for ids in members.values()} == {
        frozenset(ids) for ids in groups.values() if len(ids) > 1
    }
    return Counter(kind for *_, kind in links)


def assert_dispatched_once(a: Instance, b: Instance, abroad: dict[str, Page]) -> list[int]:
    """One dispatch to B per page hosted there, acknowledged, nothing else left in A's
    outbox; B stored each once: one envelope and one report of that page per dispatch, and
    A holds B's reference for that very report. Returns each dispatch's attempts."""
    dispatches = a.sql(
        "select i.url, d.state, d.envelope_id, d.reference, d.attempts from orient_dispatch d "
        "join orient_destination t on t.id = d.destination_id "
        "join harmonize_item i on i.id = d.item_id where t.code = 'partner-de'"
    )
    assert sorted(url for url, *_ in dispatches) == sorted(abroad)
    assert {state for _, state, *_ in dispatches} == {"acknowledged"}
    assert a.sql(
        "select count(*) from orient_dispatch where state in ('pending', 'failed', 'undeliverable')"
    ) == [(0,)]
    received = b.sql(
        "select e.envelope_id, r.receipt, r.urls from orient_inboundenvelope e "
        "join intake_report r on r.id = e.report_id"
    )
    assert b.partner_reports() == len(received) == len(abroad)
    assert sorted(canonical(json.loads(urls)[0]) for *_, urls in received) == sorted(abroad)
    hex_id = {str(e).replace("-", ""): receipt for e, receipt, _ in received}
    assert {str(e).replace("-", ""): ref for _, _, e, ref, _ in dispatches} == hex_id
    return [attempts for *_, attempts in dispatches]


def test_sigkills_at_random_lose_nothing_and_duplicate_nothing(
    a_database: str, processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    began = time.monotonic()
    rng = random.Random(SEED)
    reports, pages = corpus(rng)
    abroad = {url: page for url, page in pages.items() if page.abroad}
    a = Instance("A", "FR", tmp_path / "a", database_url=a_database, base_env=A_ENV)
    b = Instance("B", "DE", tmp_path / "b", base_env=B_ENV)
    a.root.mkdir()
    b.root.mkdir()
    make_partners(a, b)
    a.start()
    processes.append(b.start_worker("b-worker"))
    b.start()
    try:
        targets = [
            embedded_worker(a),
            *(separate_worker(a, n, processes) for n in range(1, SEPARATE_WORKERS + 1)),
            receiving_server(b),
        ]
        for host in sorted({p.host for p in abroad.values()}):
            a.api("POST", f"/hosts/{host}/hosting", json={"country": "DE"})
        ready = time.monotonic()
        analysts = Analysts(a, reports)
        kill_at_random(targets, rng, analysts)
        killed = time.monotonic()

        def done() -> bool:
            analysts.work(KILLS)
            return settled(a, b, len(reports), len(abroad))

        wait_for(done, 120, "A and B to finish everything after the kills")
        finished = time.monotonic()
    finally:
        logs = {me.name: me.stop() for me in (a, b)}
    logs["A's workers"] = (a.root / "workers.log").read_text()

    assert_each_stage_ran_once(a, len(reports))
    assert_each_stage_ran_once(b, len(abroad))
    group_of = assert_one_item_per_page(a, pages, len(reports))
    links = assert_links_and_networks(a, group_of)
    attempts = assert_dispatched_once(a, b, abroad)

    # The kills were real: workers died holding tasks, which others took back; B died with
    # deliveries in flight, which A sent again (and B took some as duplicates).
    assert sum(t.kills for t in targets) == KILLS
    workers = [t for t in targets if not t.name.startswith("B")]
    figures = {
        "database": "postgresql" if POSTGRES else "sqlite",
        "seed": SEED,
        "kills": {t.name: t.kills for t in targets},
        "what killed workers were running": {t.name: dict(t.mid_task) for t in workers},
        "tasks taken back from dead workers": "".join(logs.values()).count(
            "was held by silent worker"
        ),
        "reports": len(reports),
        "pages": len(pages),
        "links": dict(links),
        "dispatches to B": len(attempts),
        "delivery attempts beyond the first": sum(attempts) - len(attempts),
        "deliveries B took as duplicates": logs["B"].count("accepted again (duplicate)"),
        "seconds": {
            "setup": round(ready - began),
            "kills": round(killed - ready),
            "settling": round(finished - killed),
            "total": round(time.monotonic() - began),
        },
    }
    print(json.dumps(figures, indent=2))
    assert sum(t.kills - t.mid_task["idle"] for t in workers) >= KILLS // 4, figures
    assert figures["tasks taken back from dead workers"], figures
    assert figures["delivery attempts beyond the first"], figures
    for name, log in logs.items():
        assert "Traceback" not in log, (name, log[log.index("Traceback") - 2000 :][:6000])
