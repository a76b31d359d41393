"""Invitations: nothing is granted, and nothing about an account shown, until the person accepts."""

import re
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory, give_roles
from workbench.models import AuditEvent, Invitation, Membership
from workbench.roles import Role
from workbench.services import invitations as invitation_services

FAILING_MAIL = "tests.workbench.failing_mail.EmailBackend"
LINK = re.compile(r"http://testserver(/invitations/[^/\s]+/)")


def roles_of(study, user):
    return set(Membership.objects.filter(study=study, user=user).values_list("role", flat=True))


def url(name, study, **kwargs):
    return reverse(name, kwargs={"study_slug": study.slug, **kwargs})


def link_in(message) -> str:
    return LINK.search(message.body).group(1)


@pytest.fixture
def nadia(db):
    """An existing account with no role in the study: her name and address are hers."""
    return UserFactory(
        username="nadia", email="nadia.petrova@uni.example", first_name="Nadia", last_name="Petrova"
    )


def invite(client, study, identifier, roles=("coder",), htmx=False, follow=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        url("member_invite", study),
        {"identifier": identifier, "roles": list(roles)},
        headers=headers,
        follow=follow,
    )


def comparable(html: str, identifier: str) -> str:
    """A page with what legitimately differs between two invitations taken out."""
    html = html.replace(identifier, "IDENTIFIER")
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "CSRF", html)
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", html)


class TestInvitingAnExistingAccount:
    def test_nothing_is_granted_and_nothing_shown_until_they_accept(
        self, client, study, admin_user, nadia
    ):
        client.force_login(admin_user)
        response = invite(client, study, "nadia", roles=["coder", "reviewer"], follow=True)
        page = response.content.decode()
        assert "Invitation for “nadia” saved" in page
        # The inviter sees what they typed, not her name or address; she holds no role.
        assert "Petrova" not in page and "nadia.petrova@uni.example" not in page
        assert roles_of(study, nadia) == set()
        for name in ("audit_trail", "audit_csv", "study_dashboard"):
            response = client.get(url(name, study))
            body = b"".join(response).decode()
            assert "Petrova" not in body and "nadia.petrova" not in body, name

        client.force_login(nadia)
        assert client.get(url("study_dashboard", study)).status_code == 404
        listing = client.get(reverse("study_list")).content.decode()
        assert "Invitations for you" in listing and study.name in listing
        invitation = Invitation.objects.get()
        accepted = client.post(reverse("invitation_accept", args=[invitation.public_id]))
        assert accepted.status_code == 302 and accepted.url == url("study_dashboard", study)
        assert roles_of(study, nadia) == {"coder", "reviewer"}
        assert client.get(url("study_dashboard", study)).status_code == 200

        client.force_login(admin_user)
        members = client.get(url("members", study)).content.decode()
        assert "Nadia Petrova" in members and "nadia.petrova@uni.example" in members
        assert "Invitations" not in members  # the accepted one has left the list
        event = AuditEvent.objects.get(study=study, verb="invitation.accept")
        assert event.actor == nadia and event.after["invited_by"] == "alice"

    def test_by_email_she_gets_a_link_to_sign_in_and_answer(self, client, study, admin_user, nadia):
        client.force_login(admin_user)
        invite(client, study, "Nadia.Petrova@UNI.example")
        [message] = mail.outbox
        assert message.to == ["Nadia.Petrova@uni.example"]
        link = link_in(message)
        client.logout()
        page = client.get(link).content.decode()
        assert "sign in with it to accept" in page and "Create your account" not in page
        login = reverse("login") + "?next=" + link
        assert login in page

        signed_in = client.post(
            reverse("login"),
            {"username": "nadia", "password": "correct horse battery", "next": link},
        )
        assert signed_in.status_code == 302 and signed_in.url == link
        answer = client.get(link).content.decode()
        assert "Accept and join" in answer and "Decline" in answer
        invitation = Invitation.objects.get()
        client.post(reverse("invitation_accept", args=[invitation.public_id]))
        assert roles_of(study, nadia) == {"coder"}
        # Used: the link no longer works.
        assert client.get(link).status_code == 404

    def test_declining_grants_nothing_and_does_not_name_her(self, client, study, admin_user, nadia):
        client.force_login(admin_user)
        invite(client, study, "nadia")
        invitation = Invitation.objects.get()
        client.force_login(nadia)
        response = client.post(reverse("invitation_decline", args=[invitation.public_id]))
        assert response.status_code == 302 and response.url == reverse("study_list")
        assert roles_of(study, nadia) == set()
        assert "Invitations for you" not in client.get(reverse("study_list")).content.decode()
        event = AuditEvent.objects.get(verb="invitation.decline")
        assert event.actor is None and "nadia" not in str(event.after)
        client.force_login(admin_user)
        members = client.get(url("members", study)).content.decode()
        assert "Declined" in members and "Petrova" not in members

    def test_someone_else_cannot_answer_it(self, client, study, admin_user, nadia, outsider):
        client.force_login(admin_user)
        invite(client, study, "nadia")
        invitation = Invitation.objects.get()
        client.force_login(outsider)
        for name in ("invitation_accept", "invitation_decline"):
            assert client.post(reverse(name, args=[invitation.public_id])).status_code == 404
        assert "Invitations for you" not in client.get(reverse("study_list")).content.decode()
        assert roles_of(study, outsider) == set()
        invitation.refresh_from_db()
        assert invitation.accepted_at is None and invitation.declined_at is None

    def test_a_double_click_on_accept_lands_on_the_study(self, client, study, admin_user, nadia):
        client.force_login(admin_user)
        invite(client, study, "nadia")
        invitation = Invitation.objects.get()
        client.force_login(nadia)
        client.post(reverse("invitation_accept", args=[invitation.public_id]))
        again = client.post(reverse("invitation_accept", args=[invitation.public_id]))
        assert again.status_code == 302 and again.url == url("study_dashboard", study)
        assert Membership.objects.filter(study=study, user=nadia).count() == 1

    def test_inviting_a_member_is_refused(self, client, study, admin_user, coder):
        client.force_login(admin_user)
        # An admin may type a member's e-mail by mistake: they are told, nothing changes.
        response = invite(client, study, coder.email, roles=["reviewer"])
        assert "already a member" in response.content.decode()
        assert not Invitation.objects.exists() and mail.outbox == []


