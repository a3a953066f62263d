"""Orient's pure logic: ordered, declarative routing rules (kept as data, read and written as
YAML), the routing of one item through them, and the plain-words reason of every decision.
No Django here."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml


class RuleError(ValueError):
    """A rule that cannot be used; the message names the rule (by name or position) and the
    field, and says what is expected."""


HOSTING_CLASSES = ("home", "partner", "none", "unknown")
ACTIONS = ("dispatch", "notice", "hold", "close", "escalate")
CONFIRM = ("auto", "assessed", "person")
CLOSE_AS = ("duplicate", "known", "not_illegal")
CONDITION_KEYS = (
    "kind",
    "theme",
    "classification",
    "assessed",
    "priority",
    "risk_at_least",
    "hosting",
    "hosting_country",
    "channel",
    "known_content",
    "duplicate",
)

KINDS = ("url", "media", "text")
THEMES = ("csam", "grooming", "trafficking", "terrorism", "hate", "fraud", "other")
CLASSIFICATIONS = ("baseline", "national", "doubtful", "not_illegal", "unassessed")
PRIORITIES = ("P1", "P2", "P3", "P4")
CHANNELS = ("public", "provider", "partner")

# The conditions whose value is one word or a list of words ("any of"), with their vocabulary;
# hosting_country has an open vocabulary (any two letters) and is checked on its own.
_WORD_CONDITIONS: dict[str, tuple[str, ...]] = {
    "kind": KINDS,
    "theme": THEMES,
    "classification": CLASSIFICATIONS,
    "priority": PRIORITIES,
    "hosting": HOSTING_CLASSES,
    "channel": CHANNELS,
}
_LIST_CONDITIONS = (*_WORD_CONDITIONS, "hosting_country")
_BOOL_CONDITIONS = ("assessed", "known_content", "duplicate")
_RULE_KEYS = ("name", "description", "when", "then", "final", "enabled")
_ACTION_KEYS = ("do", "to", "confirm", "close_as", "flag")
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
_NAME_MAX = 64
_COUNTRY = re.compile(r"[A-Za-z]{2}")

NO_MATCH_REASON = "No rule matched: the item is held for an analyst."
WAITING_ASSESSMENT = "waiting for an analyst's assessment"
WAITING_PERSON = "waiting for a person to confirm"


@dataclass(frozen=True)
class ItemFacts:
    """What Orient knows about one item when it routes it."""

    item_id: int
    kind: str  # "url" | "media" | "text"
    theme: str  # one of THEMES
    classification: str  # one of CLASSIFICATIONS
    assessed: bool  # an analyst assessed it
    priority: str  # "P1".."P4"
    risk: int  # 0..100
    channels: tuple[str, ...]  # channels of its reports, from CHANNELS
    known_content: bool  # it matched a hash bank entry
    hosting: str  # one of HOSTING_CLASSES
    hosting_country: str  # ISO 3166 alpha-2 ("DE") or "" when unknown
    host: str = ""  # e.g. "ads.example"
    abuse_email: str = ""  # the host's abuse contact, "" when unknown
    duplicate: bool = False  # an analyst closed it as the same content as another item


@dataclass(frozen=True)
class Action:
    """One thing a rule does with the item."""

    do: str  # one of ACTIONS
    to: str = ""  # dispatch only: "office", "partner" or an explicit destination code
    confirm: str = ""  # dispatch/notice only: one of CONFIRM; "" = the default, "assessed"
    close_as: str = ""  # close only: one of CLOSE_AS
    flag: str = ""  # optional words shown to analysts with this action


@dataclass(frozen=True)
class Rule:
    """An ordered routing rule: when all its conditions hold, its actions apply.

    `when` holds normalised values: a tuple of words for the list conditions, a bool for
    assessed/known_content, an int for risk_at_least. Being a mapping, a Rule compares by
    value but is not hashable.
    """

    name: str
    description: str
    when: Mapping[str, Any]
    then: tuple[Action, ...]
    final: bool = True  # when False, the next rules are still evaluated after this one fires
    enabled: bool = True


@dataclass(frozen=True)
class Fired:
    """A rule that fired, and why, in plain words."""

    rule: str
    reason: str


@dataclass(frozen=True)
class Decision:
    """What routing decided for one item, with the rules that fired and their reasons."""

    fired: tuple[Fired, ...]
    actions: tuple[Action, ...]
    reason: str

    @property
    def escalate(self) -> bool:
        return any(action.do == "escalate" for action in self.actions)

    @property
    def hold(self) -> bool:
        return not self.fired or any(action.do == "hold" for action in self.actions)

    @property
    def close_as(self) -> str:
        return next((a.close_as for a in self.actions if a.do == "close"), "")


# --- Reading and writing rules ----------------------------------------------------------------


def _label(name: object, position: int | None) -> str:
    named = isinstance(name, str) and _SLUG.fullmatch(name) is not None and len(name) <= _NAME_MAX
    if position is not None and named:
        return f'rule #{position} "{name}"'
    if named:
        return f'rule "{name}"'
    if position is not None:
        return f"rule #{position}"
    return "rule"


def _shown(value: object) -> str:
    """A value as the error message shows it, with a hint for YAML's bare yes/no/on/off."""
    if isinstance(value, bool):
        return (
            f"{value!r} (YAML reads bare yes/no/on/off/true/false, and the country code NO, "
            'as a boolean: put the word in quotes, e.g. "NO")'
        )
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "nothing"
    return f"{value!r} ({type(value).__name__})"


