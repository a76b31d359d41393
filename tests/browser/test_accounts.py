"""Accounts in a real browser: invitations that the person accepts, a failing mail server, and
the sign-in pause."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.browser.conftest import (
    CHROMIUM_MISSING,
    CHROMIUM_MISSING_REASON,
    DEMO_PASSWORDS,
    DEMO_SLUG,
    DEMO_STUDY_NAME,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM_MISSING, reason=CHROMIUM_MISSING_REASON),
]


@pytest.fixture
def second_page(chromium, live_server):
    """Another person's browser (its own cookies)."""
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def sign_in(page, username, password):
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_an_invited_account_accepts_and_only_then_is_named(
    page, second_page, login, demo, artifacts_dir
):
    login("admin")
    page.goto(f"/studies/{DEMO_SLUG}/members/")
    page.get_by_label("E-mail or username").fill("outsider")
    page.locator("#invite-member").get_by_label("Coder").check()
    page.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_text("Invitation for “outsider” saved")).to_be_visible()
    row = page.locator("#invitations tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("outsider")
    expect(row).to_contain_text("Shown at sign-in")
    expect(page.locator("main")).not_to_contain_text("Oscar")
    expect(page.locator("main")).not_to_contain_text("outsider@demo.test")
    page.screenshot(path=artifacts_dir / "accounts-invited.png", full_page=True)

    sign_in(second_page, "outsider", DEMO_PASSWORDS["outsider"])
    offer = second_page.locator("#invitations")
    expect(offer).to_contain_text(DEMO_STUDY_NAME)
    expect(offer).to_contain_text("Amara Admin invites you as Coder")
    second_page.screenshot(path=artifacts_dir / "accounts-invitation-for-you.png", full_page=True)
    offer.get_by_role("button", name=f"Accept the invitation to {DEMO_STUDY_NAME}").click()
    expect(second_page.get_by_text("You joined as Coder")).to_be_visible()
    expect(second_page.locator(".studynav")).to_contain_text(DEMO_STUDY_NAME)

    page.reload()
    expect(page.locator("#members table").first).to_contain_text("Oscar Outsider")
    expect(page.locator("#members table").first).to_contain_text("outsider@demo.test")
    expect(page.locator("#invitations")).to_have_count(0)


def test_a_failing_mail_server_is_reported_and_resend_works(
    page, second_page, login, demo, settings, artifacts_dir
):
    settings.EMAIL_BACKEND = "tests.workbench.failing_mail.EmailBackend"
    login("admin")
    page.goto(f"/studies/{DEMO_SLUG}/members/")
    page.get_by_label("E-mail or username").fill("ama@example.org")
    page.locator("#invite-member").get_by_label("Reviewer").check()
    page.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_text("the e-mail could not be sent")).to_be_visible()
    row = page.locator("#invitations tbody tr")
    expect(row).to_contain_text("E-mail not sent")
    page.screenshot(path=artifacts_dir / "accounts-mail-failed.png", full_page=True)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    row.get_by_role("button", name="Resend the invitation for ama@example.org").click()
    expect(page.get_by_text("Invitation sent again to ama@example.org")).to_be_visible()
    expect(row).to_contain_text("E-mailed; open until")
    [message] = mail.outbox
    link = re.search(r"https?://[^/\s]+(/invitations/\S+/)", message.body).group(1)

    second_page.goto(link)
    expect(second_page.get_by_text("Create your account for ama@example.org")).to_be_visible()
    second_page.screenshot(path=artifacts_dir / "accounts-new-account.png", full_page=True)
    second_page.get_by_label("Your full name").fill("Ama Owusu")
    second_page.get_by_label("Choose a password").fill("a long new secret 42")
    second_page.get_by_label("The password again").fill("a long new secret 42")
    second_page.get_by_role("button", name="Create account and join").click()
    expect(second_page.get_by_text("You joined as Reviewer")).to_be_visible()
    expect(second_page.locator(".topbar")).to_contain_text("Ama Owusu")


def test_repeated_wrong_passwords_pause_sign_in(page, demo, artifacts_dir):
    for _ in range(5):
        sign_in(page, "lead", "not the password")
    lockout = page.locator("#lockout")
    expect(lockout).to_contain_text("Sign-in is paused for 15 minutes")
    page.screenshot(path=artifacts_dir / "accounts-lockout.png", full_page=True)
    sign_in(page, "lead", DEMO_PASSWORDS["lead"])
    expect(page.locator("#lockout")).to_be_visible()
    expect(page.get_by_role("heading", name="Your studies")).to_have_count(0)
