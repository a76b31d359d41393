"""Project-wide guarantees: migrations complete, demo data, dashboard."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from workbench.models import Membership, Study
from workbench.roles import Role


@pytest.mark.django_db
def test_every_model_change_has_its_migration():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:
        pytest.fail(f"Models changed without a migration:\n{out.getvalue()} ({exc})")


@pytest.mark.django_db
class TestDemo:
    def test_seed_demo_builds_the_reference_study_and_prints_sign_ins(self):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        study = Study.objects.get(slug="open-llm-collaboration")
        assert list(study.research_questions.values_list("label", flat=True)) == [
            "RQ1",
            "RQ2",
            "RQ3",
        ]
        assert 9 <= study.guide_questions.count() <= 12
        assert all(gq.research_questions.exists() for gq in study.guide_questions.all())
        dims = {
            d.name: list(d.values.values_list("label", flat=True)) for d in study.dimensions.all()
        }
        assert dims == {
            "Lifecycle stage": ["pre-training", "post-training", "post-release"],
            "Collaboration type": [
                "model",
                "data",
                "software",
                "evaluation",
                "non-technical",
                "compute",
            ],
            "Polarity": ["on-ramp", "challenge"],
        }
        roles = set(Membership.objects.filter(study=study).values_list("user__username", "role"))
        assert roles == {
            ("admin", Role.ADMIN),
            ("lead", Role.LEAD),
            ("coder1", Role.CODER),
            ("coder2", Role.CODER),
            ("reviewer", Role.REVIEWER),
        }
        from coding.models import Coding

        # Ten interviews coded by both demo coders (the analysis itself: tests/coding/
        # test_demo.py); one participant has not consented yet.
        by_coder = {
            name: Coding.objects.filter(layer__coder__username=name).count()
            for name in ("coder1", "coder2")
        }
        assert by_coder["coder1"] >= 80 and by_coder["coder2"] >= 80
        codes = set(study.codes.filter(kind="code").values_list("origin", "status"))
        assert codes == {("deductive", "active"), ("inductive", "active")}
        assert study.codes.filter(origin="deductive", guide_questions__isnull=False).exists()
        assert study.transcripts.count() == 10 and study.participants.count() == 11
        printed = out.getvalue()
        for username in ("admin", "lead", "coder1", "coder2", "reviewer", "outsider"):
            assert username in printed
        assert "demo-lead-2026" in printed

    def test_printed_passwords_work_and_the_outsider_sees_nothing(self, client):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        # Every printed sign-in works through the real sign-in page (with its throttling).
        printed = re.findall(r"^\s+(\S+)\s+/\s+(\S+)\s+—", out.getvalue(), re.MULTILINE)
        assert len(printed) == 6
        for username, password in printed:
            response = client.post(reverse("login"), {"username": username, "password": password})
            assert response.status_code == 302, username
            assert response.url == reverse("study_list")
            client.logout()
        client.post(reverse("login"), {"username": "lead", "password": "demo-lead-2026"})
        assert client.get("/studies/open-llm-collaboration/").status_code == 200
        client.logout()
        client.post(reverse("login"), {"username": "outsider", "password": "demo-outsider-2026"})
        assert client.get("/studies/open-llm-collaboration/").status_code == 404
        assert "Open collaboration" not in client.get(reverse("study_list")).content.decode()


class TestDashboard:
    def test_shows_design_members_and_activity_to_a_lead(self, client, study, design, lead, coder):
        client.force_login(lead)
        page = client.get(reverse("study_dashboard", kwargs={"study_slug": study.slug}))
        body = page.content.decode()
        assert design["rq1"].text in body
        assert "Lifecycle stage" in body and "pre-training" in body
        assert "chen" in body or coder.get_full_name() in body
        assert "Recent activity" in body

    def test_coder_sees_no_activity_and_no_admin_links(self, client, study, design, coder):
        client.force_login(coder)
        body = client.get(reverse("study_dashboard", kwargs={"study_slug": study.slug})).content
        body = body.decode()
        assert "Recent activity" not in body
        assert "Manage members" not in body and "Audit trail" not in body

    def test_query_count_does_not_grow(self, client, study, lead, django_assert_num_queries):
        from tests.factories import UserFactory, give_roles
        from workbench.services import design as design_services

        client.force_login(lead)
        design_services.research_question_create(actor=lead, study=study, label="RQ1", text="t")
        design_services.dimension_create(actor=lead, study=study, name="D", values=["a"])
        design_services.guide_question_create(
            actor=lead, study=study, text="q", research_questions=study.research_questions.all()
        )
        url = reverse("study_dashboard", kwargs={"study_slug": study.slug})
        # session, user, study, permissions, rqs, guide questions, their rqs, dimensions,
        # values, members, participants by consent, transcripts by status, coding progress
        # (the layers the reader codes blind against, transcripts with assignments, their
        # layers), my layers, transcripts waiting for reconciliation, recent events (and the
        # blind layers again, for the trail), the actors' full names for their descriptions
        with django_assert_num_queries(19):
            client.get(url)
        for n in range(15):
            give_roles(study, UserFactory(username=f"m{n}"), Role.CODER, Role.REVIEWER)
            design_services.dimension_create(
                actor=lead, study=study, name=f"D{n}", values=["a", "b"]
            )
        with django_assert_num_queries(19):
            client.get(url)


def test_dashboard_counts_interviews_and_consent(client, study, lead, admin_user):
    from django.utils import timezone

    from tests.factories import consented_participant, imported_transcript
    from transcripts.services import consent as consent_services

    one = consented_participant(study, "I1")
    two = consented_participant(study, "I2")
    imported_transcript(study, one, "Interviewer: Hi?\n\nI1: Hello.\n")
    imported_transcript(study, two, "Interviewer: Hi?\n\nI2: Hello.\n")
    consent_services.consent_withdraw(
        actor=admin_user, participant=two, effective_on=timezone.localdate(), reason="x"
    )
    client.force_login(admin_user)
    page = client.get(reverse("study_dashboard", kwargs={"study_slug": study.slug}))
    body = page.content.decode()
    # The withdrawn participant's transcript is no longer counted.
    assert "<strong>1</strong> transcript " in body and "1 draft" in body
    assert "1 consent covers analysis; 1 withdrawn" in body
    assert "data stewardship" in body


def test_static_files_are_served_to_the_test_client(client):
    response = client.get("/static/css/workbench.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert b"".join(response.streaming_content)
