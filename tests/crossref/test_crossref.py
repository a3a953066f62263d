"""Cross-reference through the pipeline: every link kind, the guard and the allowlist,
merges, cuts that split, search by value and the path between two items."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from PIL import ImageDraw

from tipline.crossref import selectors, services
from tipline.crossref.models import (
    AllowedValue,
    CommonValue,
    Link,
    Membership,
    Network,
    NetworkEvent,
    TextPrint,
    Trace,
)
from tipline.harmonize.models import Item
from tipline.intake import core
from tipline.intake import services as intake
from tipline.intake.choices import Channel
from tipline.intake.models import Report

from ..analyze.test_banks import encoded, picture
from ..conftest import staff_user

pytestmark = pytest.mark.django_db

TEMPLATE = (
    "Nouvelle à {city} ! {name}, {age} ans, douce et discrète, disponible jour et nuit "
    "pour messieurs courtois. Je reçois dans un appartement calme et propre près de la gare, "
    "déplacement possible à l'hôtel. Photos 100% réelles, pas de mauvaise surprise. "
    "{price} roses la demi-heure. Appelle-moi au {phone}, pas de numéro masqué."
)


def ad(**slots: str) -> str:
    values = {"city": "Lyon", "name": "Lina", "age": "22", "price": "150", "phone": ""}
    values.update(slots)
    return TEMPLATE.format(**values)


def send(run_tasks, *reports: dict[str, Any]) -> list[Item]:  # type: ignore[no-untyped-def]
    """Receive reports, run the pipeline, return each report's page (or its first item)."""
    drafts = [(i, core.parse_report(r, max_media_bytes=1 << 22)) for i, r in enumerate(reports)]
    outcomes = intake.reports_receive(drafts=drafts, channel=Channel.PUBLIC)
    run_tasks()
    ids = [o.report_id for o in outcomes]  # type: ignore[union-attr]
    assert set(Report.objects.filter(id__in=ids).values_list("state", flat=True)) == {"oriented"}
    return [
        Item.objects.filter(report_links__report_id=i).order_by("-url", "id").first()  # type: ignore[misc]
        for i in ids
    ]


def media(data: bytes, name: str = "photo.png") -> list[dict[str, str]]:
    return [{"filename": name, "content_base64": base64.b64encode(data).decode()}]


def network_of(item: Item) -> int | None:
    return selectors.item_network(item.pk)


def links_between(a: Item, b: Item, state: str = "active") -> list[Link]:
    lo, hi = sorted((a.pk, b.pk))
    return list(Link.objects.filter(item_a_id=lo, item_b_id=hi, state=state))


@pytest.mark.parametrize(
    ("first", "second", "kind", "value"),
    [
        ("appelle le 01 99 00 12 34", "tel: +33 1 99 00 12 34", "shared_phone", "+33199001234"),
        (
            "écris à Lina.Vip@Mail.example",
            "contact lina.vip@mail.example",
            "shared_email",
            "lina.vip@mail.example",
        ),
        ("telegram @lina_vip_example", "telegram: @lina_vip_example", "shared_handle", None),
        (
            "don BTC 1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
            "wallet 1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
            "shared_wallet",
            "btc:1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
        ),
        (
            "plus sur lina-vip.example",
            "voir lina-vip.example/photos",
            "shared_domain",
            "lina-vip.example",
        ),
    ],
)
def test_items_sharing_a_value_are_linked_with_it(run_tasks, first, second, kind, value) -> None:  # type: ignore[no-untyped-def]
    a, b = send(
        run_tasks,
        {"urls": ["https://annonces-one.example/a/1"], "excerpt": f"Bonjour {first}"},
        {"urls": ["https://classifieds-two.example/b/2"], "excerpt": f"Coucou {second}"},
    )
    [link] = [link for link in links_between(a, b) if link.kind == kind]
    if value:
        assert link.value == value
        assert link.evidence == {"value": value}
    assert network_of(a) == network_of(b) is not None


def test_a_report_api_lists_the_networks_of_its_items(run_tasks, api) -> None:  # type: ignore[no-untyped-def]
    a, _b = send(
        run_tasks,
        {"urls": ["https://annonces-one.example/a/1"], "excerpt": "appelle 01 99 00 12 34"},
        {"urls": ["https://annonces-two.example/a/2"], "excerpt": "appelle 0199001234"},
    )
    report = Report.objects.get(report_items__item=a)
    facts = selectors.report_facts([report.pk])
    assert facts[report.pk]["network_ids"] == [network_of(a)]


