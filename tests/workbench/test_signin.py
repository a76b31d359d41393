"""Sign-in throttling (django-axes): per account and per address, explained, audited, expiring."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.test import RequestFactory
from django.urls import reverse

from tests.conftest import PASSWORD
from workbench.models import AuditEvent
from workbench.views.accounts import client_address

LIMIT = 5  # settings.AXES_FAILURE_LIMIT's default (LOGIN_FAILURE_LIMIT)


def sign_in(client, username, password, address="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def signed_in(response) -> bool:
    return response.status_code == 302 and response.url == reverse("study_list")


def fail(client, username, times, address="10.0.0.1"):
    return [sign_in(client, username, "wrong guess", address) for _ in range(times)]


def time_passes(minutes: float):
    """Move every recorded failure back in time, as if ``minutes`` had passed."""
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=attempt.attempt_time - timedelta(minutes=minutes)
        )


def without_csrf(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)


class TestAccountLock:
    def test_a_few_typos_do_not_lock(self, client, admin_user):
        fail(client, "alice", LIMIT - 1)
        assert signed_in(sign_in(client, "alice", PASSWORD))

    def test_repeated_failures_lock_the_account_even_for_the_right_password(
        self, client, admin_user
    ):
        responses = fail(client, "alice", LIMIT)
        assert [r.status_code for r in responses] == [200] * (LIMIT - 1) + [429]
        assert "Sign-in is paused for 15 minutes" in responses[-1].content.decode()
        refused = sign_in(client, "alice", PASSWORD)
        assert refused.status_code == 429
        assert "Sign-in is paused" in refused.content.decode()
        assert "_auth_user_id" not in client.session
        # From another address too: the account itself is locked.
        assert sign_in(client, "alice", PASSWORD, address="10.9.9.9").status_code == 429
        # "Alice " is the same account to count.
        assert sign_in(client, " Alice ", PASSWORD, address="10.9.9.8").status_code == 429

    def test_failures_spread_over_addresses_still_lock_the_account(self, client, admin_user, lead):
        for n in range(LIMIT):
            fail(client, "alice", 1, address=f"10.0.1.{n}")
        assert sign_in(client, "alice", PASSWORD, address="10.0.2.1").status_code == 429
        # The addresses each failed once: someone else signs in from them.
        assert signed_in(sign_in(client, "lena", PASSWORD, address="10.0.1.0"))

    def test_sixty_quick_wrong_passwords_then_the_right_one_is_refused(self, client, admin_user):
        """The finding: 60 wrong passwords in 10 s, then the right one worked."""
        fail(client, "alice", 60)
        assert sign_in(client, "alice", PASSWORD).status_code == 429
        # Attempts while locked do not count on (the lock ends when the page says).
        assert AccessAttempt.objects.get().failures_since_start == LIMIT

    def test_the_lock_expires(self, client, admin_user):
        fail(client, "alice", LIMIT)
        time_passes(14)
        refused = sign_in(client, "alice", PASSWORD)
        assert refused.status_code == 429
        assert "Sign-in is paused for 1 minute." in refused.content.decode()
        time_passes(1.02)
        assert signed_in(sign_in(client, "alice", PASSWORD))


class TestAddressLock:
    def test_failures_for_many_accounts_lock_the_address(self, client, admin_user, lead):
        for name in ("alice", "nobody", "x", "lena", "root"):
            fail(client, name, 1, address="10.0.0.66")
        assert sign_in(client, "lena", PASSWORD, address="10.0.0.66").status_code == 429
        assert signed_in(sign_in(client, "lena", PASSWORD, address="10.0.0.67"))

    def test_behind_a_proxy_the_forwarded_address_counts(self, settings):
        factory = RequestFactory()
        forged_then_real = factory.post(
            "/", REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7"
        )
        settings.BEHIND_TLS_PROXY = False
        assert client_address(forged_then_real) == "172.18.0.2"  # a header is not trusted
        settings.BEHIND_TLS_PROXY = True
        assert client_address(forged_then_real) == "203.0.113.7"  # what the proxy appended
        garbage = factory.post("/", REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR="nonsense")
        assert client_address(garbage) == "172.18.0.2"


class TestNothingRevealed:
    def test_known_and_unknown_accounts_get_the_same_pages(self, client, admin_user):
        known = [without_csrf(r.content.decode()) for r in fail(client, "alice", LIMIT + 1)]
        unknown = [
            without_csrf(r.content.decode().replace("nobody", "alice"))
            for r in fail(client, "nobody", LIMIT + 1, address="10.0.0.2")
        ]
        assert known == unknown
        # Every failure returns the sign-in form, the last ones explain the lock.
        assert "Please enter a correct username and password" in known[0]
        assert "Sign-in is paused" in known[-1]

    def test_the_page_explains_the_rule_before_anything_happens(self, client):
        page = client.get(reverse("login")).content.decode()
        assert f"After {LIMIT} failed attempts sign-in pauses for 15 minutes" in page


class TestAudit:
    def test_a_lockout_is_one_site_level_event(self, client, admin_user, study, caplog):
        fail(client, "alice", LIMIT + 3)
        [event] = AuditEvent.objects.filter(verb="signin.lockout")
        assert event.study is None  # never in a study's trail
        assert event.object_repr == "alice" and event.object_id == str(admin_user.pk)
        assert event.after == {
            "ip_address": "10.0.0.1",
            "failures": LIMIT,
            "locked_minutes": 15,
            "account_exists": True,
        }
        # axes keeps each failure up to the lock beside it (the admin's "Access failures");
        # attempts refused during the lock go to the log only.
        assert AccessFailureLog.objects.filter(username="alice").count() == LIMIT
        refused = [r for r in caplog.records if r.name == "workbench.signin"]
        assert len(refused) == 3 and "10.0.0.1" in refused[0].getMessage()
        assert not AuditEvent.objects.filter(study=study, verb__startswith="signin").exists()

    def test_an_unknown_account_is_not_named(self, client, db):
        fail(client, "my secret password", LIMIT)
        [event] = AuditEvent.objects.filter(verb="signin.lockout")
        assert event.object_repr == "(no such account)" and event.object_id == ""
        assert "secret" not in str(event.after)


@pytest.mark.parametrize("limit, minutes", [(3, 2)])
def test_limits_come_from_the_settings(client, admin_user, settings, limit, minutes):
    settings.AXES_FAILURE_LIMIT = limit
    settings.AXES_COOLOFF_TIME = timedelta(minutes=minutes)
    responses = fail(client, "alice", limit)
    assert responses[-1].status_code == 429
    assert f"Sign-in is paused for {minutes} minutes" in responses[-1].content.decode()
