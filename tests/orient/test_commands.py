"""Orient's management commands as an operator runs them: routing rules exported, edited and
imported; our exchange keys shown and rotated; partners added from their keys file; items
and networks exported as STIX, CSV and law-enforcement referral packages."""

from __future__ import annotations

import base64
import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.utils import timezone

from tipline.crossref.models import Membership
from tipline.harmonize.models import Item
from tipline.intake import core as intake_core
from tipline.intake import services as intake
from tipline.intake.choices import Channel
from tipline.intake.models import Report
from tipline.orient import core, exchange, exports, services
from tipline.orient.models import Destination, DestinationKind, Dispatch, Routing, Rule

from ..analyze.test_banks import encoded, picture
from ..conftest import drain
from .conftest import AD, hosted, report_page

pytestmark = pytest.mark.django_db

DEFAULT_NAMES = [r["name"] for r in core.DEFAULT_RULES]


def run(*args: str) -> tuple[str, str]:
    """Run `tipline <args>`; return what it wrote to stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def rules_in_force() -> list[str]:
    return [r.name for r in services.rules_current()[0]]


# --- rules ----------------------------------------------------------------------------------


def test_rules_export_reads_back_as_the_seeded_defaults() -> None:
    out, _ = run("rules", "export")
    assert out.startswith("# Tipline: Orient routing rules.")
    rules = core.rules_from_yaml(out)
    assert [r.name for r in rules] == DEFAULT_NAMES
    assert rules == core.default_rules()  # conditions, actions and flags too


def write_rules(path: Path, rules: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump(rules, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def edited_rules() -> list[dict[str, Any]]:
    """The exported rules as an operator edits them: no-hotline replaced by a rule that
    sends pages hosted in Brazil to the cybercrime unit."""
    out, _ = run("rules", "export")
    rules: list[dict[str, Any]] = yaml.safe_load(out)
    rules = [r for r in rules if r["name"] != "no-hotline"]
    rules.append(
        {
            "name": "brazil-to-cyber",
            "description": "Pages hosted in Brazil go to the cybercrime unit; the host is noticed.",
            "when": {"hosting_country": ["BR"]},
            "then": [
                {"do": "dispatch", "to": "police-cyber", "flag": "liaison officer for Brazil"},
                {"do": "notice"},
            ],
        }
    )
    return rules


def test_rules_import_replaces_the_rules_and_routing_follows_them(tmp_path) -> None:
    path = write_rules(tmp_path / "rules.yaml", edited_rules())

    out, _ = run("rules", "import", str(path))

    expected = [n for n in DEFAULT_NAMES if n != "no-hotline"] + ["brazil-to-cyber"]
    assert out.strip() == f"{len(expected)} rule(s) in force; items are routed again as they move"
    assert rules_in_force() == expected
    exported, _ = run("rules", "export")
    assert [r.name for r in core.rules_from_yaml(exported)] == expected

    item = report_page("https://ads-br.example/anuncio/3")
    hosted("ads-br.example", "BR", "abuse@hoster-br.example")
    routing = Routing.objects.get(item=item, is_current=True)
    assert routing.rules == ["brazil-to-cyber"]
    assert 'Rule "brazil-to-cyber"' in routing.reason
    office = Dispatch.objects.get(item=item, kind="dispatch")
    assert office.destination is not None and office.destination.code == "police-cyber"
    assert office.flag == "liaison officer for Brazil"
    assert Dispatch.objects.filter(item=item, kind="notice").exists()
    # Elsewhere without a hotline, nothing fires any more: held for an analyst.
    other = report_page("https://ads-ar.example/aviso/4")
    hosted("ads-ar.example", "AR", "abuse@hoster-ar.example")
    routing = Routing.objects.get(item=other, is_current=True)
    assert routing.rules == [] and routing.hold
    assert routing.reason == core.NO_MATCH_REASON


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param(
            yaml.safe_dump(
                [{"name": "by-host", "when": {"hosted_in": "BR"}, "then": [{"do": "notice"}]}]
            ),
            'rule #1 "by-host": field "when.hosted_in" is not a condition',
            id="unknown-condition",
        ),
        pytest.param(
            "- name: p1-escalate\n  when: {priority: [P1\n  then: []\n",
            "The rules are not valid YAML",
            id="invalid-yaml",
        ),
    ],
)
def test_an_invalid_rules_file_changes_nothing(tmp_path, text, problem) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    before = services.rules_current()
    ids = list(Rule.objects.order_by("id").values_list("id", flat=True))

    with pytest.raises(CommandError) as refused:
        run("rules", "import", str(path))

    message = str(refused.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert message.endswith("; nothing was changed")
    assert services.rules_current() == before
    assert list(Rule.objects.order_by("id").values_list("id", flat=True)) == ids


def test_one_bad_rule_at_the_end_of_a_good_file_changes_nothing(tmp_path) -> None:
    rules = edited_rules()
    rules[-1]["then"][0]["do"] = "forward"  # not an action
    path = write_rules(tmp_path / "rules.yaml", rules)
    bad = rf'rule #{len(DEFAULT_NAMES)} "brazil-to-cyber": field "then.*do".*; nothing was changed$'
    with pytest.raises(CommandError, match=bad):
        run("rules", "import", str(path))
    assert rules_in_force() == DEFAULT_NAMES


def test_a_missing_rules_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(CommandError, match=r"cannot read .*nowhere\.yaml"):
        run("rules", "import", str(tmp_path / "nowhere.yaml"))
    assert rules_in_force() == DEFAULT_NAMES


# --- keys -----------------------------------------------------------------------------------


def shown_keys() -> dict[str, Any]:
    out, _ = run("keys", "show")
    data: dict[str, Any] = json.loads(out)
    return data


def test_keys_show_prints_our_id_and_public_keys_only(settings) -> None:
    shown = shown_keys()
    assert shown["instance_id"] == settings.INSTANCE_ID
    assert shown["inbox_path"] == "/api/v1/exchange/inbox"
    assert [k["use"] for k in shown["keys"]] == ["sig", "enc"]
    assert all("d" not in k for k in shown["keys"])
    # What a partner would load with `tipline partners add`: accepted as it is.
    assert exchange.check_public_jwks(shown)["keys"] == shown["keys"]
    assert shown_keys() == shown  # made on first use, then the same


def test_keys_rotate_lists_the_new_keys_last_and_keeps_the_retired_ones() -> None:
    old = [k["kid"] for k in shown_keys()["keys"]]

    out, err = run("keys", "rotate")

    new = err.strip().removeprefix("new keys ").split(";")[0].split(", ")
    assert [kid.split("-")[0] for kid in new] == ["sig", "enc"]
    assert not set(new) & set(old)
    assert "give partners the output of `tipline keys show`" in err
    rotated = json.loads(out)
    assert [k["kid"] for k in rotated["keys"]] == [*old, *new]
    assert all("d" not in k for k in rotated["keys"])
    assert shown_keys() == rotated
    # A partner encrypts to the last "enc" key: the new one.
    assert [k["kid"] for k in rotated["keys"] if k["use"] == "enc"][-1] == new[1]


# --- partners -------------------------------------------------------------------------------


def their_keys_file(path: Path, *, instance_id: str | None = "tipline.be.example") -> Path:
    """What another instance's `tipline keys show` prints, saved to a file."""
    now = timezone.now()
    pair = [exchange.new_signing_key(now), exchange.new_encryption_key(now)]
    data: dict[str, Any] = {"inbox_path": "/api/v1/exchange/inbox", **exchange.public_jwks(pair)}
    if instance_id is not None:
        data["instance_id"] = instance_id
    path.write_text(json.dumps(data, indent=2))
    return path


