"""Assignments, layers and codings: the services, their validation and server-side blindness."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from coding.models import Coding, CodingMode, LayerRole, LayerStatus
from coding.selectors.blindness import visible_layers
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services.codebook import code_create, code_retire
from tests.factories import (
    UserFactory,
    give_roles,
    ready_transcript,
)
from transcripts.services import consent as consent_services
from transcripts.services import transcripts as transcript_services
from workbench.access import study_for
from workbench.models import AuditEvent
from workbench.roles import Role

TEXT = (
    "Interviewer: What got in the way?\n\nI1: Compute, first. 我们没有GPU 🤗 so we waited weeks.\n"
)


@pytest.fixture
def transcript(study, lead):
    return ready_transcript(study, lead, TEXT)


@pytest.fixture
def code(study, admin_user):
    return code_create(actor=admin_user, study=study, name="Compute as a gate")


@pytest.fixture
def assigned(transcript, lead, coder, coder2):
    assignment_services.assignment_set(
        actor=lead,
        transcript=transcript,
        primary=coder,
        second=coder2,
        mode=CodingMode.INDEPENDENT,
    )
    return {layer.role: layer for layer in transcript.layers.all()}


def span_of(text, phrase):
    start = text.index(phrase)
    return start, start + len(phrase)


def perms(user, study):
    return study_for(type("R", (), {"user": user})(), study.slug).perms


class TestAssignment:
    def test_two_layers_are_created(self, assigned, coder, coder2):
        assert assigned[LayerRole.PRIMARY].coder == coder
        assert assigned[LayerRole.SECOND].coder == coder2
        assert {layer.status for layer in assigned.values()} == {LayerStatus.NOT_STARTED}
        assert AuditEvent.objects.get(verb="assignment.set").after["mode"] == "independent"

    def test_refuses_non_coders_and_unready_transcripts(
        self, study, lead, coder, coder2, transcript
    ):
        outsider_in_study = UserFactory(username="nobody")
        give_roles(study, outsider_in_study, Role.LEAD)
        with pytest.raises(ValidationError):
            assignment_services.assignment_set(
                actor=lead,
                transcript=transcript,
                primary=coder,
                second=outsider_in_study,
                mode="independent",
            )
        with pytest.raises(ValidationError):
            assignment_services.assignment_set(
                actor=lead, transcript=transcript, primary=coder, second=coder, mode="independent"
            )
        draft = transcript_services.transcript_update(
            actor=lead, transcript=transcript, version=transcript.version, status="draft"
        )
        with pytest.raises(ValidationError, match="ready for coding"):
            assignment_services.assignment_set(
                actor=lead, transcript=draft, primary=coder, second=coder2, mode="independent"
            )
        assert not transcript.layers.exists()

    def test_a_coder_with_work_cannot_be_replaced(
        self, assigned, lead, coder, coder2, code, transcript, reviewer
    ):
        start, end = span_of(transcript.text, "Compute, first.")
        coding_services.coding_create(
            actor=coder, layer=assigned[LayerRole.PRIMARY], code=code, start=start, end=end
        )
        with pytest.raises(ValidationError, match="already coded"):
            assignment_services.assignment_set(
                actor=lead,
                transcript=transcript,
                primary=reviewer,
                second=coder2,
                mode="independent",
            )
        assert Coding.objects.count() == 1
        # Replacing the second coder, who has not started, is fine.
        assignment_services.assignment_set(
            actor=lead, transcript=transcript, primary=coder, second=reviewer, mode="independent"
        )
        assert transcript.layers.get(role=LayerRole.SECOND).coder == reviewer


class TestCodings:
    def test_offsets_are_code_points_and_the_snippet_is_the_selection(
        self, assigned, coder, code, transcript
    ):
        for phrase in ("我们没有GPU", "🤗", "Compute, first."):
            start, end = span_of(transcript.text, phrase)
            coding = coding_services.coding_create(
                actor=coder, layer=assigned[LayerRole.PRIMARY], code=code, start=start, end=end
            )
            assert coding.snippet == phrase
        layer = assigned[LayerRole.PRIMARY]
        layer.refresh_from_db()
        assert layer.status == LayerStatus.IN_PROGRESS
        event = AuditEvent.objects.filter(verb="coding.create").first()
        assert "GPU" not in str(event.after) and "Compute, first" not in str(event.after)

    @pytest.mark.parametrize(
        ("start", "end", "message"),
        [
            (-1, 3, "outside"),
            (5, 10_000, "outside"),
            (8, 8, "at least one"),
            (9, 4, "at least one"),
        ],
    )
    def test_bad_spans_write_nothing(self, assigned, coder, code, start, end, message):
        with pytest.raises(ValidationError, match=message):
            coding_services.coding_create(
                actor=coder, layer=assigned[LayerRole.PRIMARY], code=code, start=start, end=end
            )
        assert not Coding.objects.exists()
        assert not AuditEvent.objects.filter(verb="coding.create").exists()

    def test_whitespace_only_selection_is_refused(self, assigned, coder, code, transcript):
        start = transcript.text.index("\n\n")
        with pytest.raises(ValidationError, match="white space"):
            coding_services.coding_create(
                actor=coder,
                layer=assigned[LayerRole.PRIMARY],
                code=code,
                start=start,
                end=start + 2,
            )

    def test_only_the_layers_coder_writes_in_it(self, assigned, coder2, code):
        with pytest.raises(ValidationError, match="your own layer"):
            coding_services.coding_create(
                actor=coder2, layer=assigned[LayerRole.PRIMARY], code=code, start=0, end=5
            )

    def test_retired_code_and_submitted_layer_are_refused(
        self, assigned, coder, code, admin_user, lead
    ):
        layer = assigned[LayerRole.PRIMARY]
        retired = code_create(actor=admin_user, study=layer.transcript.study, name="Old")
        code_retire(actor=admin_user, code=retired, version=retired.version)
        with pytest.raises(ValidationError, match="retired"):
            coding_services.coding_create(actor=coder, layer=layer, code=retired, start=0, end=5)
        assignment_services.layer_submit(actor=coder, layer=layer)
        with pytest.raises(ValidationError, match="submitted"):
            coding_services.coding_create(actor=coder, layer=layer, code=code, start=0, end=5)
        assignment_services.layer_reopen(actor=lead, layer=layer, reason="missed a passage")
        coding_services.coding_create(actor=coder, layer=layer, code=code, start=0, end=5)
        assert AuditEvent.objects.filter(verb="layer.reopen").exists()

    def test_only_a_lead_reopens(self, assigned, coder):
        layer = assigned[LayerRole.PRIMARY]
        assignment_services.layer_submit(actor=coder, layer=layer)
        with pytest.raises(ValidationError, match="Only a lead"):
            assignment_services.layer_reopen(actor=coder, layer=layer, reason="please")

    def test_withdrawal_stops_coding(self, assigned, coder, code, admin_user, transcript):
        consent_services.consent_withdraw(
            actor=admin_user,
            participant=transcript.participant,
            effective_on=timezone.localdate(),
            reason="x",
        )
        with pytest.raises(ValidationError, match="consent"):
            coding_services.coding_create(
                actor=coder, layer=assigned[LayerRole.PRIMARY], code=code, start=0, end=5
            )

    def test_update_delete_and_undo(self, assigned, coder, code, admin_user, transcript):
        layer = assigned[LayerRole.PRIMARY]
        start, end = span_of(transcript.text, "Compute")
        coding = coding_services.coding_create(
            actor=coder, layer=layer, code=code, start=start, end=end
        )
        coding = coding_services.coding_update(
            actor=coder,
            coding=coding,
            version=1,
            end=end + 7,
            memo="names the first barrier",
            exemplar=True,
        )
        assert coding.snippet == "Compute, first"
        with pytest.raises(ValidationError, match="changed by someone else"):
            coding_services.coding_update(actor=coder, coding=coding, version=1, memo="stale")
        undo = coding_services.coding_delete(actor=coder, coding=coding)
        assert not Coding.objects.exists()
        again = coding_services.coding_create(actor=coder, **undo)
        assert (again.snippet, again.memo, again.exemplar) == (
            "Compute, first",
            "names the first barrier",
            True,
        )

    def test_retiring_a_code_keeps_its_codings(self, assigned, coder, code, admin_user):
        coding_services.coding_create(
            actor=coder, layer=assigned[LayerRole.PRIMARY], code=code, start=0, end=5
        )
        code_retire(actor=admin_user, code=code, version=code.version)
        assert Coding.objects.filter(code=code).count() == 1


class TestBlindness:
    def test_independent_coders_see_only_their_own_layer_until_both_submit(
        self, study, assigned, coder, coder2, lead, reviewer
    ):
        transcript = assigned[LayerRole.PRIMARY].transcript
        primary, second = assigned[LayerRole.PRIMARY], assigned[LayerRole.SECOND]

        def seen(user):
            return {layer.role for layer in visible_layers(user, perms(user, study), transcript)}

        assert seen(coder) == {"primary"} and seen(coder2) == {"second"}
        assert seen(lead) == seen(reviewer) == {"primary", "second"}
        assignment_services.layer_submit(actor=coder, layer=primary)
        assert seen(coder) == {"primary"} and seen(coder2) == {"second"}
        assignment_services.layer_submit(actor=coder2, layer=second)
        assert seen(coder) == seen(coder2) == {"primary", "second"}

    def test_a_reviewer_who_codes_the_transcript_is_blind_too(
        self, study, transcript, lead, coder, reviewer
    ):
        assignment_services.assignment_set(
            actor=lead, transcript=transcript, primary=coder, second=reviewer, mode="independent"
        )
        layers = visible_layers(reviewer, perms(reviewer, study), transcript)
        assert [layer.role for layer in layers] == ["second"]

    def test_codings_review(self, study, transcript, lead, coder, coder2, code):
        assignment_services.assignment_set(
            actor=lead, transcript=transcript, primary=coder, second=coder2, mode="review"
        )
        primary = transcript.layers.get(role="primary")
        second = transcript.layers.get(role="second")
        with pytest.raises(ValidationError, match="review mode"):
            coding_services.coding_create(actor=coder2, layer=second, code=code, start=0, end=5)
        assert [
            layer.role for layer in visible_layers(coder2, perms(coder2, study), transcript)
        ] == ["second"]
        assignment_services.layer_submit(actor=coder, layer=primary)
        assert {
            layer.role for layer in visible_layers(coder2, perms(coder2, study), transcript)
        } == {"primary", "second"}
        coding_services.coding_create(actor=coder2, layer=second, code=code, start=0, end=5)

    def test_unassigned_coders_see_nothing(self, study, assigned):
        other = UserFactory(username="third")
        give_roles(study, other, Role.CODER)
        transcript = assigned[LayerRole.PRIMARY].transcript
        assert visible_layers(other, perms(other, study), transcript) == []


def test_purging_a_transcript_deletes_its_codings_for_good(
    assigned, coder, code, admin_user, transcript
):
    start, end = span_of(transcript.text, "我们没有GPU")
    coding_services.coding_create(
        actor=coder,
        layer=assigned[LayerRole.PRIMARY],
        code=code,
        start=start,
        end=end,
        memo="no hardware",
    )
    consent_services.consent_withdraw(
        actor=admin_user,
        participant=transcript.participant,
        effective_on=timezone.localdate(),
        reason="x",
    )
    transcript_services.transcript_purge(actor=admin_user, transcript=transcript, reason="x")
    assert not Coding.objects.exists()
    assert code.codings.count() == 0
    trail = " ".join(f"{e.before} {e.after}" for e in AuditEvent.objects.all())
    assert "我们没有GPU" not in trail and "no hardware" not in trail


def test_pseudonymising_a_coded_transcript_moves_the_codings_with_their_words(
    assigned, coder, code, transcript, lead
):
    """A missed name found after coding began: codings follow their words, and one whose
    words were replaced is flagged to re-check — never dropped."""
    from transcripts.services import pseudonyms as pseudonym_services

    start, end = span_of(transcript.text, "Compute, first.")
    coding_services.coding_create(
        actor=coder, layer=assigned[LayerRole.PRIMARY], code=code, start=start, end=end
    )
    pseudonym_services.pseudonym_rule_create(
        actor=lead, study=transcript.study, find="Compute", replace_with="[X]"
    )
    transcript.refresh_from_db()
    pseudonym_services.transcript_pseudonymise(
        actor=lead,
        transcript=transcript,
        version=transcript.version,
        expected_sha256=transcript.text_sha256,
    )
    transcript.refresh_from_db()
    coding = Coding.objects.get()
    assert coding.snippet == "[X], first." == transcript.text[coding.start : coding.end]
    assert coding.needs_recheck


def test_the_pseudonym_preview_says_codings_will_move(
    client_for, assigned, coder, code, transcript, lead
):
    from django.urls import reverse

    from transcripts.services import pseudonyms as pseudonym_services

    start, end = span_of(transcript.text, "Compute, first.")
    coding_services.coding_create(
        actor=coder, layer=assigned[LayerRole.PRIMARY], code=code, start=start, end=end
    )
    pseudonym_services.pseudonym_rule_create(
        actor=lead, study=transcript.study, find="Compute", replace_with="[X]"
    )
    url = reverse("pseudonym_preview", args=[transcript.study.slug, transcript.pk])
    html = client_for(lead).get(url).content.decode()
    assert "The 1 coding of this transcript move with their words" in html