def test_same_and_similar_pictures_link_their_pages(run_tasks) -> None:
    original = encoded(picture(7))
    # Re-shared with a caption written over it and re-compressed.
    edited = picture(7)
    ImageDraw.Draw(edited).text((10, 10), "NEW 06", fill=(255, 255, 255))
    unrelated = encoded(picture(99))
    a, b, c, d = send(
        run_tasks,
        {"urls": ["https://annonces-one.example/p/1"], "media": media(original)},
        {"urls": ["https://annonces-two.example/p/2"], "media": media(original)},
        {
            "urls": ["https://annonces-three.example/p/3"],
            "media": media(encoded(edited, "JPEG", quality=70), "x.jpg"),
        },
        {"urls": ["https://annonces-four.example/p/4"], "media": media(unrelated)},
    )
    [same] = links_between(a, b)
    assert same.kind == "same_image"
    similar = {link.kind for link in links_between(a, c)}
    assert similar == {"similar_image"}
    [s] = links_between(a, c)
    assert 0 < s.evidence["distance"] <= 31
    assert network_of(a) == network_of(b) == network_of(c)
    # A page is not linked to the picture it shows in the same report: no network of one.
    assert network_of(d) is None
    # The picture reported on its own is linked to the pages that show it.
    [alone] = send(run_tasks, {"media": media(original)})
    assert alone.kind == "media"
    assert {link.kind for link in links_between(alone, a)} == {"same_image"}
    assert network_of(alone) == network_of(a)


def test_template_ads_link_and_unrelated_ads_of_the_same_genre_do_not(run_tasks) -> None:
    a, b, c = send(
        run_tasks,
        {"urls": ["https://annonces-one.example/t/1"], "excerpt": ad(phone="01 99 00 11 11")},
        {
            "urls": ["https://annonces-two.example/t/2"],
            "excerpt": ad(city="Lille", name="Nora", age="24", price="200", phone="02 61 91 22 22"),
        },
        {
            "urls": ["https://annonces-three.example/t/3"],
            "excerpt": "Nouvelle à Lyon, douce et discrète, disponible ce soir pour messieurs "
            "respectueux. Massage relaxant dans mon studio, douche disponible, parking facile. "
            "Pas de SMS, appelle au 03 53 01 33 33. Bisous.",
        },
    )
    [link] = links_between(a, b)
    assert link.kind == "similar_text"
    assert link.evidence["similarity"] >= 0.6
    assert not links_between(a, c) and not links_between(b, c)


def test_a_step_prepared_for_other_reports_reads_its_own_again() -> None:
    """The pipeline prepares a batch before locking it; when another worker took some of
    the reports meanwhile, the step records what the reports it holds carry, and only
    that."""
    from django.db import transaction

    from tipline.common import pipeline

    reports = [
        {"urls": ["https://annonces-one.example/t/1"], "excerpt": ad(phone="01 99 00 11 11")},
        {"urls": ["https://annonces-two.example/t/2"], "excerpt": ad(phone="02 61 91 22 22")},
    ]
    drafts = [(i, core.parse_report(r, max_media_bytes=1024)) for i, r in enumerate(reports)]
    outcomes = intake.reports_receive(drafts=drafts, channel=Channel.PUBLIC)
    ids = [o.report_id for o in outcomes]  # type: ignore[union-attr]
    for stage in pipeline.STAGES[:2]:  # harmonize and analyze; no task is run
        assert intake.reports_run_stage(stage=stage, report_ids=ids, worker_id="t") == set()
    first, second = (Item.objects.get(report_links__report_id=i) for i in ids)
    prepared = services.reports_crossref_prepare(ids)
    assert prepared.report_ids == set(ids) and len(prepared.bands) == 2
    with transaction.atomic():
        services.reports_crossref([ids[0]], prepared)
    assert set(Trace.objects.values_list("item_id", flat=True)) == {first.id}
    assert list(TextPrint.objects.values_list("item_id", flat=True)) == [first.id]
    with transaction.atomic():
        services.reports_crossref([ids[1]], prepared)  # prepared for both: read again
    [link] = links_between(first, second)
    assert link.kind == "similar_text"


