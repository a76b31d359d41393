"""Saturation over a study's interviews (issue #13): what each interview's consensus layer (or a
coder's submitted layers) adds, in interview order, the codebook changes made while coding
it, the decisions with their evidence, and ``manage.py saturation``.

The published example is Guest, Namey & Chen (2020), PLOS ONE 15(5): e0232076: a base of 4
interviews holding 37 unique themes, then a run of 2 (interviews 5–6) adding 7 new themes,
7/37 = 19 %. Here it is rebuilt as a study (themes are counted through the codes coded in each
consensus layer) so the numbers come out of the whole read path, not only the pure core
(``tests/coding/test_saturation_core.py``).
"""

import csv
import io
import json
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from coding.models import (
    CodingMode,
    ConsensusCoding,
    LayerRole,
    NoteKind,
    Reconciliation,
    SaturationDecision,
)
from coding.selectors.blindness import Viewer
from coding.selectors.saturation import SaturationParams, StudyWide, analyse
from coding.services import assignments as assignment_services
from coding.services import codebook as codebook_services
from coding.services import codings as coding_services
from coding.services import notes as note_services
from coding.services import reconciliation as reconciliation_services
from coding.services.saturation import saturation_decision_record
from tests.factories import create_study, ready_transcript
from transcripts.services import transcripts as transcript_services
from workbench.access import member_perms
from workbench.audit import describe_events
from workbench.models import AuditEvent

TEXT = "Interviewer: Tell me.\nParticipant: {code} talks about compute, logs and review.\n"


def viewer(user, study):
    return Viewer(user, member_perms(user, study), study)


@pytest.fixture
def build(study, lead, admin_user):
    """``build.theme(name)`` makes a theme with one first-level code under it;
    ``build.interview(code, day, codes)`` a consented, reconciled interview whose consensus
    layer holds one coding of each code."""

    class Build:
        themes: dict = {}

        def theme(self, name, *, origin="deductive", category=None):
            theme = codebook_services.code_create(
                actor=admin_user, study=study, name=f"Theme {name}", kind="theme", parent=category
            )
            code = codebook_services.code_create(
                actor=admin_user, study=study, name=f"Code {name}", parent=theme, origin=origin
            )
            self.themes[name] = (theme, code)
            return theme, code

        def interview(self, label, day, codes, *, order=None):
            t = ready_transcript(study, lead, TEXT.format(code=label), code=label)
            t.interview_date = day
            t.interview_order = order
            t.save(update_fields=["interview_date", "interview_order"])
            Reconciliation.objects.create(transcript=t, started_by=lead)
            ConsensusCoding.objects.bulk_create(
                ConsensusCoding(
                    transcript=t,
                    code=code,
                    start=0,
                    end=11,
                    snippet=t.text[:11],
                    source="agreed",
                    created_by=lead,
                )
                for code in codes
            )
            return t

    return Build()


def guest_study(build):
    """Guest et al.'s example as interviews: I1–I4 hold 20 + 10 + 5 + 2 = 37 themes, I5–I6
    add 4 + 3 = 7; then (our continuation) I7 and I8 add one each, I9–I10 nothing. Every
    interview also mentions themes seen before, as real interviews do."""
    new = [20, 10, 5, 2, 4, 3, 1, 1, 0, 0]
    seen = []
    for n, count in enumerate(new, start=1):
        fresh = [build.theme(f"{n}.{i}")[1] for i in range(count)]
        build.interview(f"I{n}", date(2026, 2, n), fresh + seen[:3])
        seen += fresh