def _words(
    value: object, *, allowed: tuple[str, ...] | None, label: str, field: str
) -> tuple[str, ...]:
    items: list[object] = list(value) if isinstance(value, list | tuple) else [value]
    if not items:
        raise RuleError(f'{label}: field "{field}" is an empty list: give at least one value.')
    words: list[str] = []
    for item in items:
        if allowed is None:
            if not isinstance(item, str) or not _COUNTRY.fullmatch(item):
                raise RuleError(
                    f'{label}: field "{field}" expects two-letter country codes '
                    f'(ISO 3166 alpha-2, e.g. "DE"), got {_shown(item)}.'
                )
            word = item.upper()
        else:
            if not isinstance(item, str) or item not in allowed:
                raise RuleError(
                    f'{label}: field "{field}" expects one of {", ".join(allowed)} '
                    f"(one word or a list), got {_shown(item)}."
                )
            word = item
        if word not in words:
            words.append(word)
    return tuple(words)


def _when_from(value: object, label: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RuleError(
            f'{label}: field "when" expects a mapping of conditions '
            f"(or nothing, for always), got {_shown(value)}."
        )
    when: dict[str, Any] = {}
    for key, expected in value.items():
        field = f"when.{key}"
        if key not in CONDITION_KEYS:
            raise RuleError(
                f'{label}: field "{field}" is not a condition; '
                f"the conditions are {', '.join(CONDITION_KEYS)}."
            )
        if key in _BOOL_CONDITIONS:
            if not isinstance(expected, bool):
                raise RuleError(
                    f'{label}: field "{field}" expects true or false, got {_shown(expected)}.'
                )
            when[key] = expected
        elif key == "risk_at_least":
            if (
                isinstance(expected, bool)
                or not isinstance(expected, int)
                or not 0 <= expected <= 100
            ):
                raise RuleError(
                    f'{label}: field "{field}" expects a whole number from 0 to 100, '
                    f"got {_shown(expected)}."
                )
            when[key] = expected
        else:
            when[key] = _words(
                expected, allowed=_WORD_CONDITIONS.get(key), label=label, field=field
            )
    return when


def _text(data: Mapping[str, Any], key: str, label: str, field: str) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RuleError(f'{label}: field "{field}" expects text, got {_shown(value)}.')
    # One line for analysts: every run of whitespace (line breaks, U+0085, U+2028…) is one
    # space, so the text reads the same after a YAML round trip.
    return " ".join(value.split())


def _action_from(data: object, label: str, index: int) -> Action:
    where = f"then[{index}]"
    if not isinstance(data, Mapping):
        raise RuleError(
            f'{label}: field "{where}" expects an action mapping such as '
            f"{{do: hold}}, got {_shown(data)}."
        )
    for key in data:
        if key not in _ACTION_KEYS:
            raise RuleError(
                f'{label}: field "{where}.{key}" is not an action field; '
                f"the fields are {', '.join(_ACTION_KEYS)}."
            )
    do = data.get("do")
    if not isinstance(do, str) or do not in ACTIONS:
        raise RuleError(
            f'{label}: field "{where}.do" expects one of {", ".join(ACTIONS)}, got {_shown(do)}.'
        )
    to = _text(data, "to", label, f"{where}.to")
    confirm = _text(data, "confirm", label, f"{where}.confirm")
    close_as = _text(data, "close_as", label, f"{where}.close_as")
    flag = _text(data, "flag", label, f"{where}.flag")
    if do == "dispatch":
        if not to:
            raise RuleError(
                f'{label}: field "{where}.to" is required to dispatch: "office" (the competent '
                f'office for the theme), "partner" (the partner hotline of the hosting country) '
                f'or a destination code such as "police-cyber".'
            )
        if not _SLUG.fullmatch(to) or len(to) > _NAME_MAX:
            raise RuleError(
                f'{label}: field "{where}.to" expects "office", "partner" or a destination code '
                f"(lower-case letters, digits, - and _), got {_shown(to)}."
            )
    elif to:
        raise RuleError(f'{label}: field "{where}.to" is for dispatch only, not for {do}.')
    if confirm:
        if do not in ("dispatch", "notice"):
            raise RuleError(
                f'{label}: field "{where}.confirm" is for dispatch and notice only, not for {do}.'
            )
        if confirm not in CONFIRM:
            raise RuleError(
                f'{label}: field "{where}.confirm" expects one of {", ".join(CONFIRM)}, '
                f"got {_shown(confirm)}."
            )
    if do == "close":
        if close_as not in CLOSE_AS:
            raise RuleError(
                f'{label}: field "{where}.close_as" is required to close and expects one of '
                f"{', '.join(CLOSE_AS)}, got {_shown(data.get('close_as'))}."
            )
    elif close_as:
        raise RuleError(f'{label}: field "{where}.close_as" is for close only, not for {do}.')
    return Action(do=do, to=to, confirm=confirm, close_as=close_as, flag=flag)


def _flag_from(data: Mapping[str, Any], key: str, label: str) -> bool:
    value = data.get(key, True)
    if not isinstance(value, bool):
        raise RuleError(f'{label}: field "{key}" expects true or false, got {_shown(value)}.')
    return value


def rule_from_dict(data: Mapping[str, Any], *, position: int | None = None) -> Rule:
    """A checked, normalised rule from its plain form (a mapping as YAML or the admin holds it).

    `position` counts from 1 and names the rule in messages when its name is unusable.
    """
    if not isinstance(data, Mapping):
        raise RuleError(
            f"{_label(None, position)}: expects a mapping with name, description, when and "
            f"then, got {_shown(data)}."
        )
    name = data.get("name")
    label = _label(name, position)
    for key in data:
        if key not in _RULE_KEYS:
            raise RuleError(
                f'{label}: field "{key}" is not a rule field; '
                f"the fields are {', '.join(_RULE_KEYS)}."
            )
    if not isinstance(name, str) or not name:
        raise RuleError(
            f'{label}: field "name" is required: a short unique slug such as "hosted-at-home".'
        )
    if not _SLUG.fullmatch(name) or len(name) > _NAME_MAX:
        raise RuleError(
            f'{label}: field "name" expects a slug of at most {_NAME_MAX} characters '
            f"(lower-case letters, digits, - and _, starting with a letter or digit), "
            f"got {_shown(name)}."
        )
    description = _text(data, "description", label, "description")
    when = _when_from(data.get("when"), label)
    then = data.get("then")
    if not isinstance(then, list | tuple) or not then:
        raise RuleError(
            f'{label}: field "then" expects a non-empty list of actions, got {_shown(then)}.'
        )
    actions = tuple(_action_from(item, label, i) for i, item in enumerate(then, start=1))
    return Rule(
        name=name,
        description=description,
        when=when,
        then=actions,
        final=_flag_from(data, "final", label),
        enabled=_flag_from(data, "enabled", label),
    )


def _action_to_dict(action: Action) -> dict[str, str]:
    out = {"do": action.do}
    for key in ("to", "confirm", "close_as", "flag"):
        value: str = getattr(action, key)
        if value:
            out[key] = value
    return out


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """The plain form of a rule, defaults left out; `rule_from_dict` reads it back."""
    when: dict[str, Any] = {}
    for key, expected in rule.when.items():
        if isinstance(expected, list | tuple):
            when[key] = expected[0] if len(expected) == 1 else list(expected)
        else:
            when[key] = expected
    out: dict[str, Any] = {
        "name": rule.name,
        "description": rule.description,
        "when": when,
        "then": [_action_to_dict(a) for a in rule.then],
    }
    if not rule.final:
        out["final"] = False
    if not rule.enabled:
        out["enabled"] = False
    return out


def rules_from_yaml(text: str) -> list[Rule]:
    """Rules from YAML: a list of rule mappings, or a mapping {rules: [...]}. Names must be
    unique."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError(f"The rules are not valid YAML: {exc}") from exc
    except RecursionError:  # PyYAML reads nested collections by recursion
        raise RuleError(
            "The rules are not valid YAML: lists or mappings nested too deeply."
        ) from None
    if data is None:
        return []
    if isinstance(data, Mapping):
        extra = [key for key in data if key != "rules"]
        if extra or "rules" not in data:
            raise RuleError(
                "The rules file expects a list of rules, or a mapping with the single key "
                f'"rules"; found the keys {", ".join(map(str, data))}.'
            )
        data = data["rules"]
        if data is None:
            return []
    if not isinstance(data, list):
        raise RuleError(f"The rules file expects a list of rules, got {_shown(data)}.")
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for position, item in enumerate(data, start=1):
        rule = rule_from_dict(item, position=position)
        if rule.name in seen:
            raise RuleError(
                f'rule #{position} "{rule.name}": field "name" repeats the name of rule '
                f"#{seen[rule.name]}; names must be unique."
            )
        seen[rule.name] = position
        rules.append(rule)
    return rules


class _FlowList(list[Any]):
    """A short list of words, written on one line: [media, text]."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_flow_list(dumper: yaml.SafeDumper, data: _FlowList) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


_Dumper.add_representer(_FlowList, _represent_flow_list)

_YAML_HEADER = "".join(
    f"# {line}\n"
    for line in textwrap.wrap(
        "Tipline: Orient routing rules. Each item is checked against these rules from top to "
        'bottom. A rule fires when all its "when" conditions hold (a list means "any of"; no '
        'conditions means always); its "then" actions apply, and routing stops at the first '
        'rule that fires unless that rule says "final: false". '
        f"Conditions: {', '.join(CONDITION_KEYS)}. "
        f'Actions (do): {", ".join(ACTIONS)}. Dispatch takes "to" (office, partner or a '
        f'destination code); dispatch and notice take "confirm" ({", ".join(CONFIRM)}); '
        f'close takes "close_as" ({", ".join(CLOSE_AS)}); any action may carry a "flag" '
        'shown to analysts. "enabled: false" switches a rule off.',
        width=96,
    )
)


def rules_to_yaml(rules: Sequence[Rule]) -> str:
    """The rules as YAML a person can read and edit; `rules_from_yaml` reads it back."""
    plain: list[dict[str, Any]] = []
    for rule in rules:
        out = rule_to_dict(rule)
        out["when"] = {
            key: _FlowList(value) if isinstance(value, list) else value
            for key, value in out["when"].items()
        }
        plain.append(out)
    body = yaml.dump(
        plain,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1000,  # one line per text: easier to read in a diff than folded lines
    )
    # A blank line between rules, so each reads as a block.
    body = re.sub(r"\n(?=- name:)", "\n\n", body)
    return _YAML_HEADER + "\n" + body


# --- Routing ----------------------------------------------------------------------------------


def _as_words(expected: Any) -> tuple[str, ...]:
    if isinstance(expected, str):
        return (expected,)
    return tuple(str(value) for value in expected)


def condition_holds(key: str, expected: Any, facts: ItemFacts) -> bool:
    """Whether one condition of a rule holds for the item."""
    if key in _WORD_CONDITIONS and key != "channel":
        return bool(getattr(facts, key) in _as_words(expected))
    if key == "hosting_country":
        wanted = {word.upper() for word in _as_words(expected)}
        return bool(facts.hosting_country) and facts.hosting_country.upper() in wanted
    if key == "channel":
        return any(channel in _as_words(expected) for channel in facts.channels)
    if key in _BOOL_CONDITIONS:
        return bool(getattr(facts, key) == expected)
    if key == "risk_at_least":
        return facts.risk >= expected
    raise RuleError(f'unknown condition "{key}"; the conditions are {", ".join(CONDITION_KEYS)}.')


_KIND_WORDS = {"url": "a web page", "media": "a media file", "text": "a text"}
_CLASSIFICATION_WORDS = {
    "baseline": "classified baseline (illegal everywhere)",
    "national": "classified national (illegal here)",
    "doubtful": "classified doubtful",
    "not_illegal": "classified not illegal",
    "unassessed": "not classified yet",
}
_CHANNEL_WORDS = {
    "public": "by the public",
    "provider": "by a provider",
    "partner": "by a partner hotline",
}
_CLOSE_WORDS = {
    "duplicate": "close as a duplicate",
    "known": "close as known content",
    "not_illegal": "close as not illegal",
}


def _hosting_phrase(facts: ItemFacts) -> str:
    country = facts.hosting_country
    host = f" ({facts.host})" if facts.host else ""
    if facts.hosting == "home":
        return (f"hosted in {country}, our country" if country else "hosted in our country") + host
    if facts.hosting == "partner":
        if country:
            return f"hosted in {country}{host}, which has a partner hotline"
        return f"hosted in a country with a partner hotline{host}"
    if facts.hosting == "none":
        if country:
            return f"hosted in {country}{host}, where no partner hotline exists"
        return f"hosted in a country without a partner hotline{host}"
    if facts.hosting == "unknown":
        return "hosting not known yet"
    return f"hosting {facts.hosting}"


def _condition_phrase(key: str, expected: Any, facts: ItemFacts) -> str:
    if key == "kind":
        return _KIND_WORDS.get(facts.kind, f"kind {facts.kind}")
    if key == "theme":
        return f"theme {facts.theme}"
    if key == "classification":
        words = _CLASSIFICATION_WORDS.get(facts.classification)
        return words or f"classified {facts.classification}"
    if key == "assessed":
        return "assessed by an analyst" if facts.assessed else "not assessed yet"
    if key == "priority":
        return f"priority {facts.priority}"
    if key == "risk_at_least":
        return f"risk {facts.risk}, at least {expected}"
    if key == "hosting":
        return _hosting_phrase(facts)
    if key == "hosting_country":
        return f"hosted in {facts.hosting_country.upper()}"
    if key == "channel":
        wanted = _as_words(expected)
        matched = [c for c in facts.channels if c in wanted]
        return "reported " + " and ".join(_CHANNEL_WORDS.get(c, f"through {c}") for c in matched)
    if key == "known_content":
        return "it matches a hash bank entry" if facts.known_content else "not known content"
    if key == "duplicate":
        return (
            "an analyst found it duplicates another item" if facts.duplicate else "not a duplicate"
        )
    return key


def _action_phrase(action: Action, facts: ItemFacts) -> str:
    if action.do == "dispatch":
        if action.to == "office":
            theme = facts.theme or "the item's theme"
            text = f"send to the competent office for {theme}"
        elif action.to == "partner":
            country = facts.hosting_country or "the hosting country"
            text = f"send to the partner hotline of {country}"
        else:
            text = f"send to {action.to}"
    elif action.do == "notice":
        contact = facts.abuse_email or "no abuse contact known yet"
        text = f"send a notice to the host ({contact})"
    elif action.do == "hold":
        return f"hold for an analyst ({action.flag})" if action.flag else "hold for an analyst"
    elif action.do == "close":
        text = _CLOSE_WORDS.get(action.close_as, f"close as {action.close_as}")
    elif action.do == "escalate":
        text = "escalate at once to the supervisor on duty"
    else:
        text = action.do
    if action.confirm == "auto":
        text += " at once, with no confirmation"
    elif action.confirm == "person":
        text += " once a person confirms"
    if action.flag:
        text += f" (flag: {action.flag})"
    return text


def _fired_reason(rule: Rule, facts: ItemFacts) -> str:
    when = rule.when
    phrases = [
        _condition_phrase(key, expected, facts)
        for key, expected in when.items()
        # The hosting phrase already names the country.
        if not (key == "hosting_country" and "hosting" in when)
    ]
    matched = "; ".join(phrases) if phrases else "always"
    does = "; ".join(_action_phrase(action, facts) for action in rule.then)
    return f'Rule "{rule.name}": {matched}. → {does}.'


def route(facts: ItemFacts, rules: Sequence[Rule]) -> Decision:
    """Route one item through the ordered rules: every enabled rule whose conditions all hold
    fires, until the first firing rule that is final."""
    fired: list[Fired] = []
    actions: list[Action] = []
    for rule in rules:
        if not rule.enabled:
            continue
        if not all(condition_holds(key, value, facts) for key, value in rule.when.items()):
            continue
        fired.append(Fired(rule=rule.name, reason=_fired_reason(rule, facts)))
        for action in rule.then:
            if action not in actions:
                actions.append(action)
        if rule.final:
            break
    reason = " ".join(f.reason for f in fired) if fired else NO_MATCH_REASON
    return Decision(fired=tuple(fired), actions=tuple(actions), reason=reason)


def waiting_for(
    action: Action, facts: ItemFacts, *, known_content_counts_as_assessed: bool = True
) -> str:
    """ "" when the action may be carried out now, else what it waits for, in words."""
    if action.do not in ("dispatch", "notice"):
        return ""
    if action.confirm == "auto":
        return ""
    if action.confirm in ("", "assessed"):
        if facts.assessed or (facts.known_content and known_content_counts_as_assessed):
            return ""
        return WAITING_ASSESSMENT
    if action.confirm == "person":
        return WAITING_PERSON
    raise ValueError(f'unknown confirm mode "{action.confirm}"; expected one of {CONFIRM}.')


# --- The default rules ------------------------------------------------------------------------

DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "name": "p1-escalate",
        "description": (
            "A P1 item (a child or a victim possibly in immediate danger) goes to the "
            "supervisor on duty at once, and routing goes on."
        ),
        "when": {"priority": "P1"},
        "then": [{"do": "escalate"}],
        "final": False,
    },
    {
        "name": "duplicate",
        "description": (
            "An item an analyst found to be the same content as another item is closed: "
            "the other item carries the case."
        ),
        "when": {"duplicate": True},
        "then": [{"do": "close", "close_as": "duplicate"}],
    },
    {
        "name": "not-illegal",
        "description": "An item an analyst assessed as not illegal is closed.",
        "when": {"assessed": True, "classification": "not_illegal"},
        "then": [{"do": "close", "close_as": "not_illegal"}],
    },
    {
        "name": "doubtful",
        "description": "An item an analyst found doubtful waits for a senior analyst's decision.",
        "when": {"assessed": True, "classification": "doubtful"},
        "then": [{"do": "hold", "flag": "classification doubtful: a senior analyst decides"}],
    },
    {
        "name": "known-off-web",
        "description": (
            "A file or a text that matches a hash bank entry is known content already "
            "handled, and is closed."
        ),
        "when": {"known_content": True, "kind": ["media", "text"]},
        "then": [{"do": "close", "close_as": "known"}],
    },
    {
        "name": "not-on-the-web",
        "description": (
            "A file or a text has no URL, so there is no host or partner to send it to: "
            "an analyst decides."
        ),
        "when": {"kind": ["media", "text"]},
        "then": [
            {
                "do": "hold",
                "flag": "no URL: nothing to send to a host or a partner; an analyst decides",
            }
        ],
    },
    {
        "name": "hosting-unknown",
        "description": "A page whose hosting is not known yet waits for the hosting lookup.",
        "when": {"hosting": "unknown"},
        "then": [{"do": "hold", "flag": "waiting for the hosting lookup"}],
    },
    {
        "name": "hosted-at-home",
        "description": (
            "Content hosted in our country goes to the competent national office for its "
            "theme, and its host gets a notice."
        ),
        "when": {"hosting": "home"},
        "then": [{"do": "dispatch", "to": "office"}, {"do": "notice"}],
    },
    {
        "name": "partner-country",
        "description": (
            "Content hosted in a country with a partner hotline goes to that hotline, which "
            "deals with the host and its police."
        ),
        "when": {"hosting": "partner"},
        "then": [{"do": "dispatch", "to": "partner"}],
    },
    {
        "name": "no-hotline",
        "description": (
            "Content hosted in a country without a partner hotline goes to the competent "
            "national office, and its host gets a notice."
        ),
        "when": {"hosting": "none"},
        "then": [
            {
                "do": "dispatch",
                "to": "office",
                "flag": "hosted in a country without a partner hotline",
            },
            {"do": "notice"},
        ],
    },
]


def default_rules() -> list[Rule]:
    """The default rule set, checked."""
    return [rule_from_dict(data, position=i) for i, data in enumerate(DEFAULT_RULES, start=1)]
