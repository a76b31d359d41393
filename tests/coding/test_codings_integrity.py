"""Coding work is never doubled, misplaced or dropped (on any database): one coding per code and
span in a layer, offsets checked against the text they were taken from, a layer handed to
someone else only while it holds no work, and the migration that merges old twins."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from coding.models import (
    Coding,
    CodingMode,
    CodingReview,
    Layer,
    LayerRole,
    LayerStatus,
    ReviewVerdict,
)
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from tests.coding.test_codings import (  # noqa: F401 (fixtures shared with the view tests)
    HX,
    code,
    code2,
    coded,
    layers,
    span,
    transcript,
    url,
)
from tests.factories import UserFactory, give_roles
from transcripts.models import Transcript
from transcripts.services.corrections import transcript_correct
from workbench.models import AuditEvent
from workbench.roles import Role


def apply(coder, layer, code, text, phrase, **extra):
    start, end = span(text, phrase)
    return coding_services.coding_apply(
        actor=coder, layer=layer, code=code, start=start, end=end, **extra
    )


# --- one coding per code and span in a layer ---------------------------------------------------


class TestOncePerSpan:
    def test_applying_again_answers_with_the_coding_already_there(
        self, transcript, layers, coder, code
    ):
        layer = layers[LayerRole.PRIMARY]
        first, made = apply(coder, layer, code, transcript.text, "we waited weeks", memo="mine")
        again, made_again = apply(coder, layer, code, transcript.text, "we waited weeks", memo="x")
        assert (made, made_again) == (True, False)
        assert again.pk == first.pk and again.memo == "mine"
        assert Coding.objects.count() == 1
        assert AuditEvent.objects.filter(verb="coding.create").count() == 1

    def test_other_codes_spans_and_layers_are_other_codings(
        self, transcript, layers, coder, coder2, code, code2
    ):
        primary, second = layers[LayerRole.PRIMARY], layers[LayerRole.SECOND]
        assert apply(coder, primary, code, transcript.text, "we waited weeks")[1]
        assert apply(coder, primary, code2, transcript.text, "we waited weeks")[1]
        assert apply(coder, primary, code, transcript.text, "we waited")[1]
        assert apply(coder2, second, code, transcript.text, "we waited weeks")[1]
        assert Coding.objects.count() == 4

    def test_the_database_refuses_a_twin_written_past_the_service(
        self, transcript, layers, coder, code
    ):
        coding, _ = apply(coder, layers[LayerRole.PRIMARY], code, transcript.text, "we waited")
        with pytest.raises(IntegrityError), transaction.atomic():
            Coding.objects.create(
                layer=coding.layer,
                code=coding.code,
                start=coding.start,
                end=coding.end,
                snippet=coding.snippet,
            )
        assert Coding.objects.count() == 1

    def test_an_edit_onto_a_twin_is_refused_with_a_message(
        self, transcript, layers, coder, code, code2
    ):
        layer = layers[LayerRole.PRIMARY]
        one, _ = apply(coder, layer, code, transcript.text, "we waited weeks")
        other, _ = apply(coder, layer, code2, transcript.text, "we waited weeks")
        with pytest.raises(ValidationError, match="already has a “Compute as a gate” coding"):
            coding_services.coding_update(
                actor=coder, coding=other, version=other.version, code=code
            )
        other.refresh_from_db()
        assert other.code == code2 and Coding.objects.count() == 2

    def test_the_page_applies_twice_without_an_error(
        self, client_for, study, transcript, layers, coder, code
    ):
        c = client_for(coder)
        s, e = span(transcript.text, "we waited weeks")
        for _ in range(2):
            response = c.post(
                url("coding_apply", study, transcript.pk),
                {"start": s, "end": e, "code": code.public_id},
                headers=HX,
            )
            assert response.status_code == 200
            assert "error" not in response.content.decode().split('id="error-slot"')[1][:40]
        assert Coding.objects.count() == 1


class TestCorrectionsKeepCodingsApart:
    def correct(self, lead, transcript, edits):
        t = Transcript.objects.get(pk=transcript.pk)
        return transcript_correct(
            actor=lead, transcript=t, version=t.version, edits=edits, reason="typo"
        )

    def test_codings_moving_onto_each_others_old_spans_move(
        self, transcript, layers, coder, code, lead
    ):
        # Two spans of one length, 3 characters apart, one code ("we waited" and "waited we"):
        # inserting 3 characters before them moves the first onto the second's old span while
        # the second moves on; a database checking row by row sees twins half-way.
        layer, text = layers[LayerRole.PRIMARY], transcript.text
        at = text.index("we waited")
        first = coding_services.coding_create(
            actor=coder, layer=layer, code=code, start=at, end=at + 9
        )
        second = coding_services.coding_create(
            actor=coder, layer=layer, code=code, start=at + 3, end=at + 12
        )
        assert (first.snippet, second.snippet) == ("we waited", "waited we")
        self.correct(lead, transcript, [(at - 1, at - 1, " um")])  # "so um we waited weeks"
        text = Transcript.objects.get(pk=transcript.pk).text
        for coding, old_start in ((first, at), (second, at + 3)):
            old = coding.snippet
            coding.refresh_from_db()
            assert coding.start == old_start + 3
            assert text[coding.start : coding.end] == coding.snippet == old

    def test_a_correction_making_two_codings_twins_is_refused(
        self, transcript, layers, coder, code, lead
    ):
        layer = layers[LayerRole.PRIMARY]
        apply(coder, layer, code, transcript.text, "we waited weeks.")
        apply(coder, layer, code, transcript.text, "we waited weeks")
        before = list(Coding.objects.order_by("pk").values_list("start", "end", "version"))
        dot = transcript.text.index("weeks.") + len("weeks")
        with pytest.raises(ValidationError, match="two codings of the same code in one layer"):
            self.correct(lead, transcript, [(dot, dot + 1, "")])
        assert list(Coding.objects.order_by("pk").values_list("start", "end", "version")) == before
        assert Transcript.objects.get(pk=transcript.pk).text == transcript.text


# --- offsets belong to the text they were taken from -----------------------------------------


class TestTextVersion:
    def test_a_selection_on_an_older_text_is_refused(self, transcript, layers, coder, code, lead):
        seen = coding_services.text_version_of(transcript)
        t = Transcript.objects.get(pk=transcript.pk)
        first = t.utterances.get(index=0)
        transcript_correct(
            actor=lead,
            transcript=t,
            version=t.version,
            edits=[(first.start, first.start, "So, ")],
            reason="missed words",
        )
        layer = layers[LayerRole.PRIMARY]
        with pytest.raises(ValidationError, match="corrected since you opened this page"):
            apply(coder, layer, code, transcript.text, "we waited weeks", text_version=seen)
        assert not Coding.objects.exists()
        now = coding_services.text_version_of(Transcript.objects.get(pk=transcript.pk))
        coding, _ = apply(coder, layer, code, transcript.text, "Compute", text_version=now)
        # A new span for an existing coding is checked the same way.
        with pytest.raises(ValidationError, match="corrected since"):
            coding_services.coding_update(
                actor=coder,
                coding=coding,
                version=coding.version,
                start=0,
                end=4,
                text_version=seen,
            )
        # A memo needs no text version.
        coding_services.coding_update(
            actor=coder, coding=coding, version=coding.version, memo="ok", text_version=seen
        )


# --- handing a layer to someone else -----------------------------------------------------------


@pytest.fixture
def coder3(study):
    user = UserFactory(username="ines")
    give_roles(study, user, Role.CODER)
    return user


class TestHandingOver:
    def assign(self, lead, transcript, primary, second, mode=CodingMode.INDEPENDENT):
        return assignment_services.assignment_set(
            actor=lead, transcript=transcript, primary=primary, second=second, mode=mode
        )

    def test_a_reviewers_verdicts_are_work_that_stays_with_them(
        self, transcript, lead, coder, coder2, coder3, code
    ):
        self.assign(lead, transcript, coder, coder2, CodingMode.REVIEW)
        primary = Layer.objects.get(transcript=transcript, role=LayerRole.PRIMARY)
        coding, _ = apply(coder, primary, code, transcript.text, "we waited weeks")
        assignment_services.layer_submit(actor=coder, layer=primary)
        coding_services.coding_review(
            actor=coder2, coding=coding, verdict=ReviewVerdict.CHALLENGE, comment="Not waiting."
        )
        with pytest.raises(ValidationError, match="kofi has already reviewed 1 of the primary"):
            self.assign(lead, transcript, coder, coder3, CodingMode.REVIEW)
        review = CodingReview.objects.get()
        assert review.comment == "Not waiting." and review.layer.coder == coder2

    def test_a_submitted_layer_stays_with_its_coder(
        self, transcript, layers, lead, coder, coder2, coder3
    ):
        assignment_services.layer_submit(actor=coder2, layer=layers[LayerRole.SECOND])
        with pytest.raises(ValidationError, match="kofi has already submitted"):
            self.assign(lead, transcript, coder, coder3)
        second = Layer.objects.get(transcript=transcript, role=LayerRole.SECOND)
        assert second.coder == coder2 and second.status == LayerStatus.SUBMITTED
        # Reopened (and empty), it can go to someone else.
        assignment_services.layer_reopen(actor=lead, layer=second, reason="wrong person")
        self.assign(lead, transcript, coder, coder3)
        assert Layer.objects.get(transcript=transcript, role=LayerRole.SECOND).coder == coder3

    def test_coders_without_work_can_swap_places(self, transcript, layers, lead, coder, coder2):
        self.assign(lead, transcript, coder2, coder)
        roles = dict(Layer.objects.filter(transcript=transcript).values_list("role", "coder"))
        assert roles == {LayerRole.PRIMARY: coder2.pk, LayerRole.SECOND: coder.pk}


# --- the migration merging old twins ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
class TestMergeMigration:
    BEFORE = [("coding", "0005_coding_review")]
    AFTER = [("coding", "0007_coding_once_per_span")]

    def migrate(self, targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    def test_twins_are_merged_keeping_every_memo_and_verdict(
        self, transcript, layers, coder, coder2, code, code2
    ):
        layer = layers[LayerRole.PRIMARY]
        s, e = span(transcript.text, "we waited weeks")
        single, _ = apply(coder, layer, code2, transcript.text, "we waited weeks", memo="alone")
        try:
            apps = self.migrate(self.BEFORE)
            OldCoding = apps.get_model("coding", "Coding")
            OldReview = apps.get_model("coding", "CodingReview")
            rows = [
                OldCoding.objects.create(
                    layer_id=layer.pk,
                    code_id=code.pk,
                    start=s,
                    end=e,
                    snippet="we waited weeks",
                    memo=memo,
                    exemplar=exemplar,
                )
                for memo, exemplar in [("first thought", False), ("", True), ("second", False)]
            ]
            second = Layer.objects.get(transcript=transcript, role=LayerRole.SECOND)
            OldReview.objects.create(
                coding_id=rows[0].pk, layer_id=second.pk, verdict="confirm", comment="fine"
            )
            OldReview.objects.create(
                coding_id=rows[2].pk, layer_id=second.pk, verdict="challenge", comment="no"
            )
            apps = self.migrate(self.AFTER)
            # The models as of AFTER: later migrations add columns today's models read.
            then_coding = apps.get_model("coding", "Coding")
            then_review = apps.get_model("coding", "CodingReview")
            merged = then_coding.objects.get(code_id=code.pk)
            assert merged.pk == rows[0].pk
            assert merged.memo == "first thought\n\nsecond"
            assert merged.exemplar
            review = then_review.objects.get()
            assert review.coding_id == merged.pk
            assert (review.verdict, review.comment) == ("challenge", "no\n\nfine")
            assert then_coding.objects.get(code_id=code2.pk).memo == "alone"  # no twin: untouched
            event = AuditEvent.objects.get(verb="coding.merge")
            assert event.before == {"codings": [r.pk for r in rows]}
            assert event.after["kept"] == merged.pk
            assert "thought" not in str(event.after)  # ids and span, never text
            # Reversible: back before the constraint, with nothing lost, and forward again.
            apps = self.migrate(self.BEFORE)
            assert apps.get_model("coding", "Coding").objects.filter(code_id=code.pk).count() == 1
        finally:
            self.migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
        assert Coding.objects.get(code=code).memo == "first thought\n\nsecond"
