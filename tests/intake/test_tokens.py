"""Staff API tokens: made by `tipline tokens`, checked by StaffTokenAuth for one scope, and
kept apart from providers' tokens in both directions."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from tipline.intake import selectors, services
from tipline.intake.auth import ProviderAuth, StaffTokenAuth
from tipline.intake.models import Provider, StaffToken

from ..conftest import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(django_user_model: type[User]) -> User:
    return staff_user("camille")


@pytest.fixture
def staff_token(analyst: User) -> tuple[StaffToken, str]:
    return services.staff_token_create(user=analyst, name="notebook", scopes=["analyst"])


def bearer(token: str) -> HttpRequest:
    return RequestFactory().get("/api/v1/networks/1", HTTP_AUTHORIZATION=f"Bearer {token}")


def tokens(*args: str) -> str:
    out = StringIO()
    call_command("tokens", *args, stdout=out)
    return out.getvalue()


# --- Creating and revoking ----------------------------------------------------------------


def test_create_returns_the_token_once_and_stores_only_its_hash(analyst: User) -> None:
    row, token = services.staff_token_create(
        user=analyst, name=" notebook ", scopes=["supervisor", "analyst", "analyst"]
    )
    row.refresh_from_db()
    assert token.startswith(services.TOKEN_PREFIX) and len(token) > 40
    assert row.token_hash == services.token_hash(token) != token
    assert token.startswith(row.token_prefix)
    assert row.scopes == ["analyst", "supervisor"]  # deduplicated, in vocabulary order
    assert row.name == "notebook"
    assert row.is_active and row.last_used_at is None and row.expires_at is None
    assert list(analyst.api_tokens.all()) == [row]
    assert not StaffToken.objects.filter(token_hash=token).exists()


def test_two_tokens_differ(analyst: User) -> None:
    _, first = services.staff_token_create(user=analyst, name="", scopes=["analyst"])
    _, second = services.staff_token_create(user=analyst, name="", scopes=["analyst"])
    assert first != second


@pytest.mark.parametrize(
    ("user_fields", "scopes", "days", "message"),
    [
        ({}, ["analyst", "boss"], None, "unknown scope 'boss'; known scopes: analyst, supervisor"),
        ({}, [], None, "a token needs at least one scope"),
        ({}, ["analyst"], -1, "a token cannot expire in the past"),
        ({"is_staff": False}, ["analyst"], None, "user 'dominique' is not staff"),
        ({"is_active": False}, ["analyst"], None, "user 'dominique' is inactive"),
    ],
)
def test_create_refuses(
    django_user_model: type[User],
    user_fields: dict[str, bool],
    scopes: list[str],
    days: int | None,
    message: str,
) -> None:
    user = django_user_model.objects.create_user(
        username="dominique", **{"is_staff": True, **user_fields}
    )
    expires_at = timezone.now() + timedelta(days=days) if days is not None else None
    with pytest.raises(ValueError, match=message) as refused:
        services.staff_token_create(user=user, name="", scopes=scopes, expires_at=expires_at)
    assert isinstance(refused.value, services.StaffTokenRefused)
    assert not StaffToken.objects.exists()


def test_revoke(staff_token: tuple[StaffToken, str]) -> None:
    row, token = staff_token
    services.staff_token_revoke(token_id=row.pk)
    row.refresh_from_db()
    assert not row.is_active
    assert selectors.staff_by_token(token, scope="analyst") is None
    with pytest.raises(StaffToken.DoesNotExist):
        services.staff_token_revoke(token_id=row.pk + 1000)


# --- Which tokens are good for a scope ----------------------------------------------------


def test_a_good_token_comes_with_its_user_in_one_query(
    staff_token: tuple[StaffToken, str],
    analyst: User,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    row, token = staff_token
    with django_assert_num_queries(1):
        found = selectors.staff_by_token(token, scope="analyst")
        assert found is not None and found.user.username == "camille"
    assert found == row


def test_a_token_is_good_for_its_scopes_only(analyst: User) -> None:
    _, token = services.staff_token_create(user=analyst, name="", scopes=["supervisor"])
    assert selectors.staff_by_token(token, scope="supervisor") is not None
    assert selectors.staff_by_token(token, scope="analyst") is None


def test_a_token_before_and_after_its_expiry(analyst: User) -> None:
    row, token = services.staff_token_create(
        user=analyst, name="", scopes=["analyst"], expires_at=timezone.now() + timedelta(hours=1)
    )
    assert selectors.staff_by_token(token, scope="analyst") == row
    StaffToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert selectors.staff_by_token(token, scope="analyst") is None


@pytest.mark.parametrize("change", [{"is_active": False}, {"is_staff": False}])
def test_a_token_stops_working_when_its_user_leaves_the_staff(
    staff_token: tuple[StaffToken, str], analyst: User, change: dict[str, bool]
) -> None:
    _, token = staff_token
    User.objects.filter(pk=analyst.pk).update(**change)
    assert selectors.staff_by_token(token, scope="analyst") is None


@pytest.mark.parametrize("token", ["", "tpl_not-a-token", "camille"])
def test_an_unknown_token_is_refused(staff_token: tuple[StaffToken, str], token: str) -> None:
    assert selectors.staff_by_token(token, scope="analyst") is None


# --- StaffTokenAuth and ProviderAuth ------------------------------------------------------


def test_staff_auth_returns_the_token_and_its_user(staff_token: tuple[StaffToken, str]) -> None:
    row, token = staff_token
    auth = StaffTokenAuth(scope="analyst")
    found = auth.authenticate(bearer(token), token)
    assert found == row and found is not None and found.user.username == "camille"
    # The whole path, from the Authorization header.
    assert auth(bearer(token)) == row
    assert auth(bearer("tpl_wrong")) is None


def test_staff_auth_refuses_a_token_without_its_scope(analyst: User) -> None:
    _, token = services.staff_token_create(user=analyst, name="", scopes=["supervisor"])
    assert StaffTokenAuth(scope="analyst").authenticate(bearer(token), token) is None


def test_staff_auth_needs_a_known_scope() -> None:
    with pytest.raises(ValueError, match="'analysts' is not a valid TokenScope"):
        StaffTokenAuth(scope="analysts")


def test_last_use_is_written_at_most_once_a_minute(
    staff_token: tuple[StaffToken, str], django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    row, token = staff_token
    auth = StaffTokenAuth(scope="analyst")
    before = timezone.now()
    with django_assert_num_queries(2):  # the read, and the first use written
        auth.authenticate(bearer(token), token)
    row.refresh_from_db()
    assert row.last_used_at is not None and row.last_used_at >= before
    first_use = row.last_used_at

    with django_assert_num_queries(1):  # used again within the minute: no write
        auth.authenticate(bearer(token), token)
    row.refresh_from_db()
    assert row.last_used_at == first_use

    an_hour_ago = timezone.now() - timedelta(hours=1)
    StaffToken.objects.filter(pk=row.pk).update(last_used_at=an_hour_ago)
    auth.authenticate(bearer(token), token)
    row.refresh_from_db()
    assert row.last_used_at > first_use


def test_concurrent_requests_write_the_last_use_once(staff_token: tuple[StaffToken, str]) -> None:
    row, token = staff_token
    # Both requests read the token before either writes.
    first = selectors.staff_by_token(token, scope="analyst")
    second = selectors.staff_by_token(token, scope="analyst")
    assert first is not None and second is not None
    services.staff_token_touch(token=first)
    written = StaffToken.objects.get(pk=row.pk).last_used_at
    assert written is not None
    services.staff_token_touch(token=second)
    assert StaffToken.objects.get(pk=row.pk).last_used_at == written


def test_a_refused_token_is_not_marked_used(staff_token: tuple[StaffToken, str]) -> None:
    row, token = staff_token
    assert StaffTokenAuth(scope="supervisor").authenticate(bearer(token), token) is None
    row.refresh_from_db()
    assert row.last_used_at is None


def test_a_provider_token_is_not_a_staff_token(provider: tuple[Provider, str]) -> None:
    _, token = provider
    assert ProviderAuth().authenticate(bearer(token), token) == provider[0]
    assert StaffTokenAuth(scope="analyst").authenticate(bearer(token), token) is None


def test_a_staff_token_is_not_a_provider_token(staff_token: tuple[StaffToken, str]) -> None:
    _, token = staff_token
    assert ProviderAuth().authenticate(bearer(token), token) is None
    # And the provider API says so.
    response = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/reports/1")
    assert response.status_code == 401


# --- tipline tokens -----------------------------------------------------------------------


def test_command_add_prints_the_token_once(analyst: User) -> None:
    out = tokens("add", "--user", "camille", "--scope", "analyst", "--name", "notebook")
    notice, token, *rest = out.splitlines()
    assert rest == []
    assert "camille" in notice and "scopes: analyst" in notice and "never expires" in notice
    assert "will not be shown again" in notice
    row = selectors.staff_by_token(token, scope="analyst")
    assert row is not None and row.name == "notebook" and row.user.username == "camille"
    assert f"{row.token_prefix}…" in notice


def test_command_add_with_scopes_and_days(analyst: User) -> None:
    out = tokens("add", "--user", "camille", "--scope", "analyst", "--scope", "supervisor")
    assert "scopes: analyst, supervisor" in out
    out = tokens("add", "--user", "camille", "--scope", "analyst", "--days", "30")
    token = out.splitlines()[1]
    row = selectors.staff_by_token(token, scope="analyst")
    assert row is not None and row.expires_at is not None
    assert timedelta(days=29) < row.expires_at - timezone.now() <= timedelta(days=30)
    assert "expires " in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nobody", "--scope", "analyst"], "no user named 'nobody'"),
        (["--user", "camille", "--scope", "boss"], "unknown scope 'boss'"),
        (["--user", "visitor", "--scope", "analyst"], "user 'visitor' is not staff"),
        (["--user", "camille", "--scope", "analyst", "--days", "0"], "--days must be 1 or more"),
    ],
)
def test_command_add_errors(
    analyst: User, django_user_model: type[User], args: list[str], message: str
) -> None:
    django_user_model.objects.create_user(username="visitor")
    with pytest.raises(CommandError, match=message):
        tokens("add", *args)
    assert not StaffToken.objects.exists()


def test_command_list(analyst: User, provider: tuple[Provider, str]) -> None:
    assert tokens("list") == "No staff tokens.\n"
    active, _ = services.staff_token_create(user=analyst, name="notebook", scopes=["analyst"])
    revoked, _ = services.staff_token_create(user=analyst, name="old", scopes=["supervisor"])
    services.staff_token_revoke(token_id=revoked.pk)
    expired, _ = services.staff_token_create(user=analyst, name="", scopes=["analyst"])
    StaffToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    used_at = timezone.now().replace(year=2030, month=1, day=2, hour=3, minute=4)
    StaffToken.objects.filter(pk=active.pk).update(last_used_at=used_at)

    header, *lines = tokens("list").splitlines()
    columns = header.split("\t")
    assert columns == ["ID", "PREFIX", "USER", "SCOPES", "LAST USED", "STATE", "NAME"]
    rows = [dict(zip(columns, line.split("\t"), strict=True)) for line in lines]
    assert rows == [
        {
            "ID": str(active.pk),
            "PREFIX": f"{active.token_prefix}…",
            "USER": "camille",
            "SCOPES": "analyst",
            "LAST USED": "2030-01-02 03:04",
            "STATE": "active",
            "NAME": "notebook",
        },
        {
            "ID": str(revoked.pk),
            "PREFIX": f"{revoked.token_prefix}…",
            "USER": "camille",
            "SCOPES": "supervisor",
            "LAST USED": "never",
            "STATE": "revoked",
            "NAME": "old",
        },
        {
            "ID": str(expired.pk),
            "PREFIX": f"{expired.token_prefix}…",
            "USER": "camille",
            "SCOPES": "analyst",
            "LAST USED": "never",
            "STATE": "expired",
            "NAME": "",
        },
    ]
    assert provider[0].token_prefix not in "".join(lines)


def test_command_revoke_by_prefix_or_id(analyst: User) -> None:
    first, first_token = services.staff_token_create(user=analyst, name="", scopes=["analyst"])
    second, second_token = services.staff_token_create(user=analyst, name="", scopes=["analyst"])

    out = tokens("revoke", f"{first.token_prefix}…")  # as `tokens list` shows it
    assert out == f"Token {first.token_prefix}… of camille revoked: it can no longer use the API.\n"
    assert selectors.staff_by_token(first_token, scope="analyst") is None
    assert selectors.staff_by_token(second_token, scope="analyst") is not None

    tokens("revoke", str(second.pk))
    assert selectors.staff_by_token(second_token, scope="analyst") is None
    assert "already revoked" in tokens("revoke", str(second.pk))


def test_command_revoke_errors(staff_token: tuple[StaffToken, str]) -> None:
    row, _ = staff_token
    with pytest.raises(CommandError, match="no staff token with id or prefix 'tpl_nope'"):
        tokens("revoke", "tpl_nope")
    with pytest.raises(CommandError, match=f"no staff token with id or prefix '{row.pk + 1}'"):
        tokens("revoke", str(row.pk + 1))
    twin, _ = services.staff_token_create(user=row.user, name="", scopes=["analyst"])
    StaffToken.objects.filter(pk=twin.pk).update(token_prefix=row.token_prefix)
    with pytest.raises(CommandError, match="several tokens start with"):
        tokens("revoke", row.token_prefix)
    row.refresh_from_db()
    assert row.is_active


# --- Admin --------------------------------------------------------------------------------


def test_admin_lists_tokens_and_revokes_them(
    admin_client: Client, staff_token: tuple[StaffToken, str]
) -> None:
    row, token = staff_token
    changelist = "/admin/intake/stafftoken/"
    page = admin_client.get(changelist)
    assert page.status_code == 200
    assert row.token_prefix in page.content.decode() and row.token_hash not in page.content.decode()
    assert admin_client.get(f"{changelist}add/").status_code == 403

    admin_client.post(changelist, {"action": "revoke", "_selected_action": [row.pk]})
    assert selectors.staff_by_token(token, scope="analyst") is None