class TestPublishedExample:
    def test_base_4_holds_37_themes_and_run_5_6_adds_7_that_is_19_percent(self, build, study):
        guest_study(build)
        report = analyse(StudyWide(study), SaturationParams()).guest
        assert report.denominator == 37
        first = report.runs[0]
        assert (first.first, first.last, first.new_count) == (5, 6, 7)
        assert round(first.percent) == 19

    def test_verdicts_follow_the_runs_and_compare_unrounded(self, build, study):
        guest_study(build)
        analysis = analyse(StudyWide(study), SaturationParams())
        # Runs: 5–6: 7, 6–7: 4, 7–8: 2 (5.41 %: not ≤ 5 %), 8–9: 1 (2.7 %), 9–10: 0.
        assert [r.new_count for r in analysis.guest.runs] == [7, 4, 2, 1, 0]
        five, zero = analysis.guest.results
        assert five.label == "saturation at n = 7 + 2 (base 4, run 2, ≤ 5 %)"
        assert zero.label == "saturation at n = 8 + 2 (base 4, run 2, ≤ 0 %)"
        assert [row.cumulative["themes"] for row in analysis.interviews] == [
            20,
            30,
            35,
            37,
            41,
            44,
            45,
            46,
            46,
            46,
        ]

    def test_first_level_codes_can_be_the_information_instead(self, build, study, admin_user):
        guest_study(build)
        extra = codebook_services.code_create(
            actor=admin_user, study=study, name="Late code", parent=build.themes["1.0"][0]
        )
        build.interview("I11", date(2026, 2, 11), [extra])
        themes = analyse(StudyWide(study), SaturationParams())
        codes = analyse(StudyWide(study), SaturationParams(information="codes"))
        both = analyse(StudyWide(study), SaturationParams(information="both"))
        assert themes.interviews[-1].new_information == 0  # its theme was known
        assert codes.interviews[-1].new_information == 1
        assert both.interviews[-1].cumulative["information"] == 46 + 47


class TestWhatAnInterviewAdds:
    def test_new_items_split_deductive_and_inductive_with_themes_and_categories(
        self, build, study, admin_user
    ):
        category = codebook_services.code_create(
            actor=admin_user, study=study, name="Category A", kind="category"
        )
        theme_a, deductive = build.theme("A", category=category)
        theme_b, inductive = build.theme("B", origin="inductive")
        linked = codebook_services.code_create(actor=admin_user, study=study, name="Linked")
        linked.also_in.add(theme_b)
        build.interview("I1", date(2026, 3, 1), [deductive])
        build.interview("I2", date(2026, 3, 2), [deductive, linked])
        build.interview("I3", date(2026, 3, 3), [inductive])
        rows = analyse(StudyWide(study), SaturationParams()).interviews
        assert [n.name for n in rows[0].new_codes] == ["Code A"]
        assert [n.name for n in rows[0].new_themes] == ["Theme A"]
        assert [n.name for n in rows[0].new_categories] == ["Category A"]
        # A code counts toward every theme it is linked to, not only its home.
        assert [n.name for n in rows[1].new_themes] == ["Theme B"]
        assert [n.name for n in rows[1].new_codes] == ["Linked"]
        assert rows[2].codes_split == (0, 1)  # the inductive code is new, its theme is not
        assert rows[2].new_themes == []
        assert [r.cumulative for r in rows][-1] == {
            "codes": 3,
            "themes": 2,
            "categories": 1,
            "information": 2,
        }

    def test_a_merged_code_counts_as_the_code_it_became(self, build, study, admin_user):
        _, kept = build.theme("A")
        gone = codebook_services.code_create(actor=admin_user, study=study, name="Old name")
        build.interview("I1", date(2026, 3, 1), [kept])
        build.interview("I2", date(2026, 3, 2), [gone])
        gone.merged_into = kept
        gone.save(update_fields=["merged_into"])
        rows = analyse(StudyWide(study), SaturationParams(information="codes")).interviews
        assert rows[1].new_codes == []

    def test_interviews_without_a_consensus_layer_are_not_counted_as_empty(
        self, build, study, lead
    ):
        _, code = build.theme("A")
        build.interview("I1", date(2026, 3, 1), [code])
        ready_transcript(study, lead, TEXT.format(code="I2"), code="I2")  # not reconciled
        analysis = analyse(StudyWide(study), SaturationParams())
        assert [row.participant for row in analysis.interviews] == ["I1"]

    def test_open_disagreements_are_shown_per_interview(self, build, study):
        _, code = build.theme("A")
        t = build.interview("I1", date(2026, 3, 1), [code])
        t.reconciliation.disagreements.create(number=1, kind="missing_in_b", start=0, end=5)
        assert analyse(StudyWide(study), SaturationParams()).interviews[0].open_disagreements == 1


