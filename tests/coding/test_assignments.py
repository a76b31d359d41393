import pytest
from django.urls import reverse

from coding.models import Assignment, LayerStatus
from coding.services import assignments as assignment_services
from tests.factories import (
    consented_participant,
    imported_transcript,
    ready_transcript,
)
from transcripts.services import transcripts as transcript_services
from workbench.models import AuditEvent


def url(name, study, **kwargs):
    return reverse(name, kwargs={"study_slug": study.slug, **kwargs})


@pytest.fixture
def ready(study, lead):
    return ready_transcript(study, lead, "Interviewer: Hi?\n\nI1: Hello.\n")


def test_lead_assigns_two_coders(client, study, lead, coder, coder2, ready):
    client.force_login(lead)
    page = client.get(url("assignments", study)).content.decode()
    assert ready.title in page and "Assign" in page
    response = client.post(
        url("assignment_set", study, pk=ready.pk),
        {
            f"t{ready.pk}-primary_coder": coder.pk,
            f"t{ready.pk}-second_coder": coder2.pk,
            f"t{ready.pk}-mode": "independent",
        },
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert "<html" not in body and 'id="assignments"' in body
    assignment = Assignment.objects.get(transcript=ready)
    assert (assignment.primary_coder, assignment.second_coder) == (coder, coder2)
    assert "not started" in body


def test_same_coder_twice_is_refused_next_to_the_field(client, study, lead, coder, ready):
    client.force_login(lead)
    response = client.post(
        url("assignment_set", study, pk=ready.pk),
        {
            f"t{ready.pk}-primary_coder": coder.pk,
            f"t{ready.pk}-second_coder": coder.pk,
            f"t{ready.pk}-mode": "review",
        },
    )
    assert "The second coder must be someone else" in response.content.decode()
    assert not Assignment.objects.exists()


def test_only_coders_and_reviewers_are_offered(client, study, lead, coder, reviewer, ready):
    client.force_login(lead)
    page = client.get(url("assignments", study)).content.decode()
    assert f'value="{coder.pk}"' in page and f'value="{reviewer.pk}"' in page
    assert f'value="{lead.pk}"' not in page


def test_lead_reopens_a_submitted_layer_with_a_reason(client, study, lead, coder, coder2, ready):
    assignment_services.assignment_set(
        actor=lead, transcript=ready, primary=coder, second=coder2, mode="independent"
    )
    layer = ready.layers.get(role="primary")
    assignment_services.layer_submit(actor=coder, layer=layer)
    client.force_login(lead)
    client.post(
        url("layer_reopen", study, pk=layer.pk),
        headers={"HX-Request": "true", "HX-Prompt": "Missed the last answer"},
    )
    layer.refresh_from_db()
    assert layer.status == LayerStatus.IN_PROGRESS
    assert AuditEvent.objects.get(verb="layer.reopen").after["reason"] == "Missed the last answer"


def test_progress_shows_statuses_never_counts(client, study, lead, coder, coder2, ready):
    assignment_services.assignment_set(
        actor=lead, transcript=ready, primary=coder, second=coder2, mode="independent"
    )
    layer = ready.layers.get(role="primary")
    assignment_services.layer_submit(actor=coder, layer=layer)
    client.force_login(coder2)
    page = client.get(url("study_dashboard", study)).content.decode()
    assert 'aria-valuenow="50"' in page
    assert "submitted" in page


def test_assignments_page_query_count_is_constant(
    client, study, lead, coder, coder2, django_assert_num_queries
):
    client.force_login(lead)
    for n in range(3):
        participant = consented_participant(study, f"I{n}")
        t = imported_transcript(study, participant, f"Interviewer: Hi {n}?\n\nI{n}: Hello.\n")
        t = transcript_services.transcript_update(
            actor=lead, transcript=t, version=1, status="ready"
        )
        assignment_services.assignment_set(
            actor=lead, transcript=t, primary=coder, second=coder2, mode="independent"
        )
    # session, user, study, permissions, the layers this lead codes blind against, transcripts
    # (with consent, participant, assignment and coders), their layers, coders for the forms
    with django_assert_num_queries(8):
        client.get(url("assignments", study))
    participant = consented_participant(study, "I9")
    for n in range(5):
        t = imported_transcript(
            study, participant, f"Interviewer: More {n}?\n\nI9: Yes.\n", filename=f"more-{n}.txt"
        )
        t = transcript_services.transcript_update(
            actor=lead, transcript=t, version=1, status="ready"
        )
        assignment_services.assignment_set(
            actor=lead, transcript=t, primary=coder2, second=coder, mode="review"
        )
    with django_assert_num_queries(8):
        page = client.get(url("assignments", study)).content.decode()
    assert page.count('class="card assignment"') == 8


def test_coders_find_their_work_on_the_dashboard_and_transcript_page(
    client, study, lead, coder, coder2, ready, admin_user
):
    assignment_services.assignment_set(
        actor=lead, transcript=ready, primary=coder, second=coder2, mode="independent"
    )
    coding_url = reverse("coding_view", kwargs={"study_slug": study.slug, "pk": ready.pk})
    client.force_login(coder)
    assert coding_url in client.get(url("study_dashboard", study)).content.decode()
    assert coding_url in client.get(url("transcript_detail", study, pk=ready.pk)).content.decode()
    client.force_login(admin_user)
    assert (
        coding_url not in client.get(url("transcript_detail", study, pk=ready.pk)).content.decode()
    )
