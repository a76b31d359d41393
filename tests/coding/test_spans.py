"""What coding keeps of a transcript's text beside its codings — consensus codings, disagreements
and their snapshots, the alternative spans of reviews — follows a correction and a
pseudonymisation (``transcripts.spans``); the correction pages count only what the user may see."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coding.models import (
    Coding,
    CodingMode,
    CodingReview,
    ConsensusCoding,
    Decision,
    Disagreement,
    LayerRole,
    ReviewVerdict,
)
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services import reconciliation as rec
from coding.services.codebook import code_create
from tests.factories import UserFactory, consented_participant, give_roles, imported_transcript
from transcripts.models import Transcript
from transcripts.services import pseudonyms as pseudonym_services
from transcripts.services import transcripts as transcript_services
from transcripts.services.corrections import transcript_correct
from workbench.models import AuditEvent
from workbench.roles import Role

TEXT = (
    "Interviewer: What got in the way?\n\n"
    "I1: Compute, first. We had no GPUs at all and waited for weeks.\n\n"
    "Interviewer: And the team?\n\n"
    "I1: A small team of four, led by Ama Mensah. Everyone helped.\n"
)
SHIFT = len(", in short,")


def span(text, phrase):
    start = text.index(phrase)
    return start, start + len(phrase)


@pytest.fixture
def coder2(study):
    user = UserFactory(username="kofi")
    give_roles(study, user, Role.CODER)
    return user


@pytest.fixture
def codes(study, admin_user):
    names = ["Compute as a gate", "Small team", "Waiting"]
    return {n: code_create(actor=admin_user, study=study, name=n) for n in names}


@pytest.fixture
def transcript(study, lead):
    participant = consented_participant(study, "I1")
    t = imported_transcript(study, participant, TEXT)
    return transcript_services.transcript_update(
        actor=lead, transcript=t, version=1, status="ready"
    )


@pytest.fixture
def reconciled(transcript, lead, coder, coder2, reviewer, codes):
    """Review mode, reconciled: a confirmed coding (an agreed consensus coding), two challenges
    with an alternative span each (two disagreements, the second settled for A)."""
    assignment_services.assignment_set(
        actor=lead, transcript=transcript, primary=coder, second=coder2, mode=CodingMode.REVIEW
    )
    primary = transcript.layers.get(role=LayerRole.PRIMARY)
    made = {}
    for name, phrase in [
        ("Compute as a gate", "We had no GPUs at all"),
        ("Waiting", "waited for weeks"),
        ("Small team", "A small team of four, led by Ama Mensah"),
    ]:
        start, end = span(transcript.text, phrase)
        made[name] = coding_services.coding_create(
            actor=coder, layer=primary, code=codes[name], start=start, end=end
        )
    assignment_services.layer_submit(actor=coder, layer=primary)
    coding_services.coding_review(
        actor=coder2, coding=made["Compute as a gate"], verdict=ReviewVerdict.CONFIRM
    )
    for name, phrase in [("Waiting", "and waited for weeks."), ("Small team", "led by Ama Mensah")]:
        start, end = span(transcript.text, phrase)
        coding_services.coding_review(
            actor=coder2,
            coding=made[name],
            verdict=ReviewVerdict.CHALLENGE,
            comment="The span is not quite right.",
            alt_start=start,
            alt_end=end,
        )
    assignment_services.layer_submit(
        actor=coder2, layer=transcript.layers.get(role=LayerRole.SECOND)
    )
    reconciliation = rec.reconciliation_start(actor=reviewer, transcript=transcript)
    team = reconciliation.disagreements.get(number=2)
    rec.disagreement_resolve(
        actor=reviewer, disagreement=team, version=team.version, decision=Decision.A, rationale="A"
    )
    return made


def everything(transcript):
    """All that holds spans of the transcript, as stored."""
    transcript = Transcript.objects.get(pk=transcript.pk)
    return {
        "text": (transcript.text, transcript.version),
        "codings": list(
            Coding.objects.filter(layer__transcript=transcript)
            .order_by("pk")
            .values_list("start", "end", "snippet", "needs_recheck", "version")
        ),
        "consensus": list(
            ConsensusCoding.objects.filter(transcript=transcript)
            .order_by("pk")
            .values_list("start", "end", "snippet")
        ),
        "disagreements": list(
            Disagreement.objects.filter(reconciliation__transcript=transcript)
            .order_by("pk")
            .values_list("start", "end", "a_codings", "b_codings", "version")
        ),
        "reviews": list(
            CodingReview.objects.filter(coding__layer__transcript=transcript)
            .order_by("pk")
            .values_list("alt_start", "alt_end", "version")
        ),
    }


def correct(actor, transcript, edits):
    transcript = Transcript.objects.get(pk=transcript.pk)
    return transcript_correct(
        actor=actor, transcript=transcript, version=transcript.version, edits=edits, reason="typo"
    )


def first_turn(transcript):
    utterance = Transcript.objects.get(pk=transcript.pk).utterances.get(index=0)
    return utterance.start, utterance.end, "What, in short, got in the way?"


def snippets_match(text, spans_with_snippets):
    return all(text[start:end] == snippet for start, end, snippet in spans_with_snippets)


class TestACorrectionMovesThemAll:
    def test_an_edit_before_every_span_moves_them(self, reconciled, lead, transcript):
        before = everything(transcript)
        assert before["consensus"] and before["disagreements"] and before["reviews"]
        result = correct(lead, transcript, [first_turn(transcript)])
        after, text = everything(transcript), result.transcript.text

        assert after["consensus"] == [(s + SHIFT, e + SHIFT, t) for s, e, t in before["consensus"]]
        assert snippets_match(text, after["consensus"])
        for (start, end, a, b, version), old in zip(
            after["disagreements"], before["disagreements"], strict=True
        ):
            assert (start, end, version) == (old[0] + SHIFT, old[1] + SHIFT, old[4] + 1)
            for snapshot, was in zip(a + b, old[2] + old[3], strict=True):
                assert (snapshot["start"], snapshot["end"]) == (
                    was["start"] + SHIFT,
                    was["end"] + SHIFT,
                )
                assert (
                    snapshot["snippet"]
                    == was["snippet"]
                    == text[was["start"] + SHIFT : snapshot["end"]]
                )
        assert after["reviews"] == [
            (s + SHIFT, e + SHIFT, v + 1) if s is not None else (s, e, v)
            for s, e, v in before["reviews"]
        ]
        # The message and the audit trail still count the coders' codings only.
        assert result.summary() == "3 codings moved, 0 flagged to re-check."
        event = AuditEvent.objects.get(verb="transcript.correct")
        assert (event.after["codings moved"], event.after["codings flagged"]) == (3, 0)

    def test_an_edit_inside_a_span_changes_its_quoted_words(self, reconciled, lead, transcript):
        start, end = span(transcript.text, "four")
        result = correct(lead, transcript, [(start, end, "five")])
        text = result.transcript.text
        d = Disagreement.objects.get(reconciliation__transcript=transcript, number=2)
        assert [s["snippet"] for s in d.a_codings] == ["A small team of five, led by Ama Mensah"]
        assert [s["snippet"] for s in d.b_codings] == ["led by Ama Mensah"]  # after the edit
        assert d.b_codings[0]["start"] == text.index("led by")
        kept = ConsensusCoding.objects.get(transcript=transcript, disagreement=d)
        assert kept.snippet == text[kept.start : kept.end] == d.a_codings[0]["snippet"]


class TestARefusedCorrectionChangesNothing:
    def test_refused_for_a_coders_coding(self, reconciled, lead, transcript):
        before = everything(transcript)
        start, end = span(transcript.text, "We had no GPUs at all and ")
        with pytest.raises(ValidationError, match=r"1 coding \(Compute as a gate\)"):
            correct(lead, transcript, [(start, end, "")])
        assert everything(transcript) == before

    def test_refused_for_what_coding_keeps_beside_the_codings(self, reconciled, lead, transcript):
        """Deleting the words only a reviewer's alternative covers would leave it, and the
        disagreement's snapshot of it, without text: refused, naming them."""
        before = everything(transcript)
        start, end = span(transcript.text, ", led by Ama Mensah")
        with pytest.raises(ValidationError) as caught:
            correct(lead, transcript, [(start, end, "")])
        assert caught.value.messages == [
            "1 disagreement (number 2) covers only text this correction deletes: "
            "keep at least a word of each.",
            "1 reviewer's alternative span (on Small team) covers only text this correction "
            "deletes: keep at least a word of each.",
        ]
        assert everything(transcript) == before
        assert not AuditEvent.objects.filter(verb="transcript.correct").exists()


