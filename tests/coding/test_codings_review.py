"""Review mode end to end: the second coder confirms, challenges or adds; reconciliation turns
every challenge and addition into a disagreement; confirmed codings are agreements."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from coding.models import (
    CodingMode,
    ConsensusSource,
    Decision,
    DisagreementKind,
    LayerRole,
    LayerStatus,
    ReviewVerdict,
)
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services import reconciliation as rec
from tests.factories import consented_participant, imported_transcript
from transcripts.services import transcripts as transcript_services

TEXT = (
    "Interviewer: What got in the way?\n\n"
    "I1: Compute, first. We had no GPUs at all and waited for weeks.\n\n"
    "Interviewer: And the team?\n\n"
    "I1: Small but stubborn. Everyone helped with everything.\n"
)
HX = {"HX-Request": "true"}


def span(text, phrase):
    start = text.index(phrase)
    return start, start + len(phrase)


@pytest.fixture
def primary_done(study, lead, coder, coder2, codes):
    participant = consented_participant(study, "I1")
    t = imported_transcript(study, participant, TEXT)
    t = transcript_services.transcript_update(actor=lead, transcript=t, version=1, status="ready")
    assignment_services.assignment_set(
        actor=lead, transcript=t, primary=coder, second=coder2, mode=CodingMode.REVIEW
    )
    layer = t.layers.get(role=LayerRole.PRIMARY)
    made = {}
    for name, phrase in [
        ("Compute as a gate", "We had no GPUs at all"),
        ("Waiting", "waited for weeks"),
        ("Small team", "Small but stubborn."),
    ]:
        s, e = span(t.text, phrase)
        made[name] = coding_services.coding_create(
            actor=coder, layer=layer, code=codes[name], start=s, end=e
        )
    assignment_services.layer_submit(actor=coder, layer=layer)
    return t, made


def test_the_second_coder_reviews_every_primary_coding_before_submitting(
    primary_done, coder2, codes
):
    t, made = primary_done
    second = t.layers.get(role=LayerRole.SECOND)
    coding_services.coding_review(
        actor=coder2, coding=made["Compute as a gate"], verdict=ReviewVerdict.CONFIRM
    )
    with pytest.raises(ValidationError, match="2 of the primary coder's codings are not reviewed"):
        assignment_services.layer_submit(actor=coder2, layer=second)
    with pytest.raises(ValidationError, match="a challenge needs a comment"):
        coding_services.coding_review(
            actor=coder2, coding=made["Waiting"], verdict=ReviewVerdict.CHALLENGE
        )
    s, e = span(t.text, "and waited for weeks.")
    coding_services.coding_review(
        actor=coder2,
        coding=made["Waiting"],
        verdict=ReviewVerdict.CHALLENGE,
        comment="The waiting includes the 'and'… and the full stop.",
        alt_start=s,
        alt_end=e,
    )
    coding_services.coding_review(
        actor=coder2,
        coding=made["Small team"],
        verdict=ReviewVerdict.CHALLENGE,
        comment="It is about mutual help.",
        alt_code=codes["Mutual help"],
    )
    s, e = span(t.text, "Everyone helped with everything.")
    coding_services.coding_create(
        actor=coder2, layer=second, code=codes["Mutual help"], start=s, end=e
    )
    assignment_services.layer_submit(actor=coder2, layer=second)
    second.refresh_from_db()
    assert second.status == LayerStatus.SUBMITTED


def test_only_the_second_coder_reviews_and_only_primary_codings(
    primary_done, coder, coder2, codes, reviewer
):
    t, made = primary_done
    for actor in (coder, reviewer):
        with pytest.raises(ValidationError, match="Only the second coder"):
            coding_services.coding_review(
                actor=actor, coding=made["Waiting"], verdict=ReviewVerdict.CONFIRM
            )
    s, e = span(t.text, "Compute, first.")
    own = coding_services.coding_create(
        actor=coder2,
        layer=t.layers.get(role=LayerRole.SECOND),
        code=codes["Waiting"],
        start=s,
        end=e,
    )
    with pytest.raises(ValidationError, match="Only the primary coder's codings"):
        coding_services.coding_review(actor=coder2, coding=own, verdict=ReviewVerdict.CONFIRM)


@pytest.fixture
def reviewed(primary_done, coder2, codes):
    t, made = primary_done
    test_the_second_coder_reviews_every_primary_coding_before_submitting(
        primary_done, coder2, codes
    )
    return t, made


def test_reconciliation_turns_challenges_and_additions_into_disagreements(reviewed, reviewer):
    t, made = reviewed
    r = rec.reconciliation_start(actor=reviewer, transcript=t)
    found = {d.kind: d for d in r.disagreements.all()}
    assert set(found) == {
        DisagreementKind.BOUNDARY,  # the proposed span for "Waiting"
        DisagreementKind.DIFFERENT_CODE,  # "Mutual help" instead of "Small team"
        DisagreementKind.MISSING_IN_A,  # the coding B added
    }
    boundary = found[DisagreementKind.BOUNDARY]
    assert boundary.a_codings[0]["challenge"].startswith("The waiting includes")
    assert boundary.b_codings[0]["snippet"] == "and waited for weeks."
    different = found[DisagreementKind.DIFFERENT_CODE]
    assert different.b_codings[0]["code_name"] == "Mutual help"
    # The confirmed coding is an agreement, in the consensus layer already.
    assert [(c.code.name, c.source) for c in t.consensus_codings.all()] == [
        ("Compute as a gate", ConsensusSource.AGREED)
    ]
    # Resolving a challenge works as in independent mode.
    rec.disagreement_resolve(
        actor=reviewer,
        disagreement=boundary,
        version=boundary.version,
        decision=Decision.B,
        rationale="B's span reads better.",
    )
    assert boundary.consensus_codings.get().snippet == "and waited for weeks."


def test_the_coding_view_lets_the_second_coder_review(
    client_for, study, primary_done, coder2, lead
):
    t, made = primary_done
    c = client_for(coder2)
    coding = made["Small team"]
    html = c.get(reverse("coding_editor", args=[study.slug, coding.public_id]), headers=HX)
    html = html.content.decode()
    assert "Your review:" in html and "not yet reviewed" in html
    html = c.post(
        reverse("coding_review", args=[study.slug, coding.public_id]),
        {"verdict": "challenge", "comment": ""},
        headers=HX,
    ).content.decode()
    assert "a challenge needs a comment" in html
    html = c.post(
        reverse("coding_review", args=[study.slug, coding.public_id]),
        {"verdict": "confirm"},
        headers=HX,
    ).content.decode()
    label = re.search(
        rf'<button type="button" class="mlabel[^"]*" data-coding="{coding.public_id}".*?</button>',
        html,
        re.S,
    )
    assert "✓" in label.group()
    assert coding.review.verdict == ReviewVerdict.CONFIRM
    # A lead reads the coding but has no review form; the primary coder neither.
    for user in (lead,):
        html = (
            client_for(user)
            .get(reverse("coding_editor", args=[study.slug, coding.public_id]), headers=HX)
            .content.decode()
        )
        assert "Your review:" not in html
