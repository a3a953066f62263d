"""`tipline staff`: accounts with a role, liaison officers attached to their office."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from tipline.common.models import AuditRecord
from tipline.orient.models import Destination

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("staff", *args, stdout=out)
    return out.getvalue()


def test_a_liaison_officer_is_created_with_a_role_and_an_office() -> None:
    out = run("add", "lia", "--role", "liaison", "--office", "police-cyber")
    password = out.split("password: ")[1].split()[0]
    user = User.objects.get(username="lia")
    assert user.check_password(password) and user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == ["liaison"]
    assert Destination.objects.get(code="police-cyber").liaisons.filter(pk=user.pk).exists()
    assert "lia\tliaison\tpolice-cyber" in run("list")
    assert AuditRecord.objects.filter(action="staff.create", target="user:lia").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "x", "--role", "liaison", "--office", "nowhere"), "no office with code nowhere"),
        (("add", "ana2", "--role", "analyst"), None),
    ],
)
def test_mistakes_are_refused_with_a_reason(args: tuple[str, ...], message: str | None) -> None:
    if message is None:
        run(*args)
        with pytest.raises(CommandError, match="there is already a user 'ana2'"):
            run(*args)
    else:
        with pytest.raises(CommandError, match=message):
            run(*args)