class TestInterviewOrder:
    def test_by_date_then_the_leads_order_then_undated_last(self, build, study, lead):
        _, code = build.theme("A")
        build.interview("I3", None, [code])
        build.interview("I2", date(2026, 3, 5), [code], order=2)
        build.interview("I1", date(2026, 3, 5), [code], order=1)
        build.interview("I0", date(2026, 3, 1), [code])
        order = [
            row.participant for row in analyse(StudyWide(study), SaturationParams()).interviews
        ]
        assert order == ["I0", "I1", "I2", "I3"]

    def test_the_lead_reorders_interviews_of_one_day(self, build, study, lead):
        _, code = build.theme("A")
        first = build.interview("I1", date(2026, 3, 5), [code])
        second = build.interview("I2", date(2026, 3, 5), [])
        moved = transcript_services.interview_order_set(
            actor=lead, study=study, order=[str(second.pk), str(first.pk)]
        )
        assert moved == 2
        rows = analyse(StudyWide(study), SaturationParams()).interviews
        assert [row.participant for row in rows] == ["I2", "I1"]
        # The theme first appears in I1, now the second interview: the curve changed, the
        # total did not.
        assert rows[1].new_themes and not rows[0].new_themes
        [event] = describe_events(AuditEvent.objects.filter(verb="transcript.reorder"))
        assert event.description == "set the interview order: interview.txt, interview.txt"

    def test_only_a_lead_reorders_and_a_bad_order_changes_nothing(
        self, build, study, lead, coder, admin_user
    ):
        a = build.interview("I1", date(2026, 3, 5), [])
        b = build.interview("I2", date(2026, 3, 5), [])
        with pytest.raises(ValidationError):
            transcript_services.interview_order_set(
                actor=coder, study=study, order=[str(b.pk), str(a.pk)]
            )
        other = ready_transcript(
            create_study(admin_user, "Other"), admin_user, TEXT.format(code="X"), code="X"
        )
        for order in ([str(b.pk), str(other.pk)], [str(b.pk), str(b.pk)], ["x"]):
            with pytest.raises(ValidationError):
                transcript_services.interview_order_set(actor=lead, study=study, order=order)
        a.refresh_from_db()
        b.refresh_from_db()
        assert (a.interview_order, b.interview_order) == (None, None)


def code_twice_and_reconcile(t, lead, coder, coder2, reviewer, code):
    assignment_services.assignment_set(
        actor=lead, transcript=t, primary=coder, second=coder2, mode=CodingMode.INDEPENDENT
    )
    for user, role in ((coder, LayerRole.PRIMARY), (coder2, LayerRole.SECOND)):
        layer = t.layers.get(role=role)
        coding_services.coding_create(actor=user, layer=layer, code=code, start=0, end=11)
        assignment_services.layer_submit(actor=user, layer=layer)
    reconciliation_services.reconciliation_start(actor=reviewer, transcript=t)