class TestSameAnswerForEveryIdentifier:
    @pytest.mark.parametrize("kind", ["username", "email"])
    @pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
    def test_known_and_unknown_accounts_get_the_same_answer(
        self, client, study, admin_user, nadia, kind, htmx
    ):
        known = "nadia" if kind == "username" else "nadia.petrova@uni.example"
        unknown = "ghost" if kind == "username" else "ghost@nowhere.example"
        client.force_login(admin_user)
        answers, mails = [], []
        for identifier in (known, unknown):
            mail.outbox.clear()
            response = invite(client, study, identifier, htmx=htmx, follow=not htmx)
            assert response.status_code == 200
            answers.append(comparable(response.content.decode(), identifier))
            mails.append(
                [
                    (m.subject, LINK.sub("LINK", m.body).replace(identifier, "X"))
                    for m in mail.outbox
                ]
            )
            invitation = Invitation.objects.get(identifier__iexact=identifier)
            invitation_services.invitation_withdraw(
                actor=admin_user, study=study, public_id=invitation.public_id
            )
        assert answers[0] == answers[1]
        assert mails[0] == mails[1]
        assert len(mails[0]) == (1 if kind == "email" else 0)
        # The audit trail does not tell them apart either (what was typed, never an account).
        events = AuditEvent.objects.filter(verb="invitation.create").order_by("id")
        assert [(e.object_id != "", e.after["roles"]) for e in events] == [(True, ["coder"])] * 2
        assert str(nadia.pk) not in {e.object_id for e in events}
        assert roles_of(study, nadia) == set()


class TestNewPerson:
    def test_link_creates_the_account_and_joins(self, client, study, admin_user, lead):
        client.force_login(admin_user)
        invite(client, study, "Ama@Example.org", roles=["coder"])
        # A second study invites the same address: it reaches her new account too.
        from workbench.services import studies as study_services

        other = study_services.study_create(actor=lead, name="Another study")
        invitation_services.invitation_create(
            actor=lead, study=other, identifier="ama@example.org", roles=["reviewer"]
        )
        [message] = mail.outbox
        assert message.to == ["Ama@example.org"] and study.name in message.subject
        link = link_in(message)
        client.logout()
        page = client.get(link).content.decode()
        assert "Create your account for <strong>Ama@example.org</strong>" in page

        short = {"name": "Ama Owusu", "new_password1": "short", "new_password2": "short"}
        refused = client.post(link, short)
        assert "too short" in refused.content.decode()
        assert not Membership.objects.filter(user__email="Ama@example.org").exists()

        done = client.post(
            link,
            {
                "name": "Ama Owusu",
                "new_password1": "a long new secret 42",
                "new_password2": "a long new secret 42",
            },
        )
        assert done.status_code == 302 and done.url == url("study_dashboard", study)
        ama = Membership.objects.get(study=study, role="coder").user
        assert ama.get_full_name() == "Ama Owusu" and ama.username == "Ama@example.org"
        # She is signed in, and her other invitation waits on her study list.
        listing = client.get(reverse("study_list")).content.decode()
        assert "Another study" in listing and "Invitations for you" in listing
        client.logout()
        signed_in = client.post(
            reverse("login"), {"username": "Ama@example.org", "password": "a long new secret 42"}
        )
        assert signed_in.status_code == 302
        client.logout()
        assert client.get(link).status_code == 404
        assert "This link no longer works" in client.get(link).content.decode()

    def test_no_account_exists_before_the_person_accepts(self, client, study, admin_user):
        client.force_login(admin_user)
        invite(client, study, "new@example.org")
        from django.contrib.auth import get_user_model

        assert not get_user_model().objects.filter(email__iexact="new@example.org").exists()


