"""Add the "duplicate" default rule (a frozen copy of orient.core's) right after the P1
escalation, for installs seeded before analysts could close an item as a duplicate."""

from django.db import migrations

RULE = {
    "name": "duplicate",
    "description": (
        "An item an analyst found to be the same content as another item is closed: "
        "the other item carries the case."
    ),
    "when": {"duplicate": True},
    "then": [{"do": "close", "close_as": "duplicate"}],
    "final": True,
    "enabled": True,
}


def seed(apps, schema_editor):
    Rule = apps.get_model("orient", "Rule")
    after = Rule.objects.filter(name="p1-escalate").values_list("position", flat=True).first()
    taken = set(Rule.objects.values_list("position", flat=True))
    position = (after or 0) + 5
    while position in taken:
        position += 1
    Rule.objects.get_or_create(
        name=RULE["name"],
        defaults={k: v for k, v in RULE.items() if k != "name"} | {"position": position},
    )


def unseed(apps, schema_editor):
    apps.get_model("orient", "Rule").objects.filter(name=RULE["name"]).delete()


class Migration(migrations.Migration):
    dependencies = [("orient", "0005_destination_liaisons")]
    operations = [migrations.RunPython(seed, unseed)]