def test_pseudonymising_replaces_the_name_in_every_copy_of_the_text(reconciled, lead, transcript):
    pseudonym_services.pseudonym_rule_create(
        actor=lead, study=transcript.study, find="Ama Mensah", replace_with="[P2]"
    )
    transcript.refresh_from_db()
    before = everything(transcript)
    assert "Ama Mensah" in json.dumps(before)
    pseudonym_services.transcript_pseudonymise(
        actor=lead,
        transcript=transcript,
        version=transcript.version,
        expected_sha256=transcript.text_sha256,
    )
    after = everything(transcript)
    assert "Ama" not in json.dumps(after, ensure_ascii=False)
    text = after["text"][0]
    d = Disagreement.objects.get(reconciliation__transcript=transcript, number=2)
    assert [s["snippet"] for s in d.a_codings] == ["A small team of four, led by [P2]"]
    assert [s["snippet"] for s in d.b_codings] == ["led by [P2]"]
    assert snippets_match(text, after["consensus"])
    review = CodingReview.objects.get(coding=reconciled["Small team"])
    assert text[review.alt_start : review.alt_end] == "led by [P2]"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_what_holds_spans_is_locked_before_the_transcript(reconciled, lead, transcript):
    """Layers, then disagreements (their writers lock them before the transcript), then the
    transcript; the rows locked only under the transcript's lock come after it."""
    with CaptureQueriesContext(connection) as queries:
        correct(lead, transcript, [first_turn(transcript)])
    tables = []
    for query in queries.captured_queries:
        sql = query["sql"]
        if "FOR UPDATE" in sql:
            table = sql.split(" FROM ", 1)[1].split()[0].strip('"')
            if table not in tables:
                tables.append(table)
    assert tables[:3] == ["coding_layer", "coding_disagreement", "transcripts_transcript"]
    assert {"coding_coding", "coding_consensuscoding", "coding_codingreview"} <= set(tables[3:])