class TestCodebookChangesPerInterview:
    def test_changes_made_while_coding_are_placed_on_that_interview(
        self, study, lead, coder, coder2, reviewer, admin_user
    ):
        theme = codebook_services.code_create(
            actor=admin_user, study=study, name="Theme", kind="theme"
        )
        known = codebook_services.code_create(
            actor=admin_user, study=study, name="Known", parent=theme
        )
        t1 = ready_transcript(study, lead, TEXT.format(code="I1"), code="I1")
        t2 = ready_transcript(study, lead, TEXT.format(code="I2"), code="I2")
        for n, t in enumerate((t1, t2), start=1):
            t.interview_date = date(2026, 4, n)
            t.save(update_fields=["interview_date"])
        assignment_services.assignment_set(
            actor=lead, transcript=t2, primary=coder, second=coder2, mode=CodingMode.INDEPENDENT
        )
        # While coding I2, the coder finds a new code (inline, from the coding page) …
        found = codebook_services.code_create(
            actor=coder,
            study=study,
            name="Found in I2",
            origin="inductive",
            parent=theme,
            first_seen_transcript=t2,
        )
        layer = t2.layers.get(role=LayerRole.PRIMARY)
        coding_services.coding_create(actor=coder, layer=layer, code=known, start=0, end=5)
        # … and, with I2 open in front of them, the admin's redefinition of "Known" goes on
        # I2 only if the admin is the one coding it; here the coder's own edit of the new code
        # is placed on I2 from their open layer.
        found = codebook_services.code_update(
            actor=coder,
            code=found,
            version=found.version,
            name=found.name,
            definition="Sharper now.",
            when_to_use="",
            when_not_to_use="",
            example="",
            colour=found.colour,
            parent=theme,
        ).code
        # A redefinition at a team meeting (nobody coding) is not placed on an interview.
        codebook_services.code_update(
            actor=admin_user,
            code=known,
            version=known.version,
            name="Known",
            definition="Agreed at the team meeting.",
            when_to_use="",
            when_not_to_use="",
            example="",
            colour=known.colour,
            parent=theme,
        )
        coding_services.coding_create(
            actor=coder2, layer=t2.layers.get(role=LayerRole.SECOND), code=known, start=0, end=5
        )
        coding_services.coding_create(actor=coder, layer=layer, code=found, start=6, end=11)
        coding_services.coding_create(
            actor=coder2, layer=t2.layers.get(role=LayerRole.SECOND), code=found, start=6, end=11
        )
        for role, user in ((LayerRole.PRIMARY, coder), (LayerRole.SECOND, coder2)):
            assignment_services.layer_submit(actor=user, layer=t2.layers.get(role=role))
        reconciliation_services.reconciliation_start(actor=reviewer, transcript=t2)
        code_twice_and_reconcile(t1, lead, coder2, coder, reviewer, known)

        analysis = analyse(StudyWide(study), SaturationParams(information="codes"))
        i1, i2 = analysis.interviews
        assert i1.changes == {}
        assert i2.changes == {"created": ["Found in I2"], "redefined": ["Found in I2"]}
        assert analysis.unplaced_changes == 1  # the team meeting's redefinition
        assert i2.codes_split == (0, 1)
        meaning = {row.name: row for row in analysis.meaning}
        assert meaning["Found in I2"].stable_after == 2
        assert meaning["Known"].stable_after is None and meaning["Known"].unplaced_after == 1
        assert analysis.meaning_stable_after == 2


