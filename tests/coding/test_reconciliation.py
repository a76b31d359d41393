"""Reconciliation: disagreements found on crafted layers, settled into the consensus layer,
with rationales, history, reopening, and who may do what."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coding.models import (
    CodingMode,
    ConsensusCoding,
    ConsensusSource,
    Decision,
    DisagreementKind,
    LayerRole,
    Reconciliation,
    Tolerance,
)
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services import reconciliation as rec
from coding.services.codebook import code_create
from tests.factories import (
    give_roles,
    ready_transcript,
)
from workbench.models import AuditEvent
from workbench.roles import Role

TEXT = (
    "Interviewer: What got in the way?\n\n"
    "I1: Compute, first. We had no GPUs at all and waited for weeks.\n\n"
    "Interviewer: And the team?\n\n"
    "I1: Small but stubborn. Everyone helped with everything. ทีมของเราเล็กมาก 🤗\n"
)
HX = {"HX-Request": "true"}


@pytest.fixture
def transcript(study, lead, coder, coder2):
    t = ready_transcript(study, lead, TEXT)
    assignment_services.assignment_set(
        actor=lead, transcript=t, primary=coder, second=coder2, mode=CodingMode.INDEPENDENT
    )
    return t


def code(transcript, user, role, code, phrase, trim=0, after=0):
    layer = transcript.layers.get(role=role)
    start = transcript.text.index(phrase, after)
    return coding_services.coding_create(
        actor=user, layer=layer, code=code, start=start, end=start + len(phrase) - trim
    )


def code_crafted_layers(transcript, coder, coder2, codes, after=0):
    """One agreement within tolerance, one shift beyond it, one coding only A made, one only
    B made, and different codes on the same words: in the copy of TEXT from ``after`` on."""
    A, B = LayerRole.PRIMARY, LayerRole.SECOND
    at = {"after": after}
    code(transcript, coder, A, codes["Compute as a gate"], "We had no GPUs at all", **at)
    code(transcript, coder2, B, codes["Compute as a gate"], "We had no GPUs at all", 3, **at)
    code(transcript, coder, A, codes["Waiting"], "waited for weeks.", **at)
    code(transcript, coder2, B, codes["Waiting"], "and waited for weeks.", **at)
    code(transcript, coder, A, codes["Small team"], "Small but stubborn.", **at)
    code(transcript, coder2, B, codes["Mutual help"], "Everyone helped with everything.", **at)
    code(transcript, coder, A, codes["Small team"], "ทีมของเราเล็กมาก", **at)
    code(transcript, coder2, B, codes["Mutual help"], "ทีมของเราเล็กมาก", **at)


@pytest.fixture
def layers_coded(transcript, coder, coder2, codes):
    """Crafted layers (see ``code_crafted_layers``), both submitted."""
    code_crafted_layers(transcript, coder, coder2, codes)
    for user, role in ((coder, LayerRole.PRIMARY), (coder2, LayerRole.SECOND)):
        assignment_services.layer_submit(actor=user, layer=transcript.layers.get(role=role))
    return transcript


def start(reviewer, transcript, tolerance=Tolerance.CHARACTERS, chars=3):
    return rec.reconciliation_start(
        actor=reviewer, transcript=transcript, tolerance=tolerance, tolerance_chars=chars
    )


class TestDetection:
    def test_each_kind_of_disagreement_is_found_and_agreements_go_to_consensus(
        self, layers_coded, reviewer
    ):
        r = start(reviewer, layers_coded)
        found = {
            (d.kind, tuple(c["code_name"] for c in d.a_codings + d.b_codings))
            for d in r.disagreements.all()
        }
        assert found == {
            (DisagreementKind.BOUNDARY, ("Waiting", "Waiting")),  # 4 characters apart > 3
            (DisagreementKind.MISSING_IN_B, ("Small team",)),
            (DisagreementKind.MISSING_IN_A, ("Mutual help",)),
            (DisagreementKind.DIFFERENT_CODE, ("Small team", "Mutual help")),
        }
        consensus = list(ConsensusCoding.objects.all())
        assert [(c.code.name, c.source) for c in consensus] == [
            ("Compute as a gate", ConsensusSource.AGREED)
        ]
        assert consensus[0].snippet == "We had no GPUs at all"  # A's span
        # Numbered in reading order.
        starts = [d.start for d in r.disagreements.order_by("number")]
        assert starts == sorted(starts)

    def test_a_wider_tolerance_turns_the_boundary_shift_into_agreement(
        self, layers_coded, reviewer
    ):
        r = start(reviewer, layers_coded, chars=10)
        assert DisagreementKind.BOUNDARY not in {d.kind for d in r.disagreements.all()}
        assert ConsensusCoding.objects.filter(code__name="Waiting").exists()

    def test_same_turn_tolerance(self, layers_coded, reviewer):
        r = start(reviewer, layers_coded, tolerance=Tolerance.UTTERANCE)
        assert DisagreementKind.BOUNDARY not in {d.kind for d in r.disagreements.all()}

    def test_it_waits_for_both_layers_and_starts_once(
        self, transcript, coder, coder2, codes, reviewer
    ):
        assignment_services.layer_submit(
            actor=coder, layer=transcript.layers.get(role=LayerRole.PRIMARY)
        )
        with pytest.raises(ValidationError, match="Both layers must be submitted"):
            start(reviewer, transcript)
        assignment_services.layer_submit(
            actor=coder2, layer=transcript.layers.get(role=LayerRole.SECOND)
        )
        start(reviewer, transcript)
        with pytest.raises(ValidationError, match="already started"):
            start(reviewer, transcript)
        assert Reconciliation.objects.count() == 1

    def test_coders_cannot_settle_their_own_transcript(self, layers_coded, coder, study):
        give_roles(study, coder, Role.REVIEWER)  # a reviewer too, but coded this one
        with pytest.raises(ValidationError, match="did not code this transcript"):
            start(coder, layers_coded)
        assert not Reconciliation.objects.exists()


class TestResolution:
    @pytest.fixture
    def r(self, layers_coded, reviewer):
        return start(reviewer, layers_coded)

    def by_kind(self, r, kind):
        return r.disagreements.get(kind=kind)

    def test_accept_a_needs_a_rationale_and_writes_a_s_codings(self, r, reviewer):
        d = self.by_kind(r, DisagreementKind.DIFFERENT_CODE)
        with pytest.raises(ValidationError, match="Say why"):
            rec.disagreement_resolve(
                actor=reviewer, disagreement=d, version=d.version, decision=Decision.A
            )
        assert not d.consensus_codings.exists()
        rec.disagreement_resolve(
            actor=reviewer,
            disagreement=d,
            version=d.version,
            decision=Decision.A,
            rationale="It is about the team's size.",
        )
        d.refresh_from_db()
        kept = list(d.consensus_codings.all())
        assert [(c.code.name, c.snippet, c.source) for c in kept] == [
            ("Small team", "ทีมของเราเล็กมาก", ConsensusSource.A)
        ]
        assert (d.decision, d.resolved_by) == (Decision.A, reviewer)

    def test_both_needs_no_rationale_and_changing_the_decision_replaces_the_codings(
        self, r, reviewer
    ):
        d = self.by_kind(r, DisagreementKind.DIFFERENT_CODE)
        d = rec.disagreement_resolve(
            actor=reviewer, disagreement=d, version=d.version, decision=Decision.BOTH
        )
        assert sorted(c.code.name for c in d.consensus_codings.all()) == [
            "Mutual help",
            "Small team",
        ]
        d = rec.disagreement_resolve(
            actor=reviewer,
            disagreement=d,
            version=d.version,
            decision=Decision.NEITHER,
            rationale="Neither fits: it is about language.",
            changing=True,
        )
        assert not d.consensus_codings.exists()

    def test_edit_writes_the_reviewer_s_coding(self, r, reviewer, codes, layers_coded):
        d = self.by_kind(r, DisagreementKind.BOUNDARY)
        s = layers_coded.text.index("waited for weeks")
        rec.disagreement_resolve(
            actor=reviewer,
            disagreement=d,
            version=d.version,
            decision=Decision.EDIT,
            rationale="Only the waiting itself.",
            code=codes["Waiting"],
            start=s,
            end=s + len("waited for weeks"),
        )
        c = d.consensus_codings.get()
        assert (c.snippet, c.source) == ("waited for weeks", ConsensusSource.EDITED)

    def test_bad_edits_and_stale_decisions_change_nothing(self, r, reviewer, codes):
        d = self.by_kind(r, DisagreementKind.BOUNDARY)
        with pytest.raises(ValidationError, match="outside the transcript"):
            rec.disagreement_resolve(
                actor=reviewer,
                disagreement=d,
                version=d.version,
                decision=Decision.EDIT,
                rationale="x",
                code=codes["Waiting"],
                start=0,
                end=10**6,
            )
        with pytest.raises(ValidationError, match="changed by someone else"):
            rec.disagreement_resolve(
                actor=reviewer, disagreement=d, version=d.version - 1, decision=Decision.BOTH
            )
        d.refresh_from_db()
        assert not d.decision and not d.consensus_codings.exists()

    def test_accepting_a_side_that_said_nothing_is_refused(self, r, reviewer):
        d = self.by_kind(r, DisagreementKind.MISSING_IN_A)
        with pytest.raises(ValidationError, match="A applied no code here"):
            rec.disagreement_resolve(
                actor=reviewer,
                disagreement=d,
                version=d.version,
                decision=Decision.A,
                rationale="x",
            )

    def test_a_lead_reopens_with_a_reason_and_the_history_stays(self, r, reviewer, lead):
        d = self.by_kind(r, DisagreementKind.MISSING_IN_B)
        d = rec.disagreement_resolve(
            actor=reviewer,
            disagreement=d,
            version=d.version,
            decision=Decision.A,
            rationale="Clearly about the team.",
        )
        with pytest.raises(ValidationError, match="Only a lead"):
            rec.disagreement_reopen(actor=reviewer, disagreement=d, reason="no")
        with pytest.raises(ValidationError, match="Say why"):
            rec.disagreement_reopen(actor=lead, disagreement=d, reason=" ")
        d = rec.disagreement_reopen(actor=lead, disagreement=d, reason="Debrief of 12 March")
        assert not d.decision and not d.consensus_codings.exists()
        events = AuditEvent.objects.filter(object_type="disagreement", object_id=str(d.pk))
        assert [e.verb for e in events.order_by("at", "id")] == [
            "disagreement.resolve",
            "disagreement.reopen",
        ]
        resolve = events.get(verb="disagreement.resolve")
        assert resolve.after["A said"] == ["Small team"] and resolve.after["B said"] == []
        assert resolve.after["rationale"] == "Clearly about the team."
        # No transcript text in the trail (it can never be purged; transcripts can).
        assert "stubborn" not in str(resolve.after)


def page(client, study, transcript, query=""):
    return client.get(reverse("reconcile", args=[study.slug, transcript.pk]) + query)


def second_disagreement_html(client, study, transcript):
    return page(client, study, transcript, "?d=2").content.decode()


class TestViews:
    def test_the_reviewer_starts_and_resolves_through_htmx(
        self, client_for, study, layers_coded, reviewer
    ):
        c = client_for(reviewer)
        html = page(c, study, layers_coded).content.decode()
        assert "Compare the layers" in html
        html = c.post(
            reverse("reconcile_start", args=[study.slug, layers_coded.pk]),
            {"tolerance": "characters", "tolerance_chars": "3"},
            headers=HX,
        ).content.decode()
        assert "0 of 4" in html and "Disagreement 1 of 4" in html
        d = Reconciliation.objects.get().disagreements.get(number=1)
        html = c.post(
            reverse("disagreement_resolve", args=[study.slug, d.pk]),
            {"decision": "a", "version": d.version, "rationale": ""},
            headers=HX,
        ).content.decode()
        assert "Say why" in html and "Disagreement 1 of 4" in html  # stays, with the message
        html = c.post(
            reverse("disagreement_resolve", args=[study.slug, d.pk]),
            {"decision": "both", "version": d.version},
            headers=HX,
        ).content.decode()
        assert "1 of 4" in html and "Disagreement 2 of 4" in html  # on to the next open one

    def test_who_sees_and_who_settles(
        self, client_for, study, layers_coded, reviewer, lead, coder, admin_user, outsider
    ):
        start(reviewer, layers_coded)
        d = Reconciliation.objects.get().disagreements.first()
        resolve = reverse("disagreement_resolve", args=[study.slug, d.pk])
        # The two coders may read the result (both layers are submitted) but not settle it.
        html = page(client_for(coder), study, layers_coded).content.decode()
        assert "Disagreement 1 of" in html and "Save decision" not in html
        assert client_for(coder).post(resolve, {"decision": "both"}).status_code == 403
        assert page(client_for(lead), study, layers_coded).status_code == 200
        assert page(client_for(admin_user), study, layers_coded).status_code == 403
        assert page(client_for(outsider), study, layers_coded).status_code == 404
        assert client_for(outsider).post(resolve, {"decision": "both"}).status_code == 404

    def test_a_reopened_layer_hides_the_reconciliation_from_its_coders(
        self, client_for, study, layers_coded, reviewer, lead, coder, coder2
    ):
        start(reviewer, layers_coded)
        d = Reconciliation.objects.get().disagreements.first()
        assignment_services.layer_reopen(
            actor=lead, layer=layers_coded.layers.get(role=LayerRole.SECOND), reason="missed a turn"
        )
        html = page(client_for(coder), study, layers_coded).content.decode()
        assert "Mutual help" not in html and "Disagreement" not in html
        response = client_for(coder2).post(
            reverse("disagreement_resolve", args=[study.slug, d.pk]), {"decision": "both"}
        )
        assert response.status_code == 404

    def test_the_page_has_a_fixed_number_of_queries(
        self,
        client_for,
        study,
        lead,
        coder,
        coder2,
        reviewer,
        codes,
        layers_coded,
        django_assert_max_num_queries,
        django_assert_num_queries,
    ):
        def settle_everything(transcript):
            r = start(reviewer, transcript)
            for d in r.disagreements.all():
                rec.disagreement_resolve(
                    actor=reviewer,
                    disagreement=d,
                    version=d.version,
                    decision=Decision.NEITHER,
                    rationale="x",
                )
            return r

        settle_everything(layers_coded)
        c = client_for(reviewer)
        # session, user, study, permissions, transcript, layers (seat), consent, reconciliation,
        # layers (who may settle), disagreements, consensus, codes, history.
        with (
            django_assert_max_num_queries(13),
            CaptureQueriesContext(connection) as small,
        ):
            assert page(c, study, layers_coded, "?d=2").status_code == 200
        queries = len(small.captured_queries)  # before the next request clears the log
        assert "Disagreement 2 of 4" in second_disagreement_html(c, study, layers_coded)

        # Five times the text: five times the disagreements and agreed consensus codings,
        # more codes in the codebook, and disagreement 2 settled, reopened and settled again.
        larger = ready_transcript(study, lead, TEXT.replace("I1:", "I2:") * 5, code="I2")
        assignment_services.assignment_set(
            actor=lead, transcript=larger, primary=coder, second=coder2, mode=CodingMode.INDEPENDENT
        )
        for copy in re.finditer(re.escape("What got in the way?"), larger.text):
            code_crafted_layers(larger, coder, coder2, codes, after=copy.start())
        for user, role in ((coder, LayerRole.PRIMARY), (coder2, LayerRole.SECOND)):
            assignment_services.layer_submit(actor=user, layer=larger.layers.get(role=role))
        for n in range(3):
            code_create(actor=study.created_by, study=study, name=f"Later code {n}")
        r = settle_everything(larger)
        second = r.disagreements.get(number=2)
        second = rec.disagreement_reopen(actor=lead, disagreement=second, reason="look again")
        rec.disagreement_resolve(
            actor=reviewer,
            disagreement=second,
            version=second.version,
            decision=Decision.BOTH,
            rationale="both hold",
        )
        assert r.disagreements.count() == 5 * 4
        assert ConsensusCoding.objects.filter(transcript=larger).count() > 5
        with django_assert_num_queries(queries):
            assert page(c, study, larger, "?d=2").status_code == 200
        assert "Disagreement 2 of 20" in second_disagreement_html(c, study, larger)
