"""Reconciliation records only the decisions a reviewer made: a decided disagreement changes
only explicitly and with a new rationale, accepting the one side that coded needs no rationale,
an edited coding keeps to the codes in dispute, decisions wait while a layer is reopened, and
the page ends in a completed state."""

from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from coding.models import (
    CodingMode,
    ConsensusCoding,
    ConsensusSource,
    Decision,
    DisagreementKind,
    LayerRole,
    Reconciliation,
)
from coding.services import assignments as assignment_services
from coding.services import reconciliation as rec
from tests.coding.conftest import codes  # noqa: F401 (fixture)
from tests.coding.test_codings_races import race
from tests.coding.test_reconciliation import (  # noqa: F401 (fixtures)
    HX,
    layers_coded,
    start,
    transcript,
)
from workbench.models import AuditEvent


@pytest.fixture
def r(layers_coded, reviewer):
    return start(reviewer, layers_coded)


def by_kind(r, kind):
    return r.disagreements.get(kind=kind)


def resolve(reviewer, d, decision, rationale="", **kwargs):
    d.refresh_from_db()
    return rec.disagreement_resolve(
        actor=reviewer,
        disagreement=d,
        version=d.version,
        decision=decision,
        rationale=rationale,
        **kwargs,
    )


class TestChangingADecision:
    def test_a_decided_disagreement_changes_only_explicitly_with_a_new_rationale(self, r, reviewer):
        d = by_kind(r, DisagreementKind.DIFFERENT_CODE)
        resolve(reviewer, d, Decision.NEITHER, "Neither fits: it is about language.")
        # What a stray key used to do: decide again, silently reusing the old rationale.
        with pytest.raises(ValidationError, match="already decided .“Neither”"):
            resolve(reviewer, d, Decision.A, "Neither fits: it is about language.")
        with pytest.raises(ValidationError, match="Give a new rationale"):
            resolve(reviewer, d, Decision.A, "", changing=True)
        with pytest.raises(ValidationError, match="Give a new rationale"):
            resolve(reviewer, d, Decision.A, " Neither fits: it is about language. ", changing=True)
        # Even keeping both, which needs no rationale the first time, needs one to change.
        with pytest.raises(ValidationError, match="Give a new rationale"):
            resolve(reviewer, d, Decision.BOTH, changing=True)
        d.refresh_from_db()
        assert (d.decision, d.rationale) == (
            Decision.NEITHER,
            "Neither fits: it is about language.",
        )
        assert not d.consensus_codings.exists()

        resolve(reviewer, d, Decision.A, "At the debrief: it is the team's size.", changing=True)
        d.refresh_from_db()
        assert (d.decision, d.rationale) == (Decision.A, "At the debrief: it is the team's size.")
        assert [c.code.name for c in d.consensus_codings.all()] == ["Small team"]
        change = AuditEvent.objects.filter(object_id=str(d.pk)).order_by("at", "id").last()
        assert change.before == {
            "decision": Decision.NEITHER,
            "rationale": "Neither fits: it is about language.",
        }
        assert change.after["rationale"] == "At the debrief: it is the team's size."


