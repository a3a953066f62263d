"""Orient's pure routing engine: the default rules, rule order, checking rules read from the
admin or YAML, and when an action may be carried out."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tipline.orient import core
from tipline.orient.core import Action, ItemFacts, Rule, RuleError

HOME = ItemFacts(
    item_id=1,
    kind="url",
    theme="trafficking",
    classification="national",
    assessed=True,
    priority="P3",
    risk=40,
    channels=("public",),
    known_content=False,
    hosting="home",
    hosting_country="FR",
    host="ads.example",
    abuse_email="abuse@ads.example",
)


def facts(**changes: Any) -> ItemFacts:
    return dataclasses.replace(HOME, **changes)


def rule(**data: Any) -> Rule:
    data.setdefault("name", "r")
    data.setdefault("description", "")
    data.setdefault("then", [{"do": "hold"}])
    return core.rule_from_dict(data)


# --- The default rules ------------------------------------------------------------------------


def test_hosted_at_home_goes_to_the_office_for_its_theme_and_the_host_gets_a_notice() -> None:
    decision = core.route(HOME, core.default_rules())
    assert [f.rule for f in decision.fired] == ["hosted-at-home"]
    assert decision.actions == (Action(do="dispatch", to="office"), Action(do="notice"))
    assert decision.reason == (
        'Rule "hosted-at-home": hosted in FR, our country (ads.example). '
        "→ send to the competent office for trafficking; "
        "send a notice to the host (abuse@ads.example)."
    )
    assert not decision.hold and not decision.escalate and decision.close_as == ""


def test_partner_country_goes_to_the_partner_hotline_of_that_country() -> None:
    item = facts(hosting="partner", hosting_country="DE", host="", abuse_email="")
    decision = core.route(item, core.default_rules())
    assert [f.rule for f in decision.fired] == ["partner-country"]
    assert decision.actions == (Action(do="dispatch", to="partner"),)
    assert decision.reason == (
        'Rule "partner-country": hosted in DE, which has a partner hotline. '
        "→ send to the partner hotline of DE."
    )


def test_no_hotline_goes_to_the_office_with_a_flag_and_a_notice_without_contact() -> None:
    item = facts(hosting="none", hosting_country="BR", theme="csam", host="", abuse_email="")
    decision = core.route(item, core.default_rules())
    assert [f.rule for f in decision.fired] == ["no-hotline"]
    assert decision.actions == (
        Action(do="dispatch", to="office", flag="hosted in a country without a partner hotline"),
        Action(do="notice"),
    )
    assert decision.reason == (
        'Rule "no-hotline": hosted in BR, where no partner hotline exists. '
        "→ send to the competent office for csam "
        "(flag: hosted in a country without a partner hotline); "
        "send a notice to the host (no abuse contact known yet)."
    )


def test_unknown_hosting_is_held_for_the_lookup() -> None:
    decision = core.route(facts(hosting="unknown", hosting_country=""), core.default_rules())
    assert [f.rule for f in decision.fired] == ["hosting-unknown"]
    assert decision.hold
    assert decision.reason == (
        'Rule "hosting-unknown": hosting not known yet. '
        "→ hold for an analyst (waiting for the hosting lookup)."
    )


def test_p1_escalates_and_routing_goes_on_to_the_dispatch() -> None:
    decision = core.route(facts(priority="P1"), core.default_rules())
    assert [f.rule for f in decision.fired] == ["p1-escalate", "hosted-at-home"]
    assert decision.escalate and not decision.hold
    assert [a.do for a in decision.actions] == ["escalate", "dispatch", "notice"]
    assert decision.reason.startswith(
        'Rule "p1-escalate": priority P1. → escalate at once to the supervisor on duty. '
        'Rule "hosted-at-home": '
    )
    assert decision.fired[0].reason in decision.reason
    assert decision.fired[1].reason in decision.reason


def test_assessed_not_illegal_is_closed_even_when_hosted_at_home() -> None:
    decision = core.route(facts(classification="not_illegal"), core.default_rules())
    assert [f.rule for f in decision.fired] == ["not-illegal"]
    assert decision.close_as == "not_illegal"
    assert decision.actions == (Action(do="close", close_as="not_illegal"),)
    assert "assessed by an analyst; classified not illegal" in decision.reason
    assert "close as not illegal" in decision.reason


def test_not_illegal_without_an_assessment_is_not_closed() -> None:
    item = facts(classification="not_illegal", assessed=False)
    decision = core.route(item, core.default_rules())
    assert [f.rule for f in decision.fired] == ["hosted-at-home"]
    assert decision.close_as == ""


def test_doubtful_is_held_for_a_senior_analyst() -> None:
    decision = core.route(facts(classification="doubtful"), core.default_rules())
    assert [f.rule for f in decision.fired] == ["doubtful"]
    assert decision.hold
    assert "classified doubtful" in decision.reason
    assert "(classification doubtful: a senior analyst decides)" in decision.reason


def test_known_media_is_closed_as_known_and_new_media_is_held() -> None:
    rules = core.default_rules()
    known = core.route(facts(kind="media", known_content=True), rules)
    assert [f.rule for f in known.fired] == ["known-off-web"]
    assert known.close_as == "known" and not known.hold
    assert "it matches a hash bank entry; a media file" in known.reason
    assert "close as known content" in known.reason

    new = core.route(facts(kind="text", hosting="unknown"), rules)
    assert [f.rule for f in new.fired] == ["not-on-the-web"]
    assert new.hold and new.close_as == ""
    assert "a text" in new.reason and "no URL: nothing to send" in new.reason


def test_known_content_on_the_web_is_still_routed_to_its_host() -> None:
    decision = core.route(facts(known_content=True), core.default_rules())
    assert [f.rule for f in decision.fired] == ["hosted-at-home"]


def test_default_rules_match_their_plain_form_and_are_all_described() -> None:
    rules = core.default_rules()
    assert [r.name for r in rules] == [
        "p1-escalate",
        "duplicate",
        "not-illegal",
        "doubtful",
        "known-off-web",
        "not-on-the-web",
        "hosting-unknown",
        "hosted-at-home",
        "partner-country",
        "no-hotline",
    ]
    assert [core.rule_to_dict(r) for r in rules] == core.DEFAULT_RULES
    assert all(r.description.endswith(".") for r in rules)
    assert [r.final for r in rules] == [False] + [True] * 9


# --- Order, disabled rules, no match ----------------------------------------------------------


def test_the_first_final_rule_wins_and_later_rules_do_not_fire() -> None:
    rules = [
        rule(name="first", when={"theme": "trafficking"}, then=[{"do": "dispatch", "to": "a"}]),
        rule(name="second", when={"hosting": "home"}, then=[{"do": "dispatch", "to": "b"}]),
    ]
    decision = core.route(HOME, rules)
    assert [f.rule for f in decision.fired] == ["first"]
    assert decision.actions == (Action(do="dispatch", to="a"),)
    decision = core.route(HOME, list(reversed(rules)))
    assert [f.rule for f in decision.fired] == ["second"]


def test_non_final_rules_add_up_and_exact_duplicate_actions_are_removed() -> None:
    rules = [
        rule(name="a", final=False, then=[{"do": "notice"}, {"do": "escalate"}]),
        rule(name="b", final=False, when={"risk_at_least": 90}, then=[{"do": "hold"}]),
        rule(name="c", then=[{"do": "notice"}, {"do": "notice", "confirm": "auto"}]),
        rule(name="d", then=[{"do": "hold"}]),
    ]
    decision = core.route(HOME, rules)
    assert [f.rule for f in decision.fired] == ["a", "c"]
    assert decision.actions == (
        Action(do="notice"),
        Action(do="escalate"),
        Action(do="notice", confirm="auto"),
    )
    assert 'Rule "a": always.' in decision.reason


def test_disabled_rules_are_skipped() -> None:
    rules = [
        rule(name="off", enabled=False, then=[{"do": "close", "close_as": "duplicate"}]),
        rule(name="on", then=[{"do": "escalate"}]),
    ]
    decision = core.route(HOME, rules)
    assert [f.rule for f in decision.fired] == ["on"]
    assert decision.close_as == "" and decision.escalate


def test_no_match_holds_for_an_analyst() -> None:
    rules = [rule(name="p1", when={"priority": "P1"}, then=[{"do": "escalate"}])]
    decision = core.route(HOME, rules)
    assert decision.fired == () and decision.actions == ()
    assert decision.hold and not decision.escalate
    assert decision.reason == "No rule matched: the item is held for an analyst."
    assert core.route(HOME, []).hold


# --- Conditions and their words -------------------------------------------------------------


def test_conditions_hold_as_documented() -> None:
    holds = core.condition_holds
    assert holds("kind", ("media", "url"), HOME) and not holds("kind", ("media",), HOME)
    assert holds("theme", "trafficking", HOME) and not holds("theme", ("csam",), HOME)
    assert holds("classification", ("national",), HOME)
    assert holds("priority", ("P2", "P3"), HOME) and not holds("priority", ("P1",), HOME)
    assert holds("hosting", ("home",), HOME) and not holds("hosting", ("partner",), HOME)
    assert holds("hosting_country", ("fr",), HOME) and not holds("hosting_country", ("DE",), HOME)
    assert not holds("hosting_country", ("FR",), facts(hosting_country=""))
    assert holds("channel", ("provider", "public"), HOME)
    assert not holds("channel", ("provider",), HOME)
    assert not holds("channel", ("public",), facts(channels=()))
    assert holds("assessed", True, HOME) and not holds("assessed", False, HOME)
    assert holds("known_content", False, HOME) and not holds("known_content", True, HOME)
    assert holds("risk_at_least", 40, HOME) and not holds("risk_at_least", 41, HOME)
    with pytest.raises(RuleError, match="colour"):
        holds("colour", "red", HOME)


def test_reasons_describe_each_matched_condition_and_action() -> None:
    item = facts(channels=("public", "provider", "partner"), risk=85, priority="P2")
    the_rule = rule(
        name="wide",
        when={
            "kind": "url",
            "theme": "trafficking",
            "classification": "national",
            "assessed": True,
            "priority": ["P1", "P2"],
            "risk_at_least": 70,
            "hosting_country": "fr",
            "channel": ["provider", "partner"],
            "known_content": False,
        },
        then=[
            {"do": "dispatch", "to": "police-cyber", "confirm": "person"},
            {"do": "notice", "confirm": "auto"},
            {"do": "close", "close_as": "duplicate", "flag": "same as item 7"},
        ],
    )
    assert core.route(item, [the_rule]).reason == (
        'Rule "wide": a web page; theme trafficking; classified national (illegal here); '
        "assessed by an analyst; priority P2; risk 85, at least 70; hosted in FR; "
        "reported by a provider and by a partner hotline; not known content. "
        "→ send to police-cyber once a person confirms; "
        "send a notice to the host (abuse@ads.example) at once, with no confirmation; "
        "close as a duplicate (flag: same as item 7)."
    )


# --- Checking rules ---------------------------------------------------------------------------


GOOD: dict[str, Any] = {
    "name": "good",
    "description": "A rule.",
    "when": {"hosting": "home"},
    "then": [{"do": "dispatch", "to": "office"}],
}


def test_rule_from_dict_normalises_values() -> None:
    checked = core.rule_from_dict(
        {
            "name": "n",
            "when": {
                "theme": "csam",
                "kind": ["media", "text", "media"],
                "hosting_country": ["de", "At"],
            },
            "then": [{"do": "hold"}],
        }
    )
    assert checked.when == {
        "theme": ("csam",),
        "kind": ("media", "text"),
        "hosting_country": ("DE", "AT"),
    }
    assert checked.description == "" and checked.final and checked.enabled
    assert core.rule_from_dict({"name": "n", "then": [{"do": "hold"}]}).when == {}
    assert core.rule_to_dict(checked)["when"] == {
        "theme": "csam",
        "kind": ["media", "text"],
        "hosting_country": ["DE", "AT"],
    }


BAD_RULES: list[tuple[dict[str, Any], str, str]] = [
    # (changes to GOOD, the field the message names, words the message contains)
    ({"colour": "red"}, '"colour"', "name, description, when, then, final, enabled"),
    ({"name": "Bad Name"}, '"name"', "slug"),
    ({"name": "x" * 65}, '"name"', "at most 64"),
    ({"description": 3}, '"description"', "expects text"),
    ({"when": ["hosting"]}, '"when"', "mapping"),
    ({"when": {"colour": "red"}}, '"when.colour"', "kind, theme, classification"),
    ({"when": {"kind": "page"}}, '"when.kind"', "url, media, text"),
    ({"when": {"theme": ["csam", "drugs"]}}, '"when.theme"', '"drugs"'),
    ({"when": {"classification": "illegal"}}, '"when.classification"', "baseline"),
    ({"when": {"priority": "P5"}}, '"when.priority"', "P1, P2, P3, P4"),
    ({"when": {"hosting": "abroad"}}, '"when.hosting"', "home, partner, none, unknown"),
    ({"when": {"channel": "email"}}, '"when.channel"', "public, provider, partner"),
    ({"when": {"hosting_country": "DEU"}}, '"when.hosting_country"', "two-letter"),
    ({"when": {"hosting_country": False}}, '"when.hosting_country"', 'quotes, e.g. "NO"'),
    ({"when": {"kind": []}}, '"when.kind"', "empty list"),
    ({"when": {"assessed": "yes"}}, '"when.assessed"', "true or false"),
    ({"when": {"known_content": 1}}, '"when.known_content"', "true or false"),
    ({"when": {"risk_at_least": 101}}, '"when.risk_at_least"', "0 to 100"),
    ({"when": {"risk_at_least": True}}, '"when.risk_at_least"', "0 to 100"),
    ({"when": {"risk_at_least": "50"}}, '"when.risk_at_least"', "whole number"),
    ({"then": []}, '"then"', "non-empty list"),
    ({"then": {"do": "hold"}}, '"then"', "non-empty list"),
    ({"then": ["hold"]}, '"then[1]"', "action mapping"),
    ({"then": [{"do": "hold"}, {"do": "delete"}]}, '"then[2].do"', "dispatch, notice, hold"),
    ({"then": [{"to": "office"}]}, '"then[1].do"', "dispatch, notice"),
    ({"then": [{"do": "hold", "why": "x"}]}, '"then[1].why"', "do, to, confirm, close_as, flag"),
    ({"then": [{"do": "dispatch"}]}, '"then[1].to"', "required to dispatch"),
    ({"then": [{"do": "dispatch", "to": "Police Cyber"}]}, '"then[1].to"', "destination code"),
    ({"then": [{"do": "notice", "to": "office"}]}, '"then[1].to"', "dispatch only"),
    ({"then": [{"do": "hold", "confirm": "auto"}]}, '"then[1].confirm"', "dispatch and notice"),
    ({"then": [{"do": "notice", "confirm": "later"}]}, '"then[1].confirm"', "auto, assessed"),
    ({"then": [{"do": "close"}]}, '"then[1].close_as"', "duplicate, known, not_illegal"),
    ({"then": [{"do": "close", "close_as": "fixed"}]}, '"then[1].close_as"', '"fixed"'),
    ({"then": [{"do": "hold", "close_as": "known"}]}, '"then[1].close_as"', "close only"),
    ({"then": [{"do": "hold", "flag": 3}]}, '"then[1].flag"', "expects text"),
    ({"final": "no"}, '"final"', "true or false"),
    ({"enabled": None}, '"enabled"', "true or false"),
]


@pytest.mark.parametrize(("changes", "field", "words"), BAD_RULES)
def test_unusable_rules_are_refused_naming_the_rule_and_the_field(
    changes: dict[str, Any], field: str, words: str
) -> None:
    core.rule_from_dict(GOOD)  # the base is fine: only the change is wrong
    data = {**GOOD, **changes}
    with pytest.raises(RuleError) as caught:
        core.rule_from_dict(data, position=4)
    message = str(caught.value)
    assert message.startswith('rule #4 "good": ' if data["name"] == "good" else "rule #4: "), (
        message
    )
    assert f"field {field}" in message
    assert words in message


def test_a_rule_without_a_name_is_named_by_position_or_refused_plainly() -> None:
    with pytest.raises(RuleError, match=r'^rule #2: field "name" is required'):
        core.rule_from_dict({"then": [{"do": "hold"}]}, position=2)
    with pytest.raises(RuleError, match=r'^rule: field "name" is required'):
        core.rule_from_dict({"name": "", "then": [{"do": "hold"}]})
    with pytest.raises(RuleError, match=r'^rule "good": field "then"'):
        core.rule_from_dict({"name": "good"})
    with pytest.raises(RuleError, match=r"^rule #3: expects a mapping"):
        core.rule_from_dict(["name", "good"], position=3)  # type: ignore[arg-type]


# --- YAML ------------------------------------------------------------------------------------


def test_default_rules_round_trip_through_yaml() -> None:
    text = core.rules_to_yaml(core.default_rules())
    assert text.startswith("# Tipline: Orient routing rules.")
    assert "kind: [media, text]" in text
    assert "\n\n- name: partner-country\n" in text
    assert all(len(line) <= 100 for line in text.splitlines() if line.startswith("#"))
    assert core.rules_from_yaml(text) == core.default_rules()


def test_yaml_round_trip_keeps_tricky_values() -> None:
    rules = [
        rule(
            name="norway",
            description='Contenu hébergé en Norvège: "NO" must stay a country.',
            when={"hosting_country": ["NO", "ON"], "channel": "partner", "risk_at_least": 0},
            then=[{"do": "dispatch", "to": "partner", "confirm": "person", "flag": "yes: on"}],
            final=False,
            enabled=False,
        ),
        rule(name="always", then=[{"do": "notice", "confirm": "auto"}]),
    ]
    text = core.rules_to_yaml(rules)
    assert "hébergé" in text  # allow_unicode: readable, not escaped
    assert core.rules_from_yaml(text) == rules
    assert core.rules_from_yaml("rules:\n" + text.split("\n\n", 1)[1]) == rules


def test_yaml_accepts_a_rules_mapping_and_empty_text() -> None:
    text = "rules:\n  - name: only\n    when: {priority: P1}\n    then: [{do: escalate}]\n"
    (only,) = core.rules_from_yaml(text)
    assert only.name == "only" and only.when == {"priority": ("P1",)}
    assert core.rules_from_yaml("") == []
    assert core.rules_from_yaml("rules:\n") == []


def test_yaml_refuses_duplicate_names_naming_both_positions() -> None:
    text = (
        "- {name: a, then: [{do: hold}]}\n"
        "- {name: b, then: [{do: hold}]}\n"
        "- {name: a, then: [{do: escalate}]}\n"
    )
    with pytest.raises(RuleError, match=r'rule #3 "a": field "name" repeats .* rule #1'):
        core.rules_from_yaml(text)


def test_yaml_errors_name_the_rule_and_the_field() -> None:
    text = "- {name: a, then: [{do: hold}]}\n- {name: b, when: {hosting_country: NO}, then: []}\n"
    with pytest.raises(RuleError, match=r'^rule #2 "b": field "when.hosting_country".*quotes'):
        core.rules_from_yaml(text)
    with pytest.raises(RuleError, match="not valid YAML"):
        core.rules_from_yaml("- {name: a, then: [")
    with pytest.raises(RuleError, match='single key "rules"'):
        core.rules_from_yaml("rule: []\n")
    with pytest.raises(RuleError, match="expects a list of rules"):
        core.rules_from_yaml("just words\n")
    with pytest.raises(RuleError, match="python"):
        core.rules_from_yaml("!!python/object/apply:os.system ['true']\n")


# --- When an action may be carried out --------------------------------------------------------


def test_waiting_for_each_confirm_mode() -> None:
    new = facts(assessed=False, known_content=False)
    known = facts(assessed=False, known_content=True)
    for do in ("hold", "close", "escalate"):
        assert core.waiting_for(Action(do=do), new) == ""
    for do in ("dispatch", "notice"):
        to = "office" if do == "dispatch" else ""
        auto, default = Action(do=do, to=to, confirm="auto"), Action(do=do, to=to)
        assessed, person = (Action(do=do, to=to, confirm=c) for c in ("assessed", "person"))
        assert core.waiting_for(auto, new) == ""
        for action in (default, assessed):
            assert core.waiting_for(action, new) == "waiting for an analyst's assessment"
            assert core.waiting_for(action, HOME) == ""
            assert core.waiting_for(action, known) == ""
            waits = core.waiting_for(action, known, known_content_counts_as_assessed=False)
            assert waits == "waiting for an analyst's assessment"
        assert core.waiting_for(person, HOME) == "waiting for a person to confirm"
        assert core.waiting_for(person, known) == "waiting for a person to confirm"


# --- Routing never fails ----------------------------------------------------------------------


def _maybe_words(words: tuple[str, ...]) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(words), st.lists(st.sampled_from(words), min_size=1))


_CONDITIONS: dict[str, st.SearchStrategy[Any]] = {
    "kind": _maybe_words(core.KINDS),
    "theme": _maybe_words(core.THEMES),
    "classification": _maybe_words(core.CLASSIFICATIONS),
    "priority": _maybe_words(core.PRIORITIES),
    "hosting": _maybe_words(core.HOSTING_CLASSES),
    "channel": _maybe_words(core.CHANNELS),
    "hosting_country": _maybe_words(("FR", "DE", "br", "NO")),
    "assessed": st.booleans(),
    "known_content": st.booleans(),
    "risk_at_least": st.integers(0, 100),
}
_ACTION_DICTS = st.one_of(
    st.builds(
        lambda to, confirm, flag: {"do": "dispatch", "to": to, "confirm": confirm, "flag": flag},
        st.sampled_from(["office", "partner", "police-cyber"]),
        st.sampled_from(["", *core.CONFIRM]),
        st.text(max_size=20),
    ),
    st.builds(lambda c: {"do": "notice", "confirm": c}, st.sampled_from(["", *core.CONFIRM])),
    st.builds(lambda f: {"do": "hold", "flag": f}, st.text(max_size=20)),
    st.builds(lambda c: {"do": "close", "close_as": c}, st.sampled_from(core.CLOSE_AS)),
    st.just({"do": "escalate"}),
)
_RULES = st.lists(
    st.builds(
        lambda when, then, final, enabled: core.rule_from_dict(
            {"name": "r", "when": when, "then": then, "final": final, "enabled": enabled}
        ),
        st.fixed_dictionaries({}, optional=_CONDITIONS),
        st.lists(_ACTION_DICTS, min_size=1, max_size=3),
        st.booleans(),
        st.booleans(),
    ),
    max_size=6,
)
_ANY_FACTS = st.builds(
    ItemFacts,
    item_id=st.integers(),
    kind=st.one_of(st.sampled_from(core.KINDS), st.text()),
    theme=st.one_of(st.sampled_from(core.THEMES), st.text()),
    classification=st.one_of(st.sampled_from(core.CLASSIFICATIONS), st.text()),
    assessed=st.booleans(),
    priority=st.one_of(st.sampled_from(core.PRIORITIES), st.text()),
    risk=st.integers(-1000, 1000),
    channels=st.lists(st.one_of(st.sampled_from(core.CHANNELS), st.text())).map(tuple),
    known_content=st.booleans(),
    hosting=st.one_of(st.sampled_from(core.HOSTING_CLASSES), st.text()),
    hosting_country=st.one_of(st.sampled_from(["", "FR", "DE", "no"]), st.text(max_size=3)),
    host=st.text(max_size=30),
    abuse_email=st.text(max_size=30),
)


@settings(max_examples=300, deadline=None)
@given(item=_ANY_FACTS, rules=st.one_of(st.just(core.default_rules()), _RULES))
def test_route_never_fails_and_always_says_why(item: ItemFacts, rules: list[Rule]) -> None:
    decision = core.route(item, rules)
    assert decision.reason.strip()
    assert len(decision.fired) <= len(rules)
    for fired in decision.fired:
        assert fired.reason.startswith(f'Rule "{fired.rule}": ') and fired.reason in decision.reason
    assert decision.hold == (not decision.fired or any(a.do == "hold" for a in decision.actions))
    assert len(set(decision.actions)) == len(decision.actions)
    for action in decision.actions:
        assert isinstance(core.waiting_for(action, item), str)


@settings(max_examples=200, deadline=None)
@given(rules=_RULES)
def test_any_valid_rule_round_trips_through_yaml(rules: list[Rule]) -> None:
    named = [dataclasses.replace(r, name=f"r{i}") for i, r in enumerate(rules)]
    assert core.rules_from_yaml(core.rules_to_yaml(named)) == named


def test_texts_are_one_line_so_they_survive_a_yaml_round_trip() -> None:
    """Found by hypothesis: YAML reads U+0085 as a line break."""
    rule = core.rule_from_dict(
        {"name": "r", "description": "two\nlines", "then": [{"do": "hold", "flag": "0\x850"}]}
    )
    assert (rule.description, rule.then[0].flag) == ("two lines", "0 0")
    assert core.rules_from_yaml(core.rules_to_yaml([rule])) == [rule]


def test_an_item_closed_as_a_duplicate_is_closed_whatever_else_holds() -> None:
    decision = core.route(facts(duplicate=True), core.default_rules())
    assert [f.rule for f in decision.fired] == ["duplicate"]
    assert decision.close_as == "duplicate"
    assert [a.do for a in decision.actions] == ["close"]
    assert "an analyst found it duplicates another item" in decision.reason
    p1 = core.route(facts(duplicate=True, priority="P1"), core.default_rules())
    assert [f.rule for f in p1.fired] == ["p1-escalate", "duplicate"]