class TestBlindnessAndLayers:
    def test_a_coder_whose_layer_is_reopened_does_not_read_that_consensus(
        self, study, lead, coder, coder2, reviewer, admin_user
    ):
        theme = codebook_services.code_create(
            actor=admin_user, study=study, name="Theme", kind="theme"
        )
        code = codebook_services.code_create(
            actor=admin_user, study=study, name="Code", parent=theme
        )
        t = ready_transcript(study, lead, TEXT.format(code="I1"), code="I1")
        code_twice_and_reconcile(t, lead, coder, coder2, reviewer, code)
        assert len(analyse(viewer(coder, study), SaturationParams()).interviews) == 1
        assignment_services.layer_reopen(
            actor=lead, layer=t.layers.get(role=LayerRole.PRIMARY), reason="Recheck."
        )
        mine = analyse(viewer(coder, study), SaturationParams())
        assert mine.interviews == [] and mine.withheld == 1
        assert len(analyse(viewer(lead, study), SaturationParams()).interviews) == 1

    def test_a_coders_submitted_layers_are_a_layer_of_their_own(
        self, study, lead, coder, coder2, reviewer, admin_user
    ):
        theme = codebook_services.code_create(
            actor=admin_user, study=study, name="Theme", kind="theme"
        )
        code = codebook_services.code_create(
            actor=admin_user, study=study, name="Code", parent=theme
        )
        t = ready_transcript(study, lead, TEXT.format(code="I1"), code="I1")
        code_twice_and_reconcile(t, lead, coder, coder2, reviewer, code)
        open_t = ready_transcript(study, lead, TEXT.format(code="I2"), code="I2")
        assignment_services.assignment_set(
            actor=lead, transcript=open_t, primary=coder, second=coder2, mode="independent"
        )
        params = SaturationParams(layer=coder.username)
        analysis = analyse(viewer(lead, study), params)
        assert [row.participant for row in analysis.interviews] == ["I1"]  # I2 not submitted
        assert analysis.layer_label == f"{coder.username}'s submitted layers"
        # The other coder, blind on I2 only, reads coder's submitted I1 (both submitted there).
        assert len(analyse(viewer(coder2, study), params).interviews) == 1


class TestParameters:
    def test_bad_values_are_reported_and_replaced_by_defaults(self):
        params, errors = SaturationParams.from_data(
            {"base": "0", "run": "x", "thresholds": "5, 120", "mode": "both", "information": "?"}
        )
        assert set(errors) == {"base", "run", "thresholds", "mode", "information"}
        assert params == SaturationParams()

    def test_thresholds_keep_what_the_lead_typed(self):
        params, errors = SaturationParams.from_data({"thresholds": "2.5 %, 0, 2.5"})
        assert errors == {} and params.thresholds == ("2.5", "0")


class TestDecisions:
    def test_a_decision_snapshots_its_evidence_and_later_coding_does_not_rewrite_it(
        self, build, study, lead, admin_user
    ):
        guest_study(build)
        synthesis = note_services.debrief_note_create(
            actor=lead,
            study=study,
            kind=NoteKind.SYNTHESIS,
            title="Tentative synthesis after I10",
            held_on=date(2026, 2, 11),
        )
        decision = saturation_decision_record(
            actor=lead,
            study=study,
            verdict="continue",
            rationale="Themes are settling; we extend with more interviews to be sure.",
            params=SaturationParams(),
            synthesis=synthesis,
        )
        before = json.dumps(decision.evidence, sort_keys=True)
        assert decision.interviews == 10
        assert decision.evidence["guest"]["runs"][0]["fraction"] == "7/37"
        assert decision.evidence["synthesis"]["title"] == "Tentative synthesis after I10"
        build.interview("I11", date(2026, 2, 20), [build.theme("late")[1]])
        decision.refresh_from_db()
        assert json.dumps(decision.evidence, sort_keys=True) == before
        event = AuditEvent.objects.get(verb="saturation.decide")
        assert event.after["verdicts"][0] == "saturation at n = 7 + 2 (base 4, run 2, ≤ 5 %)"
        [described] = describe_events([event])
        assert described.description == (
            "recorded a saturation decision: continue sampling after 10 interviews"
        )

    def test_only_a_lead_decides_with_a_reason_on_evidence(self, build, study, lead, coder):
        def record(**overrides):
            kwargs = {
                "actor": lead,
                "study": study,
                "verdict": "reached",
                "rationale": "Nothing new.",
                "params": SaturationParams(),
            } | overrides
            return saturation_decision_record(**kwargs)

        with pytest.raises(ValidationError):
            record()  # no interview yet: no evidence
        build.interview("I1", date(2026, 3, 1), [build.theme("A")[1]])
        debrief = note_services.debrief_note_create(
            actor=lead, study=study, title="Debriefing", held_on=date(2026, 3, 2)
        )
        for bad in (
            {"actor": coder},
            {"rationale": "  "},
            {"verdict": "maybe"},
            {"synthesis": debrief},
        ):
            with pytest.raises(ValidationError):
                record(**bad)
        assert not SaturationDecision.objects.exists()
        assert record().verdict == "reached"


