"""Reviewers find their way in: the transcripts waiting for reconciliation on the dashboard and
the transcript list, and the agreement page's rows linking to reconciliation. Blind coding
holds: a transcript waits only once both its layers are submitted."""

import pytest
from django.urls import reverse

from coding.models import CodingMode, Decision, LayerRole
from coding.selectors.reconciliation import waiting_for_reconciliation
from coding.services import assignments as assignment_services
from coding.services import reconciliation as rec
from tests.coding.conftest import codes  # noqa: F401 (fixture)
from tests.coding.test_reconciliation import (  # noqa: F401 (fixtures)
    TEXT,
    code_crafted_layers,
    layers_coded,
    start,
    transcript,
)
from tests.factories import give_roles, ready_transcript
from workbench.access import member_perms
from workbench.roles import Role

QUEUE = "Waiting for reconciliation"


def dashboard(client, study):
    return client.get(reverse("study_dashboard", args=[study.slug])).content.decode()


def transcript_list(client, study):
    return client.get(reverse("transcript_list", args=[study.slug])).content.decode()


def reconcile_url(study, t):
    return reverse("reconcile", args=[study.slug, t.pk])


def coded(study, lead, coder, coder2, codes, n, *, submit=(LayerRole.PRIMARY, LayerRole.SECOND)):
    t = ready_transcript(study, lead, TEXT.replace("I1:", f"I{n}:"), code=f"I{n}")
    assignment_services.assignment_set(
        actor=lead, transcript=t, primary=coder, second=coder2, mode=CodingMode.INDEPENDENT
    )
    code_crafted_layers(t, coder, coder2, codes)
    for user, role in ((coder, LayerRole.PRIMARY), (coder2, LayerRole.SECOND)):
        if role in submit:
            assignment_services.layer_submit(actor=user, layer=t.layers.get(role=role))
    return t


def test_a_transcript_waits_once_both_layers_are_submitted_until_every_decision_is_made(
    client_for, study, lead, coder, coder2, reviewer, codes
):
    half = coded(study, lead, coder, coder2, codes, 2, submit=(LayerRole.PRIMARY,))
    t = coded(study, lead, coder, coder2, codes, 3)
    c = client_for(reviewer)
    html = dashboard(c, study)
    assert QUEUE in html and reconcile_url(study, t) in html
    assert "not compared yet" in html
    assert reconcile_url(study, half) not in html  # B is still coding blind
    assert reconcile_url(study, t) in transcript_list(c, study)

    r = start(reviewer, t)
    d = r.disagreements.get(number=1)
    rec.disagreement_resolve(actor=reviewer, disagreement=d, version=d.version, decision="both")
    assert "3 of 4 disagreements open" in dashboard(c, study)

    # A reopened layer takes the transcript out of the queue: decisions are paused.
    layer = t.layers.get(role=LayerRole.SECOND)
    assignment_services.layer_reopen(actor=lead, layer=layer, reason="missed a turn")
    assert reconcile_url(study, t) not in dashboard(c, study)
    assignment_services.layer_submit(actor=coder2, layer=layer)
    assert reconcile_url(study, t) in dashboard(c, study)

    for d in r.disagreements.filter(decision=""):
        rec.disagreement_resolve(
            actor=reviewer, disagreement=d, version=d.version, decision=Decision.BOTH
        )
    html = dashboard(c, study)
    assert reconcile_url(study, t) not in html
    assert "Nothing is waiting for you" in html
    # The transcript list shows the queue only when something waits.
    assert QUEUE not in transcript_list(c, study)


def test_coders_see_no_queue_and_nobody_is_queued_on_a_transcript_they_coded(
    client_for, study, lead, coder, coder2, reviewer, codes
):
    t = coded(study, lead, coder, coder2, codes, 2)
    assert QUEUE not in dashboard(client_for(coder2), study)
    assert QUEUE not in transcript_list(client_for(coder2), study)
    give_roles(study, coder, Role.REVIEWER)  # a reviewer too, but coded this one
    html = dashboard(client_for(coder), study)
    assert QUEUE in html and reconcile_url(study, t) not in html
    assert reconcile_url(study, t) in dashboard(client_for(lead), study)


def test_the_queue_is_one_query_whatever_its_length(
    study, lead, coder, coder2, reviewer, codes, django_assert_num_queries
):
    perms = member_perms(reviewer, study)
    coded(study, lead, coder, coder2, codes, 2)
    with django_assert_num_queries(1):
        assert len(waiting_for_reconciliation(reviewer, perms, study)) == 1
    for n in range(3, 6):
        start(reviewer, coded(study, lead, coder, coder2, codes, n))
    with django_assert_num_queries(1):
        rows = waiting_for_reconciliation(reviewer, perms, study)
    assert [(t.participant.code, t.started, t.open, t.total) for t in rows] == [
        ("I2", False, 0, 0),
        ("I3", True, 4, 4),
        ("I4", True, 4, 4),
        ("I5", True, 4, 4),
    ]


@pytest.mark.parametrize("may_reconcile", [True, False])
def test_agreement_rows_link_to_reconciliation_for_those_who_may_reconcile(
    client_for, study, lead, coder, coder2, reviewer, layers_coded, may_reconcile
):
    if not may_reconcile:
        give_roles(study, coder, Role.REVIEWER)  # oversees, but coded this transcript
    viewer = reviewer if may_reconcile else coder
    html = client_for(viewer).get(reverse("agreement", args=[study.slug])).content.decode()
    assert "Per transcript" in html
    assert (reconcile_url(study, layers_coded) in html) is may_reconcile