# --- the counts on the correction and pseudonymise pages ----------------------------------------


@pytest.fixture
def blind(transcript, lead, coder2, codes):
    """The lead is also the primary coder, coding blind: one coding of theirs, two of kofi's."""
    give_roles(transcript.study, lead, Role.LEAD, Role.CODER)
    assignment_services.assignment_set(
        actor=lead, transcript=transcript, primary=lead, second=coder2, mode=CodingMode.INDEPENDENT
    )
    layers = {layer.role: layer for layer in transcript.layers.all()}
    for role, actor, name, phrase in [
        (LayerRole.PRIMARY, lead, "Waiting", "waited for weeks"),
        (LayerRole.SECOND, coder2, "Waiting", "We had no GPUs at all"),
        (LayerRole.SECOND, coder2, "Small team", "A small team of four"),
    ]:
        start, end = span(transcript.text, phrase)
        coding_services.coding_create(
            actor=actor, layer=layers[role], code=codes[name], start=start, end=end
        )
    pseudonym_services.pseudonym_rule_create(
        actor=lead, study=transcript.study, find="Ama Mensah", replace_with="[P2]"
    )
    return layers


def pages(client, transcript):
    kwargs = {"study_slug": transcript.study.slug, "pk": transcript.pk}
    correct_page = client.get(reverse("transcript_correct", kwargs=kwargs)).content.decode()
    preview = client.get(reverse("pseudonym_preview", kwargs=kwargs)).content.decode()
    return correct_page, preview


class TestCountsFollowBlindness:
    def test_a_lead_coding_blind_counts_only_their_own_layer(
        self, client_for, blind, lead, transcript
    ):
        correct_page, preview = pages(client_for(lead), transcript)
        assert "1 coding in the layers you may see" in correct_page
        assert "3 codings" not in correct_page and "2 codings" not in correct_page
        assert "The 1 coding of this transcript" in preview

    def test_a_lead_not_coding_it_counts_every_layer(self, client_for, blind, transcript):
        other_lead = UserFactory(username="lina")
        give_roles(transcript.study, other_lead, Role.LEAD)
        correct_page, preview = pages(client_for(other_lead), transcript)
        assert "3 codings in all layers" in correct_page
        assert "The 3 codings of this transcript" in preview

    def test_an_admin_who_oversees_no_coding_counts_none(
        self, client_for, blind, admin_user, transcript
    ):
        """Admins prepare transcripts but see no layer (``visible_layers``): nor their counts."""
        correct_page, preview = pages(client_for(admin_user), transcript)
        assert "0 codings in the layers you may see" in correct_page
        assert "The 0 coding" not in preview and "3 codings" not in preview

    def test_once_both_layers_are_submitted_the_lead_counts_both(
        self, client_for, blind, lead, coder2, transcript
    ):
        assignment_services.layer_submit(actor=lead, layer=blind[LayerRole.PRIMARY])
        assignment_services.layer_submit(actor=coder2, layer=blind[LayerRole.SECOND])
        correct_page, preview = pages(client_for(lead), transcript)
        assert "3 codings in all layers" in correct_page
        assert "The 3 codings of this transcript" in preview
