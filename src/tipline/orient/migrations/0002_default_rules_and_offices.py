"""Seed the default routing rules (a frozen copy of orient.core.DEFAULT_RULES as they were
when this migration was written) and the demo directory's fictional competent offices."""

from django.db import migrations

RULES = [{'name': 'p1-escalate',
  'description': 'A P1 item (a child or a victim possibly in immediate danger) goes to the '
                 'supervisor on duty at once, and routing goes on.',
  'when': {'priority': 'P1'},
  'then': [{'do': 'escalate'}],
  'final': False},
 {'name': 'not-illegal',
  'description': 'An item an analyst assessed as not illegal is closed.',
  'when': {'assessed': True, 'classification': 'not_illegal'},
  'then': [{'do': 'close', 'close_as': 'not_illegal'}]},
 {'name': 'doubtful',
  'description': "An item an analyst found doubtful waits for a senior analyst's decision.",
  'when': {'assessed': True, 'classification': 'doubtful'},
  'then': [{'do': 'hold', 'flag': 'classification doubtful: a senior analyst decides'}]},
 {'name': 'known-off-web',
  'description': 'A file or a text that matches a hash bank entry is known content already '
                 'handled, and is closed.',
  'when': {'known_content': True, 'kind': ['media', 'text']},
  'then': [{'do': 'close', 'close_as': 'known'}]},
 {'name': 'not-on-the-web',
  'description': 'A file or a text has no URL, so there is no host or partner to send it to: '
                 'an analyst decides.',
  'when': {'kind': ['media', 'text']},
  'then': [{'do': 'hold',
            'flag': 'no URL: nothing to send to a host or a partner; an analyst decides'}]},
 {'name': 'hosting-unknown',
  'description': 'A page whose hosting is not known yet waits for the hosting lookup.',
  'when': {'hosting': 'unknown'},
  'then': [{'do': 'hold', 'flag': 'waiting for the hosting lookup'}]},
 {'name': 'hosted-at-home',
  'description': 'Content hosted in our country goes to the competent national office for its '
                 'theme, and its host gets a notice.',
  'when': {'hosting': 'home'},
  'then': [{'do': 'dispatch', 'to': 'office'}, {'do': 'notice'}]},
 {'name': 'partner-country',
  'description': 'Content hosted in a country with a partner hotline goes to that hotline, '
                 'which deals with the host and its police.',
  'when': {'hosting': 'partner'},
  'then': [{'do': 'dispatch', 'to': 'partner'}]},
 {'name': 'no-hotline',
  'description': 'Content hosted in a country without a partner hotline goes to the competent '
                 'national office, and its host gets a notice.',
  'when': {'hosting': 'none'},
  'then': [{'do': 'dispatch',
            'to': 'office',
            'flag': 'hosted in a country without a partner hotline'},
           {'do': 'notice'}]}]

OFFICES = [
    {
        "code": "police-child-protection",
        "name": "National Child Protection Unit (fictional demo office)",
        "themes": ["csam", "grooming"],
        "email": "referrals@child-protection.police.example",
    },
    {
        "code": "police-trafficking",
        "name": "Trafficking in Human Beings Unit (fictional demo office)",
        "themes": ["trafficking"],
        "email": "referrals@trafficking.police.example",
    },
    {
        "code": "police-cyber",
        "name": "Cybercrime Unit (fictional demo office)",
        "themes": [],
        "email": "referrals@cyber.police.example",
    },
]


def seed(apps, schema_editor):
    Rule = apps.get_model("orient", "Rule")
    Destination = apps.get_model("orient", "Destination")
    for position, rule in enumerate(RULES, start=1):
        Rule.objects.get_or_create(
            name=rule["name"],
            defaults={
                "position": position * 10,
                "description": rule.get("description", ""),
                "when": rule.get("when", {}),
                "then": rule["then"],
                "final": rule.get("final", True),
                "enabled": rule.get("enabled", True),
            },
        )
    for office in OFFICES:
        Destination.objects.get_or_create(
            code=office["code"],
            defaults={**office, "kind": "office", "country": "", "language": "en"},
        )


def unseed(apps, schema_editor):
    apps.get_model("orient", "Rule").objects.filter(name__in=[r["name"] for r in RULES]).delete()
    apps.get_model("orient", "Destination").objects.filter(
        code__in=[o["code"] for o in OFFICES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("orient", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
