"""Matrices on a small fixed study whose numbers are worked out by hand (see ``world``).

Three consensus-coded interviews: I1 and I3 belong to case Alpha, I2 to case Beta; I4 (Alpha)
withdrew and must count nowhere. Codes A and B live under theme "Th1"; code D under theme
"Th2", which also holds A (``also_in``). Spans are placed by turn (u0 = the interviewer's
question, u1 = the answer):

    I1: A u1[0,10)  B u1[5,20)  B u1[25,30)  D u0[0,8)  A u0[2,6)
    I2: A u1[0,5)   B u1[10,15)
    I3: D u1[0,4)
    I4: A u1[0,10)  B u1[0,10)          (withdrawn)
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coding.models import ConsensusCoding, Layer
from coding.selectors import matrices as matrix
from coding.selectors.blindness import Viewer
from coding.services.assignments import assignment_set, layer_submit
from coding.services.codebook import code_create
from coding.services.codings import coding_create
from coding.services.matrices import matrix_cell_note_save
from tests.factories import consented_participant, imported_transcript
from transcripts.services.cases import case_create
from transcripts.services.consent import consent_withdraw
from transcripts.services.transcripts import transcript_update
from workbench.access import member_perms

ANSWER = "I{n}: " + "Compute was scarce and we waited for months before anyone helped. " * 2


def _interview(study, lead, code, case):
    participant = consented_participant(study, code, case=case)
    text = (
        f"Interviewer: How did you get started with the project?\n\n{ANSWER.format(n=code[1:])}\n"
    )
    transcript = imported_transcript(study, participant, text)
    return transcript_update(
        actor=lead, transcript=transcript, version=transcript.version, status="ready"
    )


def _consensus(transcript, code, turn, start, end, lead):
    u = list(transcript.utterances.order_by("index"))[turn]
    return ConsensusCoding.objects.create(
        transcript=transcript,
        code=code,
        start=u.start + start,
        end=u.start + end,
        snippet=transcript.text[u.start + start : u.start + end],
        source="agreed",
        created_by=lead,
    )


def build_world(study, admin, lead):
    alpha = case_create(actor=lead, study=study, name="Alpha")
    beta = case_create(actor=lead, study=study, name="Beta")
    category = code_create(actor=admin, study=study, name="Cat", kind="category")
    th1 = code_create(actor=admin, study=study, name="Th1", kind="theme", parent=category)
    th2 = code_create(actor=admin, study=study, name="Th2", kind="theme", parent=category)
    a = code_create(actor=admin, study=study, name="A", parent=th1)
    b = code_create(actor=admin, study=study, name="B", parent=th1)
    d = code_create(actor=admin, study=study, name="D", parent=th2)
    a.also_in.add(th2)
    t1 = _interview(study, lead, "I1", alpha)
    t2 = _interview(study, lead, "I2", beta)
    t3 = _interview(study, lead, "I3", alpha)
    t4 = _interview(study, lead, "I4", alpha)
    for transcript, code, turn, start, end in [
        (t1, a, 1, 0, 10),
        (t1, b, 1, 5, 20),
        (t1, b, 1, 25, 30),
        (t1, d, 0, 0, 8),
        (t1, a, 0, 2, 6),
        (t2, a, 1, 0, 5),
        (t2, b, 1, 10, 15),
        (t3, d, 1, 0, 4),
        (t4, a, 1, 0, 10),
        (t4, b, 1, 0, 10),
    ]:
        _consensus(transcript, code, turn, start, end, lead)
    consent_withdraw(
        actor=admin,
        participant=t4.participant,
        effective_on=datetime.date.today(),
        reason="Asked to leave.",
    )
    return {
        "alpha": alpha,
        "beta": beta,
        "A": a,
        "B": b,
        "D": d,
        "Th1": th1,
        "Th2": th2,
        "category": category,
        "transcripts": [t1, t2, t3, t4],
    }


@pytest.fixture
def world(study, admin_user, lead):
    return build_world(study, admin_user, lead)


def viewer(user, study):
    return Viewer(user, member_perms(user, study), study)


def consensus_of(user, study):
    options = matrix.sources(viewer(user, study))
    assert options[0].key == matrix.CONSENSUS
    return options[0]


def _values(found, measure=float):
    names = [c.name for c in found.codes]
    return {
        (a.name, names[j]): measure(cell.value)
        for a, cells in found.rows
        for j, cell in enumerate(cells)
    }


class TestCooccurrence:
    def test_overlap_counts_by_hand(self, study, lead, world):
        found = matrix.cooccurrence(viewer(lead, study), consensus_of(lead, study))
        values = _values(found, int)
        assert [c.name for c in found.codes] == ["A", "B", "D"]
        assert values[("A", "A")] == 3 and values[("B", "B")] == 3 and values[("D", "D")] == 2
        assert values[("A", "B")] == values[("B", "A")] == 1
        assert values[("A", "D")] == 1
        assert values[("B", "D")] == 0
        assert found.codings == 8  # the withdrawn interview's two codings are not counted

    def test_turn_counts_by_hand(self, study, lead, world):
        found = matrix.cooccurrence(
            viewer(lead, study), consensus_of(lead, study), definition=matrix.TURN
        )
        values = _values(found, int)
        assert values[("A", "B")] == 3  # I1: A with both Bs in the answer; I2: A with B
        assert values[("A", "D")] == 1
        assert values[("B", "D")] == 0

    def test_jaccard_by_hand(self, study, lead, world):
        found = matrix.cooccurrence(
            viewer(lead, study), consensus_of(lead, study), measure=matrix.JACCARD
        )
        values = _values(found)
        # Characters: A covers 10 + 4 + 5 = 19, B 15 + 5 + 5 = 25, both 5.
        assert values[("A", "B")] == pytest.approx(5 / 39)
        # A u0[2,6) lies inside D u0[0,8): shared 4 of 19 + 12 - 4.
        assert values[("A", "D")] == pytest.approx(4 / 27)
        assert values[("A", "A")] == 1.0

    def test_heat_follows_the_largest_value(self, study, lead, world):
        found = matrix.cooccurrence(viewer(lead, study), consensus_of(lead, study))
        heat = {
            (a.name, found.codes[j].name): cell.heat
            for a, cells in found.rows
            for j, cell in enumerate(cells)
        }
        assert heat[("A", "B")] == 4 and heat[("B", "D")] == 0
        assert heat[("A", "A")] == 0  # the diagonal is not shaded


class TestCaseMatrix:
    def _cells(self, found):
        names = [c.name if c else "No case" for c in found.cases]
        return {
            (row.code.name, names[i]): (cell.codings, cell.participants)
            for row in found.rows
            for i, cell in enumerate(row.cells)
        }

    def test_codes_by_case_by_hand(self, study, lead, world):
        found = matrix.case_matrix(viewer(lead, study), consensus_of(lead, study))
        cells = self._cells(found)
        assert [c.name for c in found.cases] == ["Alpha", "Beta"]
        assert cells[("A", "Alpha")] == (2, 1)
        assert cells[("A", "Beta")] == (1, 1)
        assert cells[("B", "Alpha")] == (2, 1)
        assert cells[("D", "Alpha")] == (2, 2)
        assert cells[("D", "Beta")] == (0, 0)
        rows = {row.code.name: (row.codings, row.participants) for row in found.rows}
        assert rows == {"A": (3, 2), "B": (3, 2), "D": (2, 2)}

    def test_themes_by_case_count_home_and_extra_members(self, study, lead, world):
        found = matrix.case_matrix(
            viewer(lead, study), consensus_of(lead, study), kind=matrix.THEMES
        )
        cells = self._cells(found)
        assert cells[("Th1", "Alpha")] == (4, 1)
        assert cells[("Th1", "Beta")] == (2, 1)
        # Th2 holds D (home) and A (also_in): I1's A and D, I3's D.
        assert cells[("Th2", "Alpha")] == (4, 2)
        assert cells[("Th2", "Beta")] == (1, 1)

    def test_cell_links_to_the_segments_or_to_nothing(self, study, lead, world):
        found = matrix.case_matrix(viewer(lead, study), consensus_of(lead, study))
        link = found.rows[0].cells[0].url
        expected = matrix.segments_url(study, world["A"], world["alpha"])
        assert link == expected
        if expected is not None:
            assert expected.endswith(f"?case={world['alpha'].pk}")
            assert world["A"].public_id in expected
        assert found.rows[2].cells[1].url is None  # an empty cell links nowhere


class TestCrossTab:
    @pytest.fixture
    def dims(self, study, world, design):
        from tests.factories import DimensionFactory, DimensionValueFactory

        stage = design["dimension"]
        pre, post = list(stage.values.order_by("position"))
        polarity = DimensionFactory(study=study, name="Polarity", position=2)
        onramp = DimensionValueFactory(dimension=polarity, label="on-ramp", position=1)
        challenge = DimensionValueFactory(dimension=polarity, label="challenge", position=2)
        kind = DimensionFactory(study=study, name="Collaboration type", position=3)
        data = DimensionValueFactory(dimension=kind, label="data", position=1)
        world["Th1"].dimension_values.set([pre, onramp, data])
        world["Th2"].dimension_values.set([pre, post, challenge])
        world["category"].research_questions.set([design["rq1"]])
        world["Th2"].research_questions.set([design["rq2"]])
        return {"stage": stage, "polarity": polarity, "kind": kind, "data": data}

    def _grid(self, tab):
        return {
            (r, c): [t.name for t in cell.themes]
            for r, cells in tab.rows
            for c, cell in zip(tab.column_labels, cells, strict=True)
        }

    def test_themes_fall_in_each_of_their_cells(self, study, lead, dims):
        tab = matrix.crosstab(viewer(lead, study), row=dims["stage"].pk, column=dims["polarity"].pk)
        grid = self._grid(tab)
        assert grid[("pre-training", "on-ramp")] == ["Th1"]
        assert grid[("pre-training", "challenge")] == ["Th2"]
        assert grid[("post-release", "challenge")] == ["Th2"]
        assert grid[("post-release", "on-ramp")] == []
        assert tab.themes == 2

    def test_third_dimension_and_research_question_filter(self, study, lead, dims, design):
        v = viewer(lead, study)
        paged = matrix.crosstab(
            v, row=dims["stage"].pk, column=dims["polarity"].pk, page_value=dims["data"].pk
        )
        assert paged.page == dims["kind"] and paged.themes == 1
        assert self._grid(paged)[("pre-training", "on-ramp")] == ["Th1"]
        # Th1 answers RQ1 through its category; Th2 answers RQ1 (category) and RQ2 (its own).
        rq2 = matrix.crosstab(
            v, row=dims["stage"].pk, column=dims["polarity"].pk, rq=design["rq2"].pk
        )
        assert rq2.themes == 1 and self._grid(rq2)[("pre-training", "challenge")] == ["Th2"]

    def test_themes_without_a_value_show_in_a_not_set_row(self, study, lead, dims, admin_user):
        code_create(actor=admin_user, study=study, name="Th3", kind="theme")
        tab = matrix.crosstab(viewer(lead, study), row=dims["stage"].pk, column=dims["polarity"].pk)
        assert self._grid(tab)[(matrix.NOT_SET, matrix.NOT_SET)] == ["Th3"]


class TestBlindness:
    @pytest.fixture
    def blind(self, study, lead, coder, coder2, world):
        """coder and coder2 code a fifth interview blind; coder2 has submitted."""
        transcript = _interview(study, lead, "I5", world["beta"])
        assignment_set(
            actor=lead, transcript=transcript, primary=coder, second=coder2, mode="independent"
        )
        mine = Layer.objects.get(transcript=transcript, coder=coder)
        theirs = Layer.objects.get(transcript=transcript, coder=coder2)
        u = transcript.utterances.order_by("index")[1]
        coding_create(actor=coder, layer=mine, code=world["A"], start=u.start, end=u.start + 9)
        for start in (0, 20):
            coding_create(
                actor=coder2,
                layer=theirs,
                code=world["B"],
                start=u.start + start,
                end=u.start + start + 9,
            )
        layer_submit(actor=coder2, layer=theirs)
        return {"mine": mine, "theirs": theirs}

    def test_a_blind_coder_sees_only_their_own_layer(self, study, coder, coder2, blind):
        v = viewer(coder, study)
        options = matrix.sources(v)
        assert [s.coder_id for s in options] == [coder.pk]  # no consensus, no colleague
        found = matrix.cooccurrence(v, options[0])
        assert [c.name for c in found.codes] == ["A"] and found.codings == 1
        cases = matrix.case_matrix(v, options[0])
        assert {r.code.name: r.codings for r in cases.rows} == {"A": 1, "B": 0, "D": 0}
        assert not cases.with_notes

    def test_page_ignores_a_blind_coder_asking_for_consensus(self, client_for, study, coder, blind):
        url = reverse("matrices", kwargs={"study_slug": study.slug})
        page = client_for(coder).get(url, {"source": "consensus"})
        assert page.status_code == 200
        assert page.context["source"].coder_id == coder.pk
        assert b"coding some transcripts blind" in page.content
        assert page.context["matrix"].codings == 1

    def test_a_blind_coder_never_reads_a_cell_note(
        self, client_for, study, lead, coder, world, blind
    ):
        matrix_cell_note_save(
            actor=lead, code=world["A"], case=world["alpha"], text="Waited for GPUs.", version=None
        )
        client = client_for(coder)
        url = reverse(
            "matrix_cell_note",
            kwargs={
                "study_slug": study.slug,
                "ref": world["A"].public_id,
                "case_id": world["alpha"].pk,
            },
        )
        cell = client.get(url, headers={"HX-Request": "true"})
        assert cell.status_code == 200 and b"GPUs" not in cell.content
        page = client.get(reverse("matrix_cases", kwargs={"study_slug": study.slug}))
        assert b"GPUs" not in page.content
        lead_page = client_for(lead).get(reverse("matrix_cases", kwargs={"study_slug": study.slug}))
        assert b"GPUs" in lead_page.content

    def test_lead_may_choose_a_submitted_layer(self, study, lead, coder, coder2, blind):
        options = matrix.sources(viewer(lead, study))
        assert [s.coder_id for s in options] == [None, coder2.pk]  # coder's layer is open
        found = matrix.cooccurrence(viewer(lead, study), options[1])
        assert found.codings == 2 and [c.name for c in found.codes] == ["B"]


class TestQueryCounts:
    """The pages read a fixed number of queries whatever the number of codings or cases."""

    URLS = [
        ("matrices", {}),
        ("matrices", {"by": "turn", "measure": "jaccard"}),
        ("matrix_cases", {}),
        ("matrix_cases", {"rows": "themes"}),
        ("matrix_dimensions", {}),
    ]

    def _counts(self, client, study):
        counts = []
        for name, params in self.URLS:
            url = reverse(name, kwargs={"study_slug": study.slug})
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, params).status_code == 200
            counts.append(len(queries))
        return counts

    def test_counts_do_not_grow_with_data(self, client_for, study, admin_user, lead, world):
        client = client_for(lead)
        client.get(reverse("matrices", kwargs={"study_slug": study.slug}))  # warm the session
        small = self._counts(client, study)
        gamma = case_create(actor=lead, study=study, name="Gamma")
        for n in range(6, 10):
            transcript = _interview(study, lead, f"I{n}", gamma)
            for code, start in ((world["A"], 0), (world["B"], 3), (world["D"], 30)):
                _consensus(transcript, code, 1, start, start + 12, lead)
        code_create(actor=admin_user, study=study, name="E", parent=world["Th1"])
        for code in (world["A"], world["Th1"]):
            matrix_cell_note_save(actor=lead, code=code, case=gamma, text="Busy.", version=None)
        assert self._counts(client, study) == small
        assert small == [9, 11, 13, 14, 8]