class TestAcceptingTheOnlySideThatCoded:
    """Root cause: every decision but "keep both" was taken to reject a coding, so accepting
    B where A coded nothing (nothing to reject) demanded a rationale and failed."""

    @pytest.mark.parametrize(
        ("kind", "decision", "code"),
        [
            (DisagreementKind.MISSING_IN_A, Decision.B, "Mutual help"),
            (DisagreementKind.MISSING_IN_B, Decision.A, "Small team"),
        ],
    )
    def test_it_needs_no_rationale_in_either_direction(self, r, reviewer, kind, decision, code):
        d = by_kind(r, kind)
        resolve(reviewer, d, decision)
        d.refresh_from_db()
        assert d.decision == decision
        assert [(c.code.name, c.source) for c in d.consensus_codings.all()] == [
            (code, ConsensusSource.A if decision == Decision.A else ConsensusSource.B)
        ]

    def test_rejecting_the_only_coding_still_needs_one(self, r, reviewer):
        d = by_kind(r, DisagreementKind.MISSING_IN_A)
        with pytest.raises(ValidationError, match="Say why"):
            resolve(reviewer, d, Decision.NEITHER)
        d = by_kind(r, DisagreementKind.DIFFERENT_CODE)
        for decision in (Decision.A, Decision.B):
            with pytest.raises(ValidationError, match="Say why"):
                resolve(reviewer, d, decision)
        assert not ConsensusCoding.objects.filter(disagreement__isnull=False).exists()

    def test_through_the_page(self, client_for, study, r, reviewer):
        d = by_kind(r, DisagreementKind.MISSING_IN_A)
        html = (
            client_for(reviewer)
            .post(
                reverse("disagreement_resolve", args=[study.slug, d.pk]),
                {"decision": "b", "version": d.version, "rationale": ""},
                headers=HX,
            )
            .content.decode()
        )
        assert "rejects a coding" not in html and "1 of 4" in html
        d.refresh_from_db()
        assert d.decision == Decision.B


class TestEditedDecision:
    def test_a_code_neither_coder_used_is_refused_unless_added_deliberately(
        self, r, reviewer, codes, layers_coded
    ):
        d = by_kind(r, DisagreementKind.BOUNDARY)  # both said "Waiting"
        s = layers_coded.text.index("waited for weeks")
        span = {"start": s, "end": s + len("waited for weeks")}
        with pytest.raises(ValidationError, match="Neither coder applied “Small team” here"):
            resolve(reviewer, d, Decision.EDIT, "x", code=codes["Small team"], **span)
        assert not d.consensus_codings.exists()
        resolve(reviewer, d, Decision.EDIT, "Only the waiting.", code=codes["Waiting"], **span)
        assert [c.code.name for c in d.consensus_codings.all()] == ["Waiting"]
        resolve(
            reviewer,
            d,
            Decision.EDIT,
            "On reflection this is about teams.",
            code=codes["Small team"],
            code_added=True,
            changing=True,
            **span,
        )
        assert [c.code.name for c in d.consensus_codings.all()] == ["Small team"]
        event = AuditEvent.objects.filter(object_id=str(d.pk)).order_by("at", "id").last()
        assert event.after["code added by the reviewer"] == "Small team"

    def test_a_span_selected_in_an_older_text_is_refused(self, r, reviewer, codes):
        d = by_kind(r, DisagreementKind.BOUNDARY)
        with pytest.raises(ValidationError, match="corrected since"):
            resolve(
                reviewer,
                d,
                Decision.EDIT,
                "x",
                code=codes["Waiting"],
                start=d.start,
                end=d.end,
                text_version="0" * 16,
            )

    def test_the_form_prefills_the_codes_in_dispute_not_the_codebook_s_first(
        self, client_for, study, r, reviewer, codes
    ):
        d = by_kind(r, DisagreementKind.DIFFERENT_CODE)
        html = (
            client_for(reviewer)
            .get(reverse("reconcile", args=[study.slug, r.transcript_id]) + f"?d={d.number}")
            .content.decode()
        )
        small, mutual = codes["Small team"].public_id, codes["Mutual help"].public_id
        assert f'name="code" value="{small}" checked' in html  # A's code first
        assert f'name="code" value="{mutual}">' in html  # B's, not checked
        assert 'name="code" value="other">' in html  # another code only if chosen
        first = min(codes.values(), key=lambda c: (c.position, c.pk))
        assert first.public_id not in (small, mutual)
        assert f'<option value="{first.public_id}" selected' not in html
        # The span under discussion is prefilled; offsets are typed only as a fallback.
        assert f'name="start" value="{d.start}"' in html and f'name="end" value="{d.end}"' in html

    def test_another_code_through_the_page_is_an_explicit_addition(
        self, client_for, study, r, reviewer, codes
    ):
        d = by_kind(r, DisagreementKind.BOUNDARY)
        url = reverse("disagreement_resolve", args=[study.slug, d.pk])
        post = {
            "decision": "edit",
            "version": d.version,
            "rationale": "About the team.",
            "start": d.start,
            "end": d.end,
        }
        c = client_for(reviewer)
        other = codes["Small team"].public_id
        html = c.post(url, post | {"code": other}, headers=HX).content.decode()
        assert "Neither coder applied" in html
        assert not d.consensus_codings.exists()
        c.post(url, post | {"code": "other", "other_code": other}, headers=HX)
        assert [x.code.name for x in d.consensus_codings.all()] == ["Small team"]


