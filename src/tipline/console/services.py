"""Console writes: staff roles and accounts."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import Group, Permission, User
from django.db import transaction

from . import roles


@transaction.atomic
def roles_ensure() -> None:
    """Create the role groups and give them their permissions (idempotent)."""
    for role in roles.ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        perms = []
        for dotted in roles.PERMISSIONS[role]:
            app_label, codename = dotted.split(".")
            perms.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.add(*perms)


@transaction.atomic
def first_analyst_create(*, username: str = "analyst") -> tuple[User, str] | None:
    """On a fresh install, create one analyst with a random password; None if staff exist."""
    if User.objects.filter(is_staff=True).exists():
        return None
    password = secrets.token_urlsafe(12)
    user = User.objects.create_user(username=username, password=password, is_staff=True)
    user.groups.add(Group.objects.get(name=roles.ANALYST))
    return user, password