class TestCommand:
    def test_json_and_csv_print_the_analysis(self, build, study):
        guest_study(build)
        out = io.StringIO()
        call_command("saturation", "--study", study.slug, stdout=out)
        printed = json.loads(out.getvalue())
        evidence = analyse(StudyWide(study), SaturationParams()).evidence()
        assert printed == json.loads(json.dumps(evidence))
        assert printed["guest"]["results"][0]["at"] == 7
        out = io.StringIO()
        call_command("saturation", "--study", study.slug, "--format", "csv", stdout=out)
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert [int(r["cumulative_themes"]) for r in rows][:4] == [20, 30, 35, 37]
        out = io.StringIO()
        call_command(
            "saturation",
            "--study",
            study.slug,
            "--format",
            "csv",
            "--table",
            "runs",
            "--run",
            "3",
            "--mode",
            "stepping",
            stdout=out,
        )
        runs = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert [(r["first"], r["last"], r["new"]) for r in runs] == [
            ("5", "7", "8"),
            ("8", "10", "1"),
        ]
        assert runs[1]["passes_5_percent"] == "yes" and runs[1]["passes_0_percent"] == "no"

    def test_unknown_study_and_bad_parameters_are_refused(self, study):
        with pytest.raises(CommandError, match="No study"):
            call_command("saturation", "--study", "nope")
        with pytest.raises(CommandError, match="--base"):
            call_command("saturation", "--study", study.slug, "--base", "0")


class TestReusedReads:
    def test_a_parameter_change_reuses_the_reads_and_any_write_refreshes_them(
        self, build, study, lead, admin_user, django_assert_max_num_queries
    ):
        guest_study(build)
        first = analyse(viewer(lead, study), SaturationParams(), reuse=True)
        with django_assert_max_num_queries(2):  # the study's events, nothing else
            again = analyse(viewer(lead, study), SaturationParams(run=3), reuse=True)
        assert again.interviews[-1].cumulative == first.interviews[-1].cumulative
        assert again.guest.runs[0].last == 7  # recomputed with the new run length
        # A write anywhere in the study (here: a code renamed) is seen at once.
        _, code = build.themes["1.0"]
        codebook_services.code_update(
            actor=admin_user,
            code=code,
            version=code.version,
            name="Renamed code",
            definition="",
            when_to_use="",
            when_not_to_use="",
            example="",
            colour=code.colour,
            parent=code.parent,
        )
        fresh = analyse(viewer(lead, study), SaturationParams(information="codes"), reuse=True)
        assert "Renamed code" in [n.name for n in fresh.interviews[0].new_codes]

    def test_reads_are_not_shared_between_viewers(
        self, study, lead, coder, coder2, reviewer, admin_user
    ):
        theme = codebook_services.code_create(
            actor=admin_user, study=study, name="Theme", kind="theme"
        )
        code = codebook_services.code_create(
            actor=admin_user, study=study, name="Code", parent=theme
        )
        t = ready_transcript(study, lead, TEXT.format(code="I1"), code="I1")
        code_twice_and_reconcile(t, lead, coder, coder2, reviewer, code)
        assignment_services.layer_reopen(
            actor=lead, layer=t.layers.get(role=LayerRole.PRIMARY), reason="Recheck."
        )
        assert len(analyse(viewer(lead, study), SaturationParams(), reuse=True).interviews) == 1
        assert analyse(viewer(coder, study), SaturationParams(), reuse=True).interviews == []