class TestChangeThroughThePage:
    def test_a_decided_disagreement_shows_its_decision_and_a_change_step(
        self, client_for, study, r, reviewer
    ):
        d = by_kind(r, DisagreementKind.DIFFERENT_CODE)
        resolve(reviewer, d, Decision.NEITHER, "Neither fits.")
        c = client_for(reviewer)
        page = reverse("reconcile", args=[study.slug, r.transcript_id]) + f"?d={d.number}"
        html = c.get(page).content.decode()
        assert "Change decision" in html and 'class="resolve-form' not in html
        assert 'data-shortcuts="off"' in html
        html = c.get(page + "&change=1").content.decode()
        assert 'class="resolve-form' in html and 'name="change" value="1"' in html
        assert "Neither fits.</textarea>" not in html  # the old rationale is not carried over
        assert 'value="neither" checked' not in html  # nor the old decision
        url = reverse("disagreement_resolve", args=[study.slug, d.pk])
        d.refresh_from_db()
        # A post without the change step (a stale form, a stray key) changes nothing.
        html = c.post(
            url, {"decision": "a", "version": d.version, "rationale": "x"}, headers=HX
        ).content.decode()
        assert "already decided" in html
        html = c.post(
            url,
            {"decision": "a", "version": d.version, "rationale": "Neither fits.", "change": "1"},
            headers=HX,
        ).content.decode()
        assert "Give a new rationale" in html
        d.refresh_from_db()
        assert d.decision == Decision.NEITHER


class TestReopenedLayer:
    def test_decisions_pause_until_the_layer_is_submitted_again(
        self, client_for, study, r, reviewer, lead, coder, layers_coded
    ):
        d = by_kind(r, DisagreementKind.MISSING_IN_A)
        resolve(reviewer, by_kind(r, DisagreementKind.MISSING_IN_B), Decision.A)
        primary = layers_coded.layers.get(role=LayerRole.PRIMARY)
        assignment_services.layer_reopen(actor=lead, layer=primary, reason="missed a turn")
        message = "A's layer was reopened; decisions are paused until it is submitted again."
        with pytest.raises(ValidationError, match=message):
            resolve(reviewer, d, Decision.B)
        c = client_for(reviewer)
        page = reverse("reconcile", args=[study.slug, layers_coded.pk])
        html = unescape(c.get(page).content.decode())
        assert message in html and "(paused)" in html
        assert 'class="resolve-form' not in html and "Change decision" not in html
        html = c.post(
            reverse("disagreement_resolve", args=[study.slug, d.pk]),
            {"decision": "b", "version": d.version},
            headers=HX,
        ).content.decode()
        assert message in unescape(html)
        d.refresh_from_db()
        assert not d.decision and not d.consensus_codings.exists()

        assignment_services.layer_submit(actor=coder, layer=primary)
        assert message not in unescape(c.get(page).content.decode())
        resolve(reviewer, d, Decision.B)
        d.refresh_from_db()
        assert d.decision == Decision.B

    def test_both_layers_reopened(self, r, reviewer, lead, layers_coded):
        for layer in layers_coded.layers.all():
            assignment_services.layer_reopen(actor=lead, layer=layer, reason="again")
        with pytest.raises(ValidationError, match="A's and B's layers were reopened"):
            resolve(reviewer, by_kind(r, DisagreementKind.MISSING_IN_A), Decision.B)