def add_partner(keys: Path, code: str = "partner-be", country: str = "be") -> str:
    out, _ = run(
        "partners",
        "add",
        "--code",
        code,
        "--name",
        "Meldpunt Voorbeeld (fictional partner)",
        "--country",
        country,
        "--url",
        "https://hotline-be.example/api/v1/exchange/inbox",
        "--keys",
        str(keys),
        "--language",
        "fr",
    )
    return out


def test_a_partner_is_added_from_its_keys_file_and_listed(tmp_path) -> None:
    keys = their_keys_file(tmp_path / "be.json")

    out = add_partner(keys)

    assert out.strip() == "partner partner-be (BE) saved: tipline.be.example"
    listed, _ = run("partners", "list")
    assert listed.splitlines() == [
        "partner-be\tBE\ttipline.be.example\t"
        "https://hotline-be.example/api/v1/exchange/inbox\tactive"
    ]
    dest = Destination.objects.get(code="partner-be")
    assert (dest.kind, dest.language, dest.inhope_member) == (DestinationKind.PARTNER, "fr", True)
    assert dest.public_jwks == {"keys": json.loads(keys.read_text())["keys"]}
    # After they rotate, adding them again updates the keys of the same partner.
    rotated = their_keys_file(tmp_path / "be-rotated.json")
    add_partner(rotated)
    dest.refresh_from_db()
    assert dest.public_jwks == {"keys": json.loads(rotated.read_text())["keys"]}
    assert Destination.objects.filter(kind=DestinationKind.PARTNER).count() == 1


