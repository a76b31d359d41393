"""Merging and splitting codes: no coded character is lost, blind layers move unseen, every
operation is versioned, audited and undoable while nothing depends on it."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coding.models import (
    AnalyticMemo,
    Code,
    CodeStatus,
    CodeVersion,
    Coding,
    CodingMode,
    ConsensusCoding,
    ConsensusSource,
    DebriefNote,
    LayerRole,
    PinnedCode,
)
from coding.selectors.codebook_evolution import coalesce, merge_draft
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services.codebook import code_create
from coding.services.codebook_evolution import code_split, codebook_operation_undo, codes_merge
from tests.factories import ready_transcript
from workbench.models import AuditEvent

TEXT = (
    "Interviewer: What got in the way?\n\n"
    "I1: Compute, first. 我们没有GPU 🤗 so we waited weeks for the cluster to free up.\n\n"
    "Interviewer: And then?\n\n"
    "I1: ทีมของเราเล็กมาก but we shipped the model anyway, with shared training logs.\n"
)
N = len(TEXT)


@pytest.fixture
def transcript(study, lead):
    return ready_transcript(study, lead, TEXT)


@pytest.fixture
def layers(transcript, lead, coder, coder2):
    assignment_services.assignment_set(
        actor=lead, transcript=transcript, primary=coder, second=coder2,
        mode=CodingMode.INDEPENDENT,
    )  # fmt: skip
    return [transcript.layers.get(role=LayerRole.PRIMARY), transcript.layers.get(role="second")]


@pytest.fixture
def codes(study, admin_user):
    return [
        code_create(actor=admin_user, study=study, name=name, definition=f"About {name}.")
        for name in ("Compute", "Hardware", "Team", "Shipping")
    ]


def make_coding(layer, code, start, end, memo="", exemplar=False):
    return Coding.objects.create(
        layer=layer, code=code, start=start, end=end, snippet=TEXT[start:end], memo=memo,
        exemplar=exemplar,
    )  # fmt: skip


def _consensus(transcript, code, start, end, user):
    return ConsensusCoding.objects.create(
        transcript=transcript, code=code, start=start, end=end, snippet=TEXT[start:end],
        source=ConsensusSource.AGREED, created_by=user,
    )  # fmt: skip


def _chars(rows) -> set[int]:
    return {i for start, end in rows for i in range(start, end)}


def _state(layers, transcript):
    """Everything an operation could change about codings, as plain data."""
    codings = sorted(
        Coding.objects.filter(layer__in=layers).values_list(
            "public_id", "layer_id", "code_id", "start", "end", "memo", "exemplar"
        )
    )
    consensus = sorted(
        ConsensusCoding.objects.filter(transcript=transcript).values_list(
            "pk", "code_id", "start", "end", "memo", "exemplar"
        )
    )
    return codings, consensus


def _covered(layers, transcript, code_ids) -> dict:
    """Characters covered, per layer and in the consensus, by codings of ``code_ids``."""
    out = {}
    for layer in layers:
        rows = Coding.objects.filter(layer=layer, code_id__in=code_ids)
        out[layer.pk] = _chars(rows.values_list("start", "end"))
    rows = ConsensusCoding.objects.filter(transcript=transcript, code_id__in=code_ids)
    out["consensus"] = _chars(rows.values_list("start", "end"))
    return out


def _others(layers, transcript, code_ids):
    codings, consensus = _state(layers, transcript)
    return (
        [row for row in codings if row[2] not in code_ids],
        [row for row in consensus if row[1] not in code_ids],
    )


# --- the coalescing rule --------------------------------------------------------------------


def _row(pk, start, end, memo="", exemplar=False):
    return {"pk": pk, "start": start, "end": end, "memo": memo, "exemplar": exemplar}


def test_overlapping_codings_become_one_with_memos_joined_and_exemplar_kept():
    rows = [_row(1, 0, 10, "first"), _row(2, 5, 15, "second", True), _row(3, 15, 20)]
    [cluster] = coalesce(rows, moved={2})
    assert (cluster.start, cluster.end) == (0, 15)
    assert cluster.memo == "first\n\nsecond"
    assert cluster.exemplar is True
    assert cluster.survivor["pk"] == 1  # the target's own coding keeps its identity
    assert [row["pk"] for row in cluster.removed] == [2]


def test_touching_codings_stay_apart_and_the_targets_own_overlaps_are_left_alone():
    rows = [_row(1, 0, 10), _row(2, 10, 20), _row(3, 30, 40), _row(4, 35, 45)]
    assert coalesce(rows, moved={2}) == []


def test_two_reviewed_codings_that_would_become_one_are_refused():
    with pytest.raises(ValidationError, match="reviewer"):
        coalesce([_row(1, 0, 10), _row(2, 0, 10)], moved={2}, reviewed=frozenset({1, 2}))


def test_the_draft_keeps_both_definitions_and_names_where_each_came_from(codes):
    draft = merge_draft([codes[0]], codes[1])
    assert draft["definition"] == "About Hardware.\n\nFrom “Compute”: About Compute."


# --- properties -------------------------------------------------------------------------------

spans = st.tuples(st.integers(0, N - 2), st.integers(1, 12)).map(
    lambda t: (t[0], min(N, t[0] + t[1]))
)
codings_strategy = st.lists(
    st.tuples(st.integers(0, 1), st.integers(0, 3), spans, st.booleans()), max_size=14
)
consensus_strategy = st.lists(st.tuples(st.integers(0, 3), spans), max_size=6)
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _seed(layers, transcript, codes, coded, consensus, user):
    seen = set()
    for layer_index, code_index, (start, end), exemplar in coded:
        key = (layer_index, code_index, start, end)
        if key not in seen:
            seen.add(key)
            make_coding(
                layers[layer_index], codes[code_index], start, end, f"m{len(seen)}", exemplar
            )
    for code_index, (start, end) in consensus:
        _consensus(transcript, codes[code_index], start, end, user)


@PROPERTY
@given(coded=codings_strategy, consensus=consensus_strategy, into_new=st.booleans())
def test_merging_keeps_every_coded_character_and_undo_restores_everything(
    admin_user, transcript, layers, codes, coded, consensus, into_new
):
    with transaction.atomic():
        _seed(layers, transcript, codes, coded, consensus, admin_user)
        a, b = codes[0], codes[1]
        family = {a.pk, b.pk}
        before, untouched = (
            _covered(layers, transcript, family),
            _others(layers, transcript, family),
        )
        state = _state(layers, transcript)
        op = codes_merge(
            actor=admin_user,
            sources=[a, b] if into_new else [a],
            target=None if into_new else b,
            new_name="Compute and hardware",
        )
        target = op.target
        assert _covered(layers, transcript, {target.pk}) == before
        assert not Coding.objects.filter(code__in=[a, b] if into_new else [a]).exists()
        assert _others(layers, transcript, family | {target.pk}) == untouched
        # Within a layer, overlapping codings of the target are only ever the target's own,
        # left as they were (a merge into a new code leaves none).
        own = {row[0]: row[3:5] for row in state[0] if row[2] == b.pk and not into_new}
        for layer in layers:
            rows = sorted(
                Coding.objects.filter(layer=layer, code=target).values_list(
                    "start", "end", "public_id"
                )
            )
            for i, (start, end, pid) in enumerate(rows):
                for other_start, _, other in rows[i + 1 :]:
                    if other_start < end:
                        assert own.get(pid) == (start, end) and other in own
        codebook_operation_undo(actor=admin_user, operation=op)
        assert _state(layers, transcript) == state
        assert set(Code.objects.filter(pk__in=family).values_list("status", flat=True)) == {
            CodeStatus.ACTIVE
        }
        transaction.set_rollback(True)


@PROPERTY
@given(
    coded=codings_strategy,
    consensus=consensus_strategy,
    pick=st.lists(st.integers(0, 40), max_size=6),
    by_transcript=st.booleans(),
)
def test_splitting_keeps_every_coded_character_and_undo_restores_everything(
    admin_user, transcript, layers, codes, coded, consensus, pick, by_transcript
):
    with transaction.atomic():
        _seed(layers, transcript, codes, coded, consensus, admin_user)
        a = codes[0]
        ids = list(Coding.objects.filter(code=a).values_list("public_id", flat=True))
        chosen = sorted({ids[i % len(ids)] for i in pick}) if ids else []
        has_consensus = ConsensusCoding.objects.filter(code=a).exists()
        if not (chosen or by_transcript and (ids or has_consensus)):
            transaction.set_rollback(True)
            return
        before, untouched = (
            _covered(layers, transcript, {a.pk}),
            _others(layers, transcript, {a.pk}),
        )
        state = _state(layers, transcript)
        op = code_split(
            actor=admin_user, code=a, version=a.version, name="Compute queues",
            codings=[] if by_transcript else chosen,
            transcripts=[transcript.pk] if by_transcript else [],
        )  # fmt: skip
        assert _covered(layers, transcript, {a.pk, op.target.pk}) == before
        assert _others(layers, transcript, {a.pk, op.target.pk}) == untouched
        moved = set(Coding.objects.filter(code=op.target).values_list("public_id", flat=True))
        assert moved == (set(ids) if by_transcript else set(chosen))
        codebook_operation_undo(actor=admin_user, operation=op)
        assert _state(layers, transcript) == state
        transaction.set_rollback(True)


# --- references, versions, audit, blindness, undo refusals ------------------------------------


@pytest.fixture
def theme(study, admin_user):
    return code_create(actor=admin_user, study=study, name="Access to compute", kind="theme")


def test_a_merge_moves_every_reference_and_writes_one_version_per_code_and_one_event(
    study, admin_user, coder, transcript, layers, codes
):
    a, b = codes[0], codes[1]
    child_theme = code_create(actor=admin_user, study=study, name="Queues", kind="theme")
    memo = AnalyticMemo.objects.create(study=study, code=a, title="t", body="b", written_by=coder)
    note = DebriefNote.objects.create(
        study=study, held_on="2026-03-01", title="n", written_by=coder
    )
    note.codes.add(a)
    PinnedCode.objects.create(user=coder, code=a)
    a.also_in.add(child_theme)
    make_coding(layers[1], a, 10, 20)  # the second coder's layer, still coded blind
    versions, events = CodeVersion.objects.count(), AuditEvent.objects.count()
    op = codes_merge(actor=admin_user, sources=[a], target=b, definitions={"definition": "Both."})
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.merged_into) == (CodeStatus.RETIRED, b)
    assert b.definition == "Both."
    assert Coding.objects.get(layer=layers[1]).code == b
    memo.refresh_from_db()
    assert memo.code == b
    assert list(note.codes.all()) == [b]
    assert PinnedCode.objects.get(user=coder).code == b
    assert list(b.also_in.all()) == [child_theme]
    assert CodeVersion.objects.count() == versions + 2  # A and B
    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.latest("pk")
    assert event.verb == "code.merge"
    assert "layer" not in str(event.after)  # no per-layer counts in the trail
    codebook_operation_undo(actor=admin_user, operation=op)
    memo.refresh_from_db()
    assert memo.code == a
    assert list(note.codes.all()) == [a]
    assert PinnedCode.objects.get(user=coder).code == a
    assert Coding.objects.get(layer=layers[1]).code == a


def test_children_of_a_merged_theme_move_under_the_target(study, admin_user, theme):
    other = code_create(actor=admin_user, study=study, name="Hardware access", kind="theme")
    child = code_create(actor=admin_user, study=study, name="GPU queues", parent=theme)
    codes_merge(actor=admin_user, sources=[theme], target=other)
    child.refresh_from_db()
    assert child.parent == other
    assert child.versions.latest("number").change == "move"


def test_merging_codes_of_different_kinds_is_refused_and_changes_nothing(admin_user, codes, theme):
    with pytest.raises(ValidationError, match="codes with codes"):
        codes_merge(actor=admin_user, sources=[codes[0]], target=theme)
    codes[0].refresh_from_db()
    assert codes[0].status == CodeStatus.ACTIVE


def test_a_coder_cannot_merge(coder, codes):
    with pytest.raises(ValidationError, match="Only a codebook admin"):
        codes_merge(actor=coder, sources=[codes[0]], target=codes[1])


def test_undo_is_refused_once_a_moved_coding_changed(admin_user, coder, layers, codes):
    coding = make_coding(layers[0], codes[0], 10, 20)
    op = codes_merge(actor=admin_user, sources=[codes[0]], target=codes[1])
    coding.refresh_from_db()
    coding_services.coding_update(
        actor=coder, coding=coding, version=coding.version, memo="changed my mind"
    )
    with pytest.raises(ValidationError, match="no longer possible"):
        codebook_operation_undo(actor=admin_user, operation=op)
    assert Coding.objects.get(pk=coding.pk).code == codes[1]


def test_undo_is_refused_after_the_text_was_corrected(admin_user, lead, transcript, layers, codes):
    from transcripts.services.corrections import transcript_correct

    make_coding(layers[0], codes[0], 10, 20)
    op = codes_merge(actor=admin_user, sources=[codes[0]], target=codes[1])
    transcript.refresh_from_db()
    at = TEXT.index("weeks")
    transcript_correct(
        actor=lead, transcript=transcript, version=transcript.version,
        edits=[(at, at + 5, "months")], reason="typo",
    )  # fmt: skip
    with pytest.raises(ValidationError, match="corrected"):
        codebook_operation_undo(actor=admin_user, operation=op)


def test_a_blind_coder_sees_no_trace_of_the_other_layer_in_the_trail(
    study, admin_user, coder, coder2, layers, codes, client_for
):
    from workbench.access import member_perms
    from workbench.audit import hidden_from

    make_coding(layers[1], codes[0], 10, 20)  # coder2's layer, coder is blind to it
    codes_merge(actor=admin_user, sources=[codes[0]], target=codes[1])
    visible = AuditEvent.objects.filter(study=study).exclude(
        hidden_from(coder, member_perms(coder, study), study)
    )
    merge = visible.get(verb="code.merge")
    assert merge.layer_id is None and coder2.username not in str(merge.after)
    # The same event as a merge that moved nothing in that layer: no count to compare.
    assert (merge.after["consensus codings moved"], merge.after["children moved"]) == (0, 0)
    assert set(merge.after) == {
        "operation", "sources", "into", "new code", "consensus codings moved", "children moved"
    }  # fmt: skip
