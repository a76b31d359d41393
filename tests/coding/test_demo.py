"""The demo study's analysis (``manage.py seed_demo``, ``coding.demo``): interviews coded by both
demo coders and reconciled in interview order, so that its saturation curve is a real one.

The demo is seeded once for the module (``module_db``); each test reads it in its own savepoint.
"""

import copy
import datetime
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from coding.models import (
    ChangeKind,
    Code,
    CodeKind,
    CodeOrigin,
    CodeVersion,
    ConsensusCoding,
    DebriefNote,
    Disagreement,
    LayerStatus,
    NoteKind,
    Reconciliation,
)
from coding.saturation import STEPPING, francis_stop, guest_saturation, nothing_new_in_last
from transcripts.selectors.consent import allows
from workbench.models import Study

CONSENSUS = [f"I{n}" for n in range(1, 10)]


@pytest.fixture(scope="module")
def built_demo(module_db, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=StringIO())
        return Study.objects.get(slug="open-llm-collaboration")


@pytest.fixture
def demo(db, built_demo):
    return copy.deepcopy(built_demo)


def interviews(study):
    """The study's transcripts in interview order."""
    return list(study.transcripts.select_related("participant").order_by("interview_date", "pk"))


def first_appearances(study):
    """Per reconciled interview, in interview order: (themes, codes) in its consensus layer; a
    code counts for its theme and for the further themes it is also in."""
    out = []
    for transcript in interviews(study):
        if not Reconciliation.objects.filter(transcript=transcript).exists():
            continue
        codes = {
            c.code
            for c in ConsensusCoding.objects.filter(transcript=transcript).select_related("code")
        }
        themes = {code.parent.name for code in codes if code.parent_id}
        themes |= {t.name for code in codes for t in code.also_in.all()}
        out.append((transcript.participant.code, themes, {code.name for code in codes}))
    return out


def test_nine_interviews_are_reconciled_with_every_disagreement_decided(demo):
    reconciled = [
        t for t in interviews(demo) if Reconciliation.objects.filter(transcript=t).exists()
    ]
    assert [t.participant.code for t in reconciled] == CONSENSUS
    for transcript in reconciled:
        code = transcript.participant.code
        assert allows(transcript, "analyse"), code
        assert 14 <= transcript.utterances.count() <= 30, code  # short interviews
        assert {layer.status for layer in transcript.layers.all()} == {LayerStatus.SUBMITTED}
        disagreements = Disagreement.objects.filter(reconciliation__transcript=transcript)
        assert disagreements.count() >= 3, code  # a few, as real coding has
        assert not disagreements.filter(decision="").exists(), code
        assert not disagreements.filter(rationale="").exists(), code
        assert ConsensusCoding.objects.filter(transcript=transcript).count() >= 7, code
    # Every kind of decision occurs somewhere, an edited coding included.
    decisions = set(
        Disagreement.objects.filter(reconciliation__transcript__study=demo).values_list(
            "decision", flat=True
        )
    )
    assert decisions == {"a", "b", "both", "neither", "edit"}


def test_interviews_are_dated_in_order_from_february_to_june_2026(demo):
    dated = [(t.participant.code, t.interview_date) for t in interviews(demo)]
    assert [code for code, _ in dated] == [f"I{n}" for n in range(1, 11)]
    days = [day for _, day in dated]
    assert days == sorted(set(days))  # distinct and ascending
    assert datetime.date(2026, 2, 1) <= days[0] and days[-1] <= datetime.date(2026, 6, 30)
    # I11 is recruited but has not consented, so there is nothing of theirs to analyse.
    i11 = demo.participants.get(code="I11")
    assert not i11.consent_records.exists() and not i11.transcripts.exists()


def test_the_latest_interview_is_still_being_coded(demo):
    latest = interviews(demo)[-1]
    assert latest.participant.code == "I10"
    assert not Reconciliation.objects.filter(transcript=latest).exists()
    for layer in latest.layers.all():
        assert layer.status == LayerStatus.IN_PROGRESS and layer.codings.exists()


def test_themes_stop_appearing_after_i6_so_the_curve_saturates_at_6_plus_2(demo):
    seen = first_appearances(demo)
    assert [code for code, _, _ in seen] == CONSENSUS
    new_themes, new_codes, themes_so_far, codes_so_far = [], [], set(), set()
    for _, themes, codes in seen:
        new_themes.append(len(themes - themes_so_far))
        new_codes.append(len(codes - codes_so_far))
        themes_so_far |= themes
        codes_so_far |= codes
    # What the saturation page should show per interview (the design: coding/demo/
    # interviews.py): many at first, one new theme in each of I3-I6, then none.
    assert new_themes == [4, 3, 1, 1, 1, 1, 0, 0, 0]
    assert new_codes == [6, 5, 2, 2, 1, 1, 1, 0, 0]
    assert themes_so_far == set(
        Code.objects.filter(study=demo, kind=CodeKind.THEME).values_list("name", flat=True)
    )
    # Guest, Namey & Chen (2020) with the defaults: base 4, run 2, sliding runs.
    by_theme = guest_saturation([themes for _, themes, _ in seen], base=4, run_length=2)
    assert by_theme.denominator == 9
    assert [run.new_count for run in by_theme.runs] == [2, 1, 0, 0]
    assert by_theme.result(5).label.startswith("saturation at n = 6 + 2")
    assert by_theme.result(0).label.startswith("saturation at n = 6 + 2")
    stepping = guest_saturation([t for _, t, _ in seen], base=4, run_length=2, mode=STEPPING)
    assert stepping.result(5).at == 6
    # First-level codes settle one interview later: I7 still brings one (1/15 = 6.7 % > 5 %).
    by_code = guest_saturation([codes for _, _, codes in seen], base=4, run_length=2)
    assert by_code.denominator == 15 and by_code.result(5).at == 7
    # The seed paper's criterion, no new high-level theme in the last three interviews, holds
    # from I9 on (I7-I9); Francis et al. with an initial sample of 6 stop at I9 too.
    quiet = nothing_new_in_last([themes for _, themes, _ in seen], last=3)
    assert quiet[-2:] == [False, True]
    assert francis_stop([themes for _, themes, _ in seen], initial=6, consecutive=3) == 9