def test_a_default_allowed_domain_never_links(run_tasks) -> None:
    a, b = send(
        run_tasks,
        {"urls": ["https://www.facebook.com/profile/111"]},
        {"urls": ["https://facebook.com/profile/222"]},
    )
    assert not links_between(a, b)
    assert AllowedValue.objects.filter(value="facebook.com").exists()


def test_allowing_a_value_withdraws_its_links_and_splits_the_network(run_tasks) -> None:
    a, b = send(
        run_tasks,
        {"urls": ["https://one.example/1"], "excerpt": "signalé au 01 99 00 44 44"},
        {"urls": ["https://two.example/2"], "excerpt": "appelé le 01 99 00 44 44"},
    )
    assert network_of(a) == network_of(b) is not None
    # The hotline's own number, quoted by reporters: it must not link what they report.
    row = services.allowed_value_add(kind="shared_phone", value="+33199004444")
    assert network_of(a) is None and network_of(b) is None
    [link] = links_between(a, b, state="withdrawn")
    assert "allowed" in link.reason
    [c] = send(run_tasks, {"urls": ["https://three.example/3"], "excerpt": "tel 01 99 00 44 44"})
    assert network_of(c) is None
    services.allowed_value_remove(allowed_id=row.pk)
    assert network_of(a) == network_of(b) == network_of(c) is not None


def test_a_value_on_too_many_items_becomes_common_and_its_links_are_withdrawn(
    run_tasks, settings
) -> None:
    settings.CROSSREF_COMMON_AFTER = 3
    shared = "réservations au 09 77 40 00 00"
    items = send(
        run_tasks,
        *(
            {"urls": [f"https://site{i}.example/ad"], "excerpt": f"Annonce {i}. {shared}"}
            for i in range(3)
        ),
    )
    assert len({network_of(i) for i in items}) == 1
    # Two of them also share another phone: they must stay together.
    _x, _y = send(
        run_tasks,
        {"urls": ["https://site0.example/ad"], "excerpt": "autre numéro 01 99 00 55 55"},
        {"urls": ["https://site1.example/ad"], "excerpt": "autre numéro 01 99 00 55 55"},
    )
    [fourth] = send(run_tasks, {"urls": ["https://site3.example/ad"], "excerpt": shared})
    common = CommonValue.objects.get(kind="shared_phone", value="+33977400000")
    assert common.item_count == 4 and common.decision == ""
    assert not Link.objects.filter(value="+33977400000", state="active").exists()
    assert network_of(items[0]) == network_of(items[1]) is not None
    assert network_of(items[2]) is None and network_of(fourth) is None