class TestCompletedState:
    def test_after_the_last_decision_the_page_shows_what_was_decided_and_what_comes_next(
        self, client_for, study, r, reviewer, lead, coder, coder2, codes, layers_coded
    ):
        from tests.coding.test_reconciliation import TEXT, code_crafted_layers
        from tests.factories import ready_transcript

        waiting = ready_transcript(study, lead, TEXT.replace("I1:", "I2:"), code="I2")
        assignment_services.assignment_set(
            actor=lead,
            transcript=waiting,
            primary=coder,
            second=coder2,
            mode=CodingMode.INDEPENDENT,
        )
        code_crafted_layers(waiting, coder, coder2, codes)
        for user, role in ((coder, LayerRole.PRIMARY), (coder2, LayerRole.SECOND)):
            assignment_services.layer_submit(actor=user, layer=waiting.layers.get(role=role))

        c = client_for(reviewer)
        *first, last = list(r.disagreements.order_by("number"))
        for d in first:
            resolve(reviewer, d, Decision.BOTH)
        html = c.post(
            reverse("disagreement_resolve", args=[study.slug, last.pk]),
            {"decision": "neither", "version": last.version, "rationale": "Not this."},
            headers=HX,
        ).content.decode()
        assert "Reconciliation complete" in html
        assert "Disagreement 1 of" not in html  # no jump back to the first disagreement
        assert "Keep both: <strong>3</strong>" in html and "Neither: <strong>1</strong>" in html
        consensus = ConsensusCoding.objects.filter(transcript=layers_coded).count()
        assert f"holds <strong>{consensus}</strong> codings" in html
        assert reverse("reconcile", args=[study.slug, waiting.pk]) in html
        assert "Next waiting for you: I2" in html
        # A decided disagreement can still be looked at by number.
        again = c.get(
            reverse("reconcile", args=[study.slug, layers_coded.pk]) + "?d=1"
        ).content.decode()
        assert "Disagreement 1 of 4" in again and "Change decision" in again

    def test_nothing_else_waiting(self, client_for, study, r, reviewer):
        for d in r.disagreements.all():
            resolve(reviewer, d, Decision.BOTH)
        html = (
            client_for(reviewer)
            .get(reverse("reconcile", args=[study.slug, r.transcript_id]))
            .content.decode()
        )
        assert "Reconciliation complete" in html
        assert "No other transcript is waiting for your reconciliation." in html
        assert Reconciliation.objects.count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="races need two connections writing at once; SQLite locks the whole file",
)
@pytest.mark.django_db(transaction=True)
class TestRaces:
    """A decision and a lead's reopening of a layer, at once: one waits for the other, so no
    decision lands on a layer that is being reopened (PostgreSQL, two connections)."""

    def test_a_decision_waits_for_a_reopening_and_is_then_refused(
        self, layers_coded, reviewer, lead
    ):
        d = by_kind(start(reviewer, layers_coded), DisagreementKind.MISSING_IN_A)
        primary = layers_coded.layers.get(role=LayerRole.PRIMARY)
        _, decided, waited = race(
            lambda: assignment_services.layer_reopen(actor=lead, layer=primary, reason="again"),
            lambda: resolve(reviewer, d, Decision.B),
        )
        assert waited
        assert isinstance(decided, ValidationError) and "decisions are paused" in str(decided)
        d.refresh_from_db()
        assert not d.decision and not d.consensus_codings.exists()

    def test_a_reopening_waits_for_a_decision_in_progress(self, layers_coded, reviewer, lead):
        d = by_kind(start(reviewer, layers_coded), DisagreementKind.MISSING_IN_A)
        primary = layers_coded.layers.get(role=LayerRole.PRIMARY)
        decided, reopened, waited = race(
            lambda: resolve(reviewer, d, Decision.B),
            lambda: assignment_services.layer_reopen(actor=lead, layer=primary, reason="again"),
        )
        assert waited and not isinstance(decided, ValidationError)
        assert not isinstance(reopened, ValidationError)
        d.refresh_from_db()
        primary.refresh_from_db()
        assert d.decision == Decision.B and primary.status != "submitted"