def test_inductive_codes_were_found_by_a_coder_while_coding_their_interview(demo):
    inductive = Code.objects.filter(study=demo, origin=CodeOrigin.INDUCTIVE).select_related(
        "first_seen_transcript__participant", "created_by", "parent"
    )
    found = {code.name: code.first_seen_transcript.participant.code for code in inductive}
    assert sorted(found.values()) == ["I1", "I1", "I2", "I3", "I3", "I4", "I5", "I6", "I7"]
    appeared = {}
    for interview, _, codes in first_appearances(demo):
        for name in codes:
            appeared.setdefault(name, interview)
    for code in inductive:
        transcript = code.first_seen_transcript
        assert code.created_by.username in ("coder1", "coder2"), code.name
        assert code.parent is not None and code.parent.kind == CodeKind.THEME, code.name
        assert appeared[code.name] == transcript.participant.code, code.name
        created = code.versions.get(number=1).changed_at
        assert transcript.assignment.assigned_at <= created, code.name
        assert all(created <= layer.submitted_at for layer in transcript.layers.all()), code.name
    # Only "Entry path" waits outside the themes (the theme board's pool).
    unplaced = Code.objects.filter(study=demo, kind=CodeKind.CODE, parent=None)
    assert list(unplaced.values_list("name", flat=True)) == ["Entry path"]


def test_two_definitions_were_sharpened_while_an_interview_was_coded(demo):
    versions = CodeVersion.objects.filter(code__study=demo).select_related("code")
    redefined = [v for v in versions if ChangeKind.REDEFINE in v.changes]
    assert sorted(v.code.name for v in redefined) == ["Barrier to contribution", "Decision making"]
    for version, interview in zip(
        sorted(redefined, key=lambda v: v.changed_at), ["I2", "I5"], strict=True
    ):
        transcript = demo.transcripts.get(participant__code=interview)
        assert transcript.assignment.assigned_at <= version.changed_at
        assert all(version.changed_at <= layer.submitted_at for layer in transcript.layers.all())


def test_a_tentative_synthesis_was_written_between_i6_and_i7(demo):
    note = DebriefNote.objects.get(study=demo, kind=NoteKind.SYNTHESIS)
    assert note.title == "Tentative synthesis after I6"
    i6, i7 = (demo.transcripts.get(participant__code=c).interview_date for c in ("I6", "I7"))
    assert i6 < note.held_on < i7
    assert sorted(note.transcripts.values_list("participant__code", flat=True)) == [
        f"I{n}" for n in range(1, 7)
    ]
    assert "Continue sampling" in note.decisions


def test_the_lead_decided_to_continue_after_i6_and_that_saturation_was_reached_after_i9(demo):
    from coding.models import SaturationDecision

    first, second = SaturationDecision.objects.filter(study=demo).order_by("decided_at", "pk")
    assert (first.verdict, first.interviews) == ("continue", 6)
    assert first.synthesis.title == "Tentative synthesis after I6"
    # The snapshot is what the team saw after I6: one run (5–6) adding 2 of the base's 9 themes.
    assert first.evidence["guest"]["runs"] == [
        {"interviews": [5, 6], "new": 2, "denominator": 9, "fraction": "2/9", "percent": 22.22}
    ]
    assert not any(r["reached"] for r in first.evidence["guest"]["results"])
    assert (second.verdict, second.interviews) == ("reached", 9)
    assert [r["label"] for r in second.evidence["guest"]["results"]] == [
        "saturation at n = 6 + 2 (base 4, run 2, ≤ 5 %)",
        "saturation at n = 6 + 2 (base 4, run 2, ≤ 0 %)",
    ]


def test_redefinitions_made_while_coding_are_counted_on_their_interview(demo):
    from coding.selectors.saturation import SaturationParams, StudyWide, analyse

    rows = analyse(StudyWide(demo), SaturationParams()).interviews
    assert [row.participant for row in rows if "redefined" in row.changes] == ["I2", "I5"]


def _state():
    counts = {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }
    decided = list(Disagreement.objects.order_by("pk").values_list("pk", "decision", "version"))
    codes = list(Code.objects.order_by("pk").values_list("pk", "version", "parent", "definition"))
    return counts, decided, codes


def test_seeding_again_changes_nothing(demo):
    before = _state()
    call_command("seed_demo", stdout=StringIO())
    assert _state() == before