class TestMailFailure:
    def test_a_failing_mail_server_gives_a_message_and_a_resend_that_works(
        self, client, study, admin_user, settings
    ):
        settings.EMAIL_BACKEND = FAILING_MAIL
        client.force_login(admin_user)
        response = invite(client, study, "ama@example.org", follow=True)
        assert response.status_code == 200  # not a 500
        page = response.content.decode()
        assert "the e-mail could not be sent" in page
        assert "E-mail not sent" in page and "Resend invitation" in page
        invitation = Invitation.objects.get()
        assert invitation.mail == Invitation.Mail.FAILED
        assert AuditEvent.objects.filter(verb="invitation.mail_failed").count() == 1

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        resent = client.post(
            url("invitation_resend", study, invitation_id=invitation.public_id),
            headers={"HX-Request": "true"},
        )
        body = resent.content.decode()
        assert "Invitation sent again to ama@example.org" in body
        assert "E-mail not sent" not in body and "E-mailed; open until" in body
        [message] = mail.outbox
        client.logout()
        page = client.get(link_in(message)).content.decode()
        assert "Create your account" in page

    def test_resend_renews_an_expired_invitation_and_kills_the_old_link(
        self, client, study, admin_user
    ):
        client.force_login(admin_user)
        invite(client, study, "ama@example.org")
        old_link = link_in(mail.outbox[0])
        Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
        members = client.get(url("members", study)).content.decode()
        assert "Expired" in members and "Resend invitation" in members
        client.logout()
        assert client.get(old_link).status_code == 404

        client.force_login(admin_user)
        invitation = Invitation.objects.get()
        client.post(url("invitation_resend", study, invitation_id=invitation.public_id))
        new_link = link_in(mail.outbox[1])
        assert new_link != old_link
        client.logout()
        assert client.get(old_link).status_code == 404
        assert client.get(new_link).status_code == 200
        invitation.refresh_from_db()
        assert invitation.expires_at > timezone.now() + timedelta(days=6)

    def test_a_username_invitation_sends_no_mail_and_resend_renews_it(
        self, client, study, admin_user, nadia
    ):
        client.force_login(admin_user)
        invite(client, study, "nadia")
        invitation = Invitation.objects.get()
        Invitation.objects.update(expires_at=timezone.now() - timedelta(days=1))
        client.force_login(nadia)
        assert "Invitations for you" not in client.get(reverse("study_list")).content.decode()
        client.force_login(admin_user)
        response = client.post(
            url("invitation_resend", study, invitation_id=invitation.public_id), follow=True
        )
        assert "Invitation for “nadia” saved until" in response.content.decode()
        assert mail.outbox == []
        client.force_login(nadia)
        assert "Invitations for you" in client.get(reverse("study_list")).content.decode()


class TestRefusals:
    @pytest.mark.parametrize(
        "data, message",
        [
            ({"identifier": "  ", "roles": ["coder"]}, "This field is required"),
            ({"identifier": "a@b@c", "roles": ["coder"]}, "not a valid e-mail address"),
            ({"identifier": "someone"}, "This field is required"),
            ({"identifier": "someone", "roles": ["emperor"]}, "not one of the available"),
        ],
    )
    def test_bad_input_gets_a_message_and_changes_nothing(
        self, client, study, admin_user, data, message
    ):
        client.force_login(admin_user)
        response = client.post(url("member_invite", study), data)
        assert response.status_code == 200 and message in response.content.decode()
        assert not Invitation.objects.exists() and mail.outbox == []

    def test_inviting_the_same_identifier_twice_is_refused(self, client, study, admin_user):
        client.force_login(admin_user)
        invite(client, study, "ama@example.org")
        response = invite(client, study, "AMA@example.org")
        assert "already invited; resend that invitation instead" in response.content.decode()
        assert Invitation.objects.count() == 1 and len(mail.outbox) == 1

    def test_withdrawn_invitation_cannot_be_accepted(self, client, study, admin_user, nadia):
        client.force_login(admin_user)
        invite(client, study, "nadia.petrova@uni.example")
        link = link_in(mail.outbox[0])
        invitation = Invitation.objects.get()
        client.post(url("invitation_withdraw", study, invitation_id=invitation.public_id))
        client.force_login(nadia)
        assert client.get(link).status_code == 404
        response = client.post(reverse("invitation_accept", args=[invitation.public_id]))
        assert response.status_code == 404
        assert roles_of(study, nadia) == set()

    def test_another_studys_invitation_is_404_on_this_study(
        self, client, study, admin_user, outsider
    ):
        theirs = invitation_services.invitation_create(
            actor=outsider,
            study=outsider.memberships.get().study,
            identifier="x@example.org",
            roles=["coder"],
        ).invitation
        client.force_login(admin_user)
        for name in ("invitation_resend", "invitation_withdraw"):
            response = client.post(url(name, study, invitation_id=theirs.public_id))
            assert response.status_code == 404
        assert Invitation.objects.filter(pk=theirs.pk).exists()