def test_a_keys_file_with_a_private_key_is_refused(tmp_path) -> None:
    now = timezone.now()
    leaked = {
        "instance_id": "tipline.be.example",
        "keys": [exchange.new_signing_key(now).jwk, exchange.new_encryption_key(now).jwk],
    }
    path = tmp_path / "leaked.json"
    path.write_text(json.dumps(leaked))
    with pytest.raises(CommandError, match='includes the private member "d"'):
        add_partner(path)
    assert not Destination.objects.filter(kind=DestinationKind.PARTNER).exists()


def test_a_keys_file_without_instance_id_is_refused(tmp_path) -> None:
    path = their_keys_file(tmp_path / "anonymous.json", instance_id=None)
    with pytest.raises(CommandError, match="the keys file has no instance_id"):
        add_partner(path)
    assert not Destination.objects.filter(kind=DestinationKind.PARTNER).exists()


def test_an_unreadable_keys_file_and_a_bad_country_are_refused(tmp_path) -> None:
    garbled = tmp_path / "garbled.json"
    garbled.write_text("{not json")
    with pytest.raises(CommandError, match=r"cannot read .*garbled\.json"):
        add_partner(garbled)
    with pytest.raises(CommandError, match="expected an ISO 3166 alpha-2 code"):
        add_partner(their_keys_file(tmp_path / "be.json"), country="Belgium")
    assert not Destination.objects.filter(kind=DestinationKind.PARTNER).exists()


def test_the_same_partner_under_another_code_is_a_clear_error(tmp_path) -> None:
    add_partner(their_keys_file(tmp_path / "be.json"))
    with pytest.raises(CommandError, match=r"tipline\.be\.example"):
        add_partner(their_keys_file(tmp_path / "be2.json"), code="partner-be-2")


# --- export ---------------------------------------------------------------------------------


def bundle_urls(bundle: dict[str, Any]) -> set[str]:
    return {o["value"] for o in bundle["objects"] if o["type"] == "url"}


def test_export_stix_of_an_item_is_valid_and_names_its_url() -> None:
    item = report_page("https://ads-export.example/annonce/1")
    out, _ = run("export", "stix", "--item", str(item.id))
    assert exports.validate_stix(out) == []
    bundle = json.loads(out)
    assert bundle_urls(bundle) == {"https://ads-export.example/annonce/1"}
    [report] = [o for o in bundle["objects"] if o["type"] == "report"]
    assert report["name"] == f"Tipline item {item.id}"