def _partition() -> set[frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for item_id, network_id in Membership.objects.values_list("item_id", "network_id"):
        groups.setdefault(network_id, set()).add(Item.objects.get(id=item_id).url)
    return {frozenset(g) for g in groups.values()}


@pytest.mark.parametrize("order", [[0, 1, 2, 3, 4, 5], [5, 3, 1, 4, 0, 2]])
def test_networks_do_not_depend_on_the_order_reports_arrive(run_tasks, settings, order) -> None:  # type: ignore[no-untyped-def]
    settings.CROSSREF_COMMON_AFTER = 3
    reports = [
        {"urls": ["https://a.example/0"], "excerpt": "tel 01 99 00 00 01 ou 09 77 40 99 99"},
        {"urls": ["https://a.example/1"], "excerpt": "tel 01 99 00 00 01 ou 09 77 40 99 99"},
        {"urls": ["https://a.example/2"], "excerpt": "tel 01 99 00 00 02 ou 09 77 40 99 99"},
        {"urls": ["https://a.example/3"], "excerpt": "tel 01 99 00 00 02 ou 09 77 40 99 99"},
        {"urls": ["https://a.example/4"], "excerpt": "tel 01 99 00 00 04"},
        {"urls": ["https://a.example/5"], "excerpt": "tel 01 99 00 00 04"},
    ]
    for i in order:
        send(run_tasks, reports[i])
    assert _partition() == {
        frozenset({"https://a.example/0", "https://a.example/1"}),
        frozenset({"https://a.example/2", "https://a.example/3"}),
        frozenset({"https://a.example/4", "https://a.example/5"}),
    }


def test_a_link_between_two_networks_merges_them_and_says_why(run_tasks) -> None:
    a, _b, c, _d = send(
        run_tasks,
        {"urls": ["https://m1.example/a"], "excerpt": "appelle 01 99 00 10 10"},
        {"urls": ["https://m2.example/b"], "excerpt": "appelle 01 99 00 10 10"},
        {"urls": ["https://m3.example/c"], "excerpt": "appelle 02 61 91 20 20"},
        {"urls": ["https://m4.example/d"], "excerpt": "appelle 02 61 91 20 20"},
        {"urls": ["https://m5.example/e"], "excerpt": "appelle 02 61 91 20 20"},
    )[:4]
    small, large = network_of(a), network_of(c)
    assert small != large
    [bridge] = send(
        run_tasks, {"urls": ["https://m6.example/e"], "excerpt": "01 99 00 10 10 / 02 61 91 20 20"}
    )
    assert network_of(a) == network_of(c) == network_of(bridge) == large
    event = NetworkEvent.objects.get(network_id=large, kind="merged")
    assert event.other_id == small
    assert event.link is not None and bridge.pk in (event.link.item_a_id, event.link.item_b_id)
    assert Network.objects.get(id=small).merged_into_id == large
    assert Network.objects.get(id=large).item_count == 6
    # The absorbed network's id still leads to the network.
    assert selectors.network_summary(small)["id"] == large  # type: ignore[index]


def test_cutting_the_only_link_between_two_halves_splits_the_network_for_good(
    run_tasks,
) -> None:
    a, b, c, d = send(
        run_tasks,
        {"urls": ["https://c1.example/a"], "excerpt": "appelle 01 99 00 30 30"},
        {"urls": ["https://c2.example/b"], "excerpt": "appelle 01 99 00 30 30 ou 02 61 91 40 40"},
        {"urls": ["https://c3.example/c"], "excerpt": "appelle 02 61 91 40 40 ou 03 53 01 50 50"},
        {"urls": ["https://c4.example/d"], "excerpt": "appelle 03 53 01 50 50"},
    )
    assert len({network_of(i) for i in (a, b, c, d)}) == 1
    [bridge] = links_between(b, c)
    user = User.objects.create_user("analyst1", is_staff=True)
    services.link_cut(link_id=bridge.pk, by=user, reason="same switchboard, different people")
    assert network_of(a) == network_of(b) != network_of(c) == network_of(d)
    assert network_of(c) is not None
    assert NetworkEvent.objects.filter(kind="split", link=bridge).exists()
    # A new report bringing the same value again does not re-create the cut link.
    send(run_tasks, {"urls": ["https://c2.example/b"], "excerpt": "nouveau: 02 61 91 40 40"})
    [again] = Link.objects.filter(id=bridge.pk)
    assert again.state == "cut" and again.changed_by == user
    assert network_of(b) != network_of(c)


def test_cutting_a_link_when_another_joins_the_same_items_splits_nothing(run_tasks) -> None:
    a, b = send(
        run_tasks,
        {"urls": ["https://one.example/a"], "excerpt": "01 99 00 60 60 lina@mail.example"},
        {"urls": ["https://two.example/b"], "excerpt": "01 99 00 60 60 lina@mail.example"},
    )
    phone = Link.objects.get(kind="shared_phone")
    services.link_cut(link_id=phone.pk, by=None, reason="reused switchboard")
    assert network_of(a) == network_of(b) is not None
    assert not NetworkEvent.objects.filter(kind="split").exists()
    with pytest.raises(services.CrossrefError, match="say why"):
        services.link_cut(link_id=Link.objects.get(kind="shared_email").pk, by=None, reason=" ")
    with pytest.raises(services.NotFound):
        services.link_cut(link_id=999_999, by=None, reason="x")


def test_a_link_cycle_is_one_network_and_the_path_gives_the_reasons(run_tasks) -> None:
    original = encoded(picture(3))
    a, b, c = send(
        run_tasks,
        {
            "urls": ["https://one.example/a"],
            "excerpt": "tel 01 99 00 70 70",
            "media": media(original),
        },
        {"urls": ["https://two.example/b"], "excerpt": "tel 01 99 00 70 70 telegram @lina_cycle"},
        {
            "urls": ["https://three.example/c"],
            "excerpt": "telegram @lina_cycle",
            "media": media(original),
        },
    )
    assert len({network_of(i) for i in (a, b, c)}) == 1
    assert Network.objects.get(id=network_of(a)).item_count >= 3
    path = selectors.link_path(a.pk, c.pk)
    assert path is not None and len(path) == 1
    assert path[0]["link"]["kind"] == "same_image"
    path = selectors.link_path(b.pk, c.pk)
    assert [s["link"]["kind"] for s in path] == ["shared_handle"]  # type: ignore[union-attr]
    # Once the direct link is cut, the path goes round the cycle, each step with its reason.
    services.link_cut(link_id=path[0]["link"]["id"], by=None, reason="test")  # type: ignore[index]
    path = selectors.link_path(b.pk, c.pk)
    assert path is not None and len(path) == 2
    assert {s["link"]["kind"] for s in path} == {"shared_phone", "same_image"}
    assert path[0]["from"] == b.pk and path[-1]["to"] == c.pk


def test_a_network_summary_counts_what_analysts_need(
    run_tasks, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    items = send(
        run_tasks,
        *(
            {
                "urls": [f"https://site{i}.example/ad"],
                "excerpt": f"Annonce {i}: appelle 01 99 00 80 80, escort dispo 24/7",
            }
            for i in range(12)
        ),
    )
    network_id = network_of(items[0])
    with django_assert_max_num_queries(20):
        summary = selectors.network_summary(network_id)  # type: ignore[arg-type]
    assert summary is not None
    assert summary["item_count"] == 12 and summary["report_count"] == 12
    assert summary["channels"] == {"public": 12}
    assert {
        "kind": "shared_phone",
        "value": "+33199008080",
        "items": 12,
        "common": False,
    } in summary["values"]
    assert summary["first_seen"] <= summary["last_seen"]
    assert summary["highest_priority"] is not None
    assert summary["events"][0]["kind"] == "created"


# --- The API (analyst tokens only) ---------------------------------------------------------


@pytest.fixture
def analyst_client(db) -> Client:  # type: ignore[no-untyped-def]
    from tipline.intake.services import staff_token_create

    user = staff_user("analyst")
    _, token = staff_token_create(user=user, name="test", scopes=["analyst"])
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_search_by_phone_finds_every_item_whatever_the_format(run_tasks, analyst_client) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = send(
        run_tasks,
        {"urls": ["https://one.example/a"], "excerpt": "appelle le 01.99.00.90.90"},
        {"urls": ["https://two.example/b"], "excerpt": "whatsapp +33 1 99 00 90 90"},
        {"urls": ["https://three.example/c"], "excerpt": "appelle le 01 99 00 91 91"},
    )
    r = analyst_client.get(
        "/api/v1/observables/search", {"type": "phone", "value": "01 99 00 90 90"}
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["value"] == "+33199009090" and body["total"] == 2
    assert {i["id"] for i in body["items"]} == {a.pk, b.pk}
    assert {i["network_id"] for i in body["items"]} == {network_of(a)}
    r = analyst_client.get("/api/v1/observables/search", {"type": "fax", "value": "1"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "type"
    assert "'phone'" in r.json()["errors"][0]["message"]  # the types it may be
    r = analyst_client.get("/api/v1/observables/search", {"type": "phone"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "value"


def test_the_network_api_is_for_analyst_tokens_only(run_tasks, analyst_client, api) -> None:  # type: ignore[no-untyped-def]
    a, b = send(
        run_tasks,
        {"urls": ["https://one.example/a"], "excerpt": "appelle 01 99 00 95 95"},
        {"urls": ["https://two.example/b"], "excerpt": "appelle 01 99 00 95 95"},
    )
    network_id = network_of(a)
    r = analyst_client.get(f"/api/v1/networks/{network_id}")
    assert r.status_code == 200
    assert r.json()["item_count"] == 2 and r.json()["links"][0]["kind"] == "shared_phone"
    assert api.get(f"/api/v1/networks/{network_id}").status_code == 401  # a provider's token
    assert Client().get(f"/api/v1/networks/{network_id}").status_code == 401
    assert analyst_client.get("/api/v1/networks/999999").status_code == 404
    r = analyst_client.get(
        f"/api/v1/networks/{network_id}/path", {"from_item": a.pk, "to_item": b.pk}
    )
    assert r.status_code == 200 and r.json()["steps"][0]["link"]["value"] == "+33199009595"
    link_id = r.json()["steps"][0]["link"]["id"]
    r = analyst_client.post(
        f"/api/v1/links/{link_id}/cut", {"reason": ""}, content_type="application/json"
    )
    assert r.status_code == 422
    r = analyst_client.post(
        f"/api/v1/links/{link_id}/cut", {"reason": "wrong"}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["state"] == "cut"
    assert network_of(a) is None


def test_pages_of_one_report_are_not_a_network_until_another_report_joins_them(
    run_tasks,
) -> None:
    send(
        run_tasks,
        {
            "urls": ["https://mirror-one.example/ad", "https://mirror-two.example/ad"],
            "excerpt": "appelle 01 99 00 77 77",
        },
    )
    assert not Link.objects.exists() and not Membership.objects.exists()
    [third] = send(
        run_tasks, {"urls": ["https://mirror-three.example/ad"], "excerpt": "01 99 00 77 77"}
    )
    pages = Item.objects.filter(url__contains="mirror")
    assert Link.objects.filter(kind="shared_phone").count() == 2
    assert {network_of(p) for p in pages} == {network_of(third)} != {None}


def test_pages_on_one_site_are_not_linked_for_it_but_a_page_is_linked_to_who_names_its_site(
    run_tasks,
) -> None:
    a, b, c = send(
        run_tasks,
        {"urls": ["https://classifieds-x.example/ad/1"], "excerpt": "douce et discrète"},
        {"urls": ["https://classifieds-x.example/ad/2"], "excerpt": "nouvelle en ville"},
        {"urls": ["https://lina-vip.example/photos"], "excerpt": "galerie privée"},
    )
    assert not Link.objects.exists()
    [d] = send(
        run_tasks,
        {"urls": ["https://classifieds-y.example/ad/3"], "excerpt": "plus sur lina-vip.example"},
    )
    [link] = links_between(c, d)
    assert (link.kind, link.value) == ("shared_domain", "lina-vip.example")
    assert network_of(a) is None and network_of(b) is None


def test_an_e_mail_s_domain_does_not_link_but_the_address_does(run_tasks) -> None:
    a, b, c = send(
        run_tasks,
        {"urls": ["https://one.example/a"], "excerpt": "écris à lina@webmail-x.example"},
        {"urls": ["https://two.example/b"], "excerpt": "écris à nora@webmail-x.example"},
        {"urls": ["https://three.example/c"], "excerpt": "contact: lina@webmail-x.example"},
    )
    assert not links_between(a, b)
    assert [link.kind for link in links_between(a, c)] == ["shared_email"]


def test_search_by_domain_finds_pages_on_it_and_items_naming_it(run_tasks, analyst_client) -> None:  # type: ignore[no-untyped-def]
    a, b = send(
        run_tasks,
        {"urls": ["https://lina-vip.example/photos"]},
        {"urls": ["https://classifieds-y.example/ad/3"], "excerpt": "plus sur lina-vip.example"},
    )
    r = analyst_client.get(
        "/api/v1/observables/search", {"type": "domain", "value": "LINA-VIP.example"}
    )
    assert r.status_code == 200
    assert {i["id"] for i in r.json()["items"]} == {a.pk, b.pk} and r.json()["total"] == 2


def test_a_damaged_saved_picture_index_is_rebuilt_from_the_database(run_tasks, settings) -> None:  # type: ignore[no-untyped-def]
    # The saved index is a cache in the data dir; a disk or a crash can damage it.
    root = settings.DATA_DIR
    (root / "media-pdq-index").mkdir(parents=True, exist_ok=True)
    (root / "media-pdq-index" / "meta.json").write_text("{not json")
    (root / "media-pdq-index.last-id").write_text("12")
    edited = picture(11)
    ImageDraw.Draw(edited).text((10, 10), "NEW 06", fill=(255, 255, 255))
    a, b = send(
        run_tasks,
        {"urls": ["https://one.example/p"], "media": media(encoded(picture(11)))},
        {
            "urls": ["https://two.example/p"],
            "media": media(encoded(edited, "JPEG", quality=70), "e.jpg"),
        },
    )
    assert [link.kind for link in links_between(a, b)] == ["similar_image"]