class TestFormerInvitations:
    """Accounts the former flow created without a password get a new link (not a 500)."""

    @pytest.fixture
    def passwordless(self, study):
        user = UserFactory(username="old@example.org", email="old@example.org")
        user.set_unusable_password()
        user.save()
        give_roles(study, user, Role.CODER)
        return user

    def test_a_new_link_lets_them_set_a_password(self, client, study, admin_user, passwordless):
        client.force_login(admin_user)
        assert "Send a new link" in client.get(url("members", study)).content.decode()
        response = client.post(
            url("member_link_resend", study, user_id=passwordless.pk), follow=True
        )
        assert "A new link to set a password went to old@example.org" in (response.content.decode())
        [message] = mail.outbox
        link = re.search(r"http://testserver(/accounts/invitation/\S+)", message.body).group(1)
        client.logout()
        page = client.get(link, follow=True)
        assert "Choose a password" in page.content.decode()
        done = client.post(
            page.redirect_chain[-1][0],
            {"new_password1": "a long new secret 42", "new_password2": "a long new secret 42"},
        )
        assert done.status_code == 302
        passwordless.refresh_from_db()
        assert passwordless.check_password("a long new secret 42")

    def test_a_failing_mail_server_gives_a_message(
        self, client, study, admin_user, passwordless, settings
    ):
        settings.EMAIL_BACKEND = FAILING_MAIL
        client.force_login(admin_user)
        response = client.post(
            url("member_link_resend", study, user_id=passwordless.pk), follow=True
        )
        assert response.status_code == 200
        assert "could not be sent" in response.content.decode()

    def test_someone_with_a_password_gets_no_link(self, client, study, admin_user, coder):
        client.force_login(admin_user)
        response = client.post(url("member_link_resend", study, user_id=coder.pk), follow=True)
        assert "has set a password already" in response.content.decode()
        assert mail.outbox == []


class TestStudyCreators:
    def test_by_default_any_active_user_creates_studies(self, client, outsider):
        client.force_login(outsider)
        assert "New study" in client.get(reverse("study_list")).content.decode()
        assert client.get(reverse("study_create")).status_code == 200

    def test_staff_only_site_explains_and_creates_nothing(self, client, outsider, settings):
        settings.STUDY_CREATORS = "staff"
        client.force_login(outsider)
        assert "New study" not in client.get(reverse("study_list")).content.decode()
        page = client.get(reverse("study_create"))
        assert page.status_code == 403 and "only staff accounts create studies" in (
            page.content.decode()
        )
        before = outsider.memberships.count()
        response = client.post(reverse("study_create"), {"name": "Sneaky"})
        assert response.status_code == 403 and outsider.memberships.count() == before

        outsider.is_staff = True
        outsider.save()
        assert "New study" in client.get(reverse("study_list")).content.decode()
        created = client.post(reverse("study_create"), {"name": "Allowed"})
        assert created.status_code == 302 and outsider.memberships.count() == before + 1


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a race needs two real PostgreSQL connections"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_admins_inviting_the_same_person_at_once_make_one_invitation():
    from workbench.services import studies as study_services

    alice = UserFactory(username="alice2")
    bob = UserFactory(username="bob2")
    study = study_services.study_create(actor=alice, name="Race")
    give_roles(study, bob, Role.ADMIN, actor=alice)
    barrier = threading.Barrier(2)
    outcomes = []

    def invite_as(actor):
        from django.core.exceptions import ValidationError
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            invitation_services.invitation_create(
                actor=actor, study=study, identifier="same@example.org", roles=["coder"]
            )
            outcomes.append("created")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=invite_as, args=(a,)) for a in (alice, bob)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[0] == "created"
    assert "already invited" in sorted(outcomes)[1]
    assert Invitation.objects.filter(study=study).count() == 1