def network_of_two() -> tuple[Item, Item, int]:
    """Two pages whose ads give the same phone number: cross-reference links them."""
    a = report_page("https://annonces-one.example/a/1")
    b = report_page("https://classifieds-two.example/b/2", excerpt=f"Coucou ! {AD}")
    network = Membership.objects.get(item=a).network_id
    assert Membership.objects.get(item=b).network_id == network
    return a, b, network


def test_export_stix_of_a_network_holds_both_items() -> None:
    a, b, network = network_of_two()
    lonely = report_page("https://elsewhere.example/c/3", excerpt="rien à voir ici")
    out, _ = run("export", "stix", "--network", str(network), "--tlp", "red")
    assert exports.validate_stix(out) == []
    bundle = json.loads(out)
    assert bundle_urls(bundle) == {a.url, b.url}
    assert lonely.url not in out
    [report] = [o for o in bundle["objects"] if o["type"] == "report"]
    assert report["name"] == f"Tipline network {network}"
    assert "TLP:RED" in report["description"]


def test_export_csv_of_an_item_has_a_header_and_one_row(capsys) -> None:
    item = report_page("https://ads-csv.example/annonce/2")
    call_command("export", "csv", "--item", str(item.id))
    text = capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(exports.CSV_COLUMNS)
    [row] = rows[1:]
    values = dict(zip(exports.CSV_COLUMNS, row, strict=True))
    assert (values["item_id"], values["url"], values["theme"]) == (
        str(item.id),
        "https://ads-csv.example/annonce/2",
        "trafficking",
    )
    assert "phone:+33199001234" in values["observables"]


def test_export_csv_writes_to_the_commands_stdout() -> None:
    item = report_page("https://ads-csv.example/annonce/3")
    out, _ = run("export", "csv", "--item", str(item.id))
    assert out.startswith(",".join(exports.CSV_COLUMNS) + "\r\n")


def report_with_picture(url: str) -> tuple[Item, Report, bytes]:
    image = encoded(picture(11))
    draft = intake_core.parse_report(
        {
            "urls": [url],
            "excerpt": AD,
            "category": "trafficking",
            "reporter": {"name": "Camille Exemple", "email": "camille@reporter.example"},
            "media": [{"filename": "ad.png", "content_base64": base64.b64encode(image).decode()}],
        },
        max_media_bytes=1 << 22,
    )
    [outcome] = intake.reports_receive(drafts=[(0, draft)], channel=Channel.PUBLIC)
    drain()
    report = Report.objects.get(id=outcome.report_id)  # type: ignore[union-attr]
    return report.report_items.get(item__kind="url").item, report, image


def test_export_referral_writes_a_package_whose_manifest_checks_out(tmp_path) -> None:
    item, report, image = report_with_picture("https://ads-referral.example/annonce/9")
    target = tmp_path / "r.zip"

    out, _ = run("export", "referral", "--item", str(item.id), "--out", str(target))

    with zipfile.ZipFile(target) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert json.loads(out) == {"file": str(target), "files": len(files)}
    manifest = files.pop("manifest.sha256").decode()
    assert exports.check_manifest(manifest, files) == []
    referral = json.loads(files["referral.json"])
    assert referral["title"] == f"Tipline item {item.id}"
    [entry] = referral["items"]
    assert entry["item"]["url"] == "https://ads-referral.example/annonce/9"
    [sent] = entry["reports"]
    assert sent["receipt"] == report.receipt
    assert sent["reporter"]["email"] == "camille@reporter.example"
    [media] = sent["media"]
    assert files[f"evidence/{media['file']}"] == image  # the file as the reporter sent it
    assert referral["missing_evidence"] == []


def test_export_of_what_does_not_exist_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(CommandError, match="there is no item 999999"):
        run("export", "stix", "--item", "999999")
    with pytest.raises(CommandError, match="there is no network 999999"):
        run("export", "csv", "--network", "999999")
    item = report_page("https://ads-noout.example/x")
    with pytest.raises(CommandError, match="referral needs --out"):
        run("export", "referral", "--item", str(item.id))
    assert list(tmp_path.iterdir()) == []
