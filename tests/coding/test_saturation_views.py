"""The saturation page on a small study whose numbers are worked out by hand (see ``WORLD``).

Eight reconciled interviews, one a day from 1 March 2026, coded alike by two coders:

    I1  Compute as a gate, Small team       themes: Entry                 cats: Participation
    I2  Own language                        themes: + Motivation
    I3  Night-time enthusiasm (inductive,   —
        created while coding I3, Motivation)
    I4  Steering committee                  themes: + Decision making     cats: + Governance
    I5  Grants                              themes: + Funding
    I6  Small team                          —       ("Own language" redefined while coding I6)
    I7  Mentoring (Entry)                   —
    I8  Burnout (inductive, created in I8,  themes: + Sustainability (inductive theme)
        under the inductive theme)          + one coding only the primary coder made: open

Guest et al. with the defaults (base 4, run 2, sliding), counting themes: the base holds 3
themes (Entry, Motivation, Decision making); run 5–6 adds Funding, 1/3 = 33.3 %; run 6–7 adds
none: saturation at n = 5 + 2 at ≤ 5 % and at 0 %; run 7–8 adds Sustainability, 33.3 %.
Counting first-level codes: the base holds 5; runs 5–6 (Grants), 6–7 (Mentoring) and 7–8
(Mentoring, Burnout) all add some: not reached.
"""

import copy
import csv
import datetime
import io
import json
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coding.models import CodeVersion, SaturationDecision
from coding.selectors.blindness import Viewer
from coding.selectors.saturation import SaturationParams, analyse
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services import notes as notes_services
from coding.services.codebook import code_create, code_update
from coding.services.saturation import saturation_decision_record
from tests.factories import (
    STUDY_NAME,
    USERNAMES,
    UserFactory,
    create_study,
    give_roles,
    outsider_user,
    ready_transcript,
    reconciled_interview,
    study_member,
)
from workbench.access import member_perms
from workbench.roles import Role

HX = {"HX-Request": "true"}


def _code(admin, study, name, parent=None, kind="code", **kw):
    return code_create(actor=admin, study=study, name=name, kind=kind, parent=parent, **kw)


def build_world():
    admin = UserFactory(username=USERNAMES["admin"])
    study = create_study(admin, STUDY_NAME)
    lead = study_member(study, Role.LEAD)
    chen = study_member(study, Role.CODER)
    kofi = UserFactory(username=USERNAMES["coder2"])
    give_roles(study, kofi, Role.CODER)
    outsider = outsider_user()
    part = _code(admin, study, "Participation", kind="category")
    gov = _code(admin, study, "Governance", kind="category")
    entry = _code(admin, study, "Entry", part, kind="theme")
    motiv = _code(admin, study, "Motivation", part, kind="theme")
    dec = _code(admin, study, "Decision making", gov, kind="theme")
    fund = _code(admin, study, "Funding", gov, kind="theme")
    codes = {
        "compute": _code(admin, study, "Compute as a gate", entry),
        "small": _code(admin, study, "Small team", entry),
        "own": _code(admin, study, "Own language", motiv),
        "steer": _code(admin, study, "Steering committee", dec),
        "grants": _code(admin, study, "Grants", fund),
        "mentor": _code(admin, study, "Mentoring", entry),
    }
    coders = (chen, kofi)
    day = datetime.date(2026, 3, 1)
    transcripts = []

    def interview(n, pairs, extra=()):
        transcripts.append(
            reconciled_interview(
                study,
                lead,
                coders,
                pairs,
                code=f"I{n}",
                interview_date=day + datetime.timedelta(days=n - 1),
                extra=extra,
            )
        )

    interview(1, [(codes["compute"], "no GPUs at all"), (codes["small"], "five of us")])
    interview(2, [(codes["own"], "my own language in the model")])
    # I3: an inductive code, first seen while coding it (created before the coders code it).
    t3 = ready_transcript(study, lead, "placeholder", code="I0")  # never reconciled: not counted
    codes["night"] = _code(
        admin, study, "Night-time enthusiasm", motiv, origin="inductive", first_seen_transcript=t3
    )
    interview(3, [(codes["night"], "up at two in the morning")])
    # The version placed on the placeholder is moved to the real I3 (the code appeared there).
    CodeVersion.objects.filter(code=codes["night"]).update(during=transcripts[-1])
    interview(4, [(codes["steer"], "the committee decides")])
    interview(5, [(codes["grants"], "a small grant paid for it")])
    interview(6, [(codes["small"], "only a handful of people")])
    own = codes["own"]
    code_update(
        actor=admin,
        code=own,
        version=own.version,
        name=own.name,
        definition="Seeing one's own language served by the model.",
        when_to_use="",
        when_not_to_use="",
        example="",
        colour=own.colour,
        parent=motiv,
        during=transcripts[-1],
    )
    interview(7, [(codes["mentor"], "someone showed me the ropes")])
    sustain = _code(admin, study, "Sustainability", part, kind="theme", origin="inductive")
    codes["burnout"] = _code(
        admin,
        study,
        "Burnout",
        sustain,
        origin="inductive",
        first_seen_transcript=transcripts[-1],
    )
    interview(
        8,
        [(codes["burnout"], "we are all tired")],
        extra=[(codes["compute"], "the cluster was full")],
    )
    CodeVersion.objects.filter(code=codes["burnout"]).update(during=transcripts[-1])
    note = notes_services.debrief_note_create(
        actor=lead,
        study=study,
        held_on=datetime.date(2026, 3, 9),
        title="Tentative synthesis after I8",
        kind="synthesis",
    )
    return {
        "study": study,
        "admin": admin,
        "lead": lead,
        "chen": chen,
        "kofi": kofi,
        "outsider": outsider,
        "codes": codes,
        "themes": {"entry": entry, "motiv": motiv, "dec": dec, "fund": fund, "sustain": sustain},
        "transcripts": transcripts,
        "note": note,
    }


@pytest.fixture(scope="module")
def built_world(module_db, django_db_blocker):
    with django_db_blocker.unblock():
        return build_world()


@pytest.fixture
def world(db, built_world):
    return copy.deepcopy(built_world)


@pytest.fixture(autouse=True)
def fresh_reads():
    """The page reuses its reads while the study's audit trail is unchanged; a test that
    changes a row directly (no audit event) starts from an empty cache."""
    cache.clear()


def url(world, **query):
    base = reverse("saturation", args=[world["study"].slug])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def text_of(response) -> str:
    body = response.content.decode()
    body = re.sub(r"<svg.*?</svg>", " ", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", body.replace("&amp;", "&").replace("&#x27;", "'"))


def rows_of(response) -> list[list[str]]:
    """The per-interview table, as text cells."""
    html = response.content.decode()
    table = html[html.index('class="sat-table sat-interviews"') :]
    table = table[: table.index("</table>")]
    body = table[table.index("<tbody>") :]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        clean = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in cells]
        rows.append(clean)
    return rows


class TestPage:
    def test_the_verdict_and_every_run_by_hand(self, client, world):
        client.force_login(world["lead"])
        response = client.get(url(world))
        assert response.status_code == 200
        page = text_of(response)
        assert page.count("Saturation at n = 5 + 2") == 2  # ≤ 5 % and ≤ 0 %
        assert "“saturation at n = 5 + 2 (base 4, run 2, ≤ 5 %)”" in page
        assert "Interviews 6–7 add 0 new themes; the base holds 3 (0.0 %)" in page
        runs = re.findall(r"Interviews (\d)–(\d) (\d) (\d) ([\d.]+) %", page)
        assert runs == [("5", "6", "1", "3", "33.3"), ("6", "7", "0", "3", "0.0"),
                        ("7", "8", "1", "3", "33.3")]  # fmt: skip

    def test_per_interview_rows(self, client, world):
        client.force_login(world["lead"])
        rows = rows_of(client.get(url(world)))
        assert [r[1].split(" 1 Mar")[0].split(" 2026")[0][:2] for r in rows] == [
            f"I{n}" for n in range(1, 9)
        ]
        first, third, sixth, eighth = rows[0], rows[2], rows[5], rows[7]
        assert first[0] == "1 base" and "1 Mar 2026" in first[1]
        # new codes (total, D · I, names), new themes, new categories
        assert first[2].startswith("2 2 · 0") and "Compute as a gate" in first[2]
        assert first[3].startswith("1 1 · 0 Entry") and first[4].startswith("1 1 · 0")
        assert third[2].startswith("1 0 · 1 Night-time enthusiasm") and third[3] == "0"
        assert "created Night-time enthusiasm" in third[5]
        assert "redefined Own language" in sixth[5]
        # cumulative codes, themes, categories after each interview
        assert [r[6:9] for r in rows] == [
            ["2", "1", "1"], ["3", "2", "1"], ["4", "2", "1"], ["5", "3", "2"],
            ["6", "4", "2"], ["6", "4", "2"], ["7", "4", "2"], ["8", "5", "2"],
        ]  # fmt: skip
        assert eighth[3].startswith("1 0 · 1 Sustainability")
        assert "1 open disagreement" in eighth[1]

    def test_stopping_criteria_and_meaning(self, client, world):
        client.force_login(world["lead"])
        page = text_of(client.get(url(world, initial=4, consecutive=2)))
        assert "Stop at interview 7" in page and "Interviews 6–7 add no new themes" in page
        assert "First met at interview 7" in page  # I6, I7 add no theme or category
        assert "Not met The last 2 interviews still added themes or categories" in page
        assert "Stable after interview 8" in page  # Burnout created while coding I8
        assert re.search(r"Own language 1× interview 6 I6: interview.txt", page)
        assert "2 other codes were created while coding and never redefined" in page

    def test_counting_codes_changes_the_verdict(self, client, world):
        client.force_login(world["lead"])
        page = text_of(client.get(url(world, information="codes")))
        assert "Saturation at" not in page
        assert re.findall(r"Interviews (\d)–(\d) (\d) (\d) ([\d.]+) %", page) == [
            ("5", "6", "1", "5", "20.0"), ("6", "7", "1", "5", "20.0"),
            ("7", "8", "2", "5", "40.0"),
        ]  # fmt: skip

    def test_htmx_gets_only_the_analysis(self, client, world):
        client.force_login(world["lead"])
        response = client.get(url(world, run=1), headers=HX)
        body = response.content.decode()
        assert body.lstrip().startswith('<div id="analysis">')
        assert "<html" not in body and "studynav" not in body
        assert "Saturation at n = 5 + 1" in text_of(response)  # I6 alone adds nothing
        assert response["Vary"] and "HX-Request" in response["Vary"]

    def test_invalid_parameters_show_messages_and_fall_back_to_defaults(self, client, world):
        client.force_login(world["lead"])
        response = client.get(url(world, base="zero", run=99, thresholds="five", layer="nobody"))
        assert response.status_code == 200
        page = text_of(response)
        assert "Give a whole number." in page and "Give a number from 1 to 50." in page
        assert "Give percentages from 0 to 100, separated by commas." in page
        assert "No submitted layers of that coder that you may read" in page
        assert page.count("Saturation at n = 5 + 2") == 2  # the defaults stood in
        assert 'aria-invalid="true"' in response.content.decode()

    def test_a_coder_layer_is_counted_when_chosen(self, client, world):
        client.force_login(world["lead"])
        page = text_of(client.get(url(world, layer="chen")))
        # Chen's own layers hold the extra coding of I8: same themes, same verdict.
        assert "counting themes from chen's submitted layers" in page
        assert page.count("Saturation at n = 5 + 2") == 2

    def test_empty_state_says_what_to_do(self, client, db):
        admin = UserFactory(username="alice")
        study = create_study(admin, "Empty")
        give_roles(study, admin, Role.ADMIN, Role.LEAD)
        client.force_login(admin)
        page = text_of(client.get(reverse("saturation", args=[study.slug])))
        assert "Nothing to measure yet" in page
        assert "starts its reconciliation" in page
        assert "Record decision" not in page and "Interview order" not in page

    def test_non_member_gets_404_and_members_read_it(self, client, world):
        client.force_login(world["outsider"])
        assert client.get(url(world)).status_code == 404
        client.force_login(world["kofi"])
        response = client.get(url(world))
        assert response.status_code == 200
        page = text_of(response)
        assert page.count("Saturation at n = 5 + 2") == 2
        assert "Record decision" not in page and "Save order" not in page

    def test_nav_link_for_every_member(self, client, world):
        client.force_login(world["kofi"])
        page = client.get(reverse("study_dashboard", args=[world["study"].slug])).content
        assert url(world).encode() in page


class TestDownloads:
    def test_json_is_the_evidence_and_matches_the_page(self, client, world):
        client.force_login(world["lead"])
        response = client.get(url(world, format="json"))
        assert response["Content-Type"].startswith("application/json")
        assert "attachment" in response["Content-Disposition"]
        data = json.loads(response.content)
        viewer = Viewer(world["lead"], member_perms(world["lead"], world["study"]), world["study"])
        assert data == analyse(viewer, SaturationParams()).evidence()
        assert [r["label"] for r in data["guest"]["results"]] == [
            "saturation at n = 5 + 2 (base 4, run 2, ≤ 5 %)",
            "saturation at n = 5 + 2 (base 4, run 2, ≤ 0 %)",
        ]
        assert [i["cumulative"]["themes"] for i in data["interviews"]] == [1, 2, 2, 3, 4, 4, 4, 5]

    def csv_of(self, client, world, **query):
        response = client.get(url(world, format="csv", **query))
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]

    def test_csv_tables_match_the_page(self, client, world):
        client.force_login(world["lead"])
        interviews = self.csv_of(client, world, run=3)  # the interviews, by default
        assert [r["participant"] for r in interviews] == [f"I{n}" for n in range(1, 9)]
        assert [int(r["cumulative_themes"]) for r in interviews] == [1, 2, 2, 3, 4, 4, 4, 5]
        assert [r["open_disagreements"] for r in interviews][-1] == "1"
        runs = self.csv_of(client, world, run=3, table="runs")
        fields = ("first", "last", "new", "denominator", "percent")
        assert [tuple(r[f] for f in fields) for r in runs] == [
            ("5", "7", "1", "3", "33.33"), ("6", "8", "1", "3", "33.33"),
        ]  # fmt: skip
        meaning = self.csv_of(client, world, table="meaning")
        assert {r["code"]: r["stable_after_interview"] for r in meaning}["Own language"] == "6"

    def test_csv_cells_cannot_run_as_formulas(self, client, world):
        transcript = world["transcripts"][0]
        transcript.title = "=HYPERLINK(1)"
        transcript.save(update_fields=["title"])
        client.force_login(world["lead"])
        body = client.get(url(world, format="csv")).content.decode()
        assert "'=HYPERLINK(1)" in body


class TestDecisions:
    def test_lead_records_a_decision_and_its_snapshot_never_changes(self, client, world):
        lead, study = world["lead"], world["study"]
        client.force_login(lead)
        response = client.post(
            reverse("saturation_decision_record", args=[study.slug]),
            {
                "verdict": "continue",
                "rationale": "Themes still emerge: sample I9–I12.",
                "synthesis": world["note"].public_id,
                **SaturationParams(run=1).as_query(),
            },
        )
        decision = SaturationDecision.objects.get()
        assert response.status_code == 302
        assert response.url.endswith(f"#decision-{decision.public_id}") and "run=1" in response.url
        assert decision.interviews == 8 and decision.evidence["parameters"]["run"] == "1"
        assert decision.synthesis == world["note"]
        page = text_of(client.get(response.url))
        assert "Decision recorded: Continue sampling after 8 interviews." in page
        assert "D1 · Continue sampling" in page and "Themes still emerge" in page
        assert "Tentative synthesis after I8" in page
        assert "saturation at n = 5 + 1 (base 4, run 1, ≤ 5 %)" in page
        detail = reverse("saturation_decision", args=[study.slug, decision.public_id])
        before = client.get(detail)
        assert before.status_code == 200
        assert "Saturation at n = 5 + 1" in text_of(before)

        # Later: a ninth interview brings two new themes, and the order changes.
        reconciled_interview(
            study,
            lead,
            (world["chen"], world["kofi"]),
            [(world["codes"]["grants"], "funding ran out"), (world["codes"]["steer"], "votes")],
            code="I9",
            interview_date=datetime.date(2026, 2, 1),
        )
        live = text_of(client.get(url(world, run=1)))
        assert "9 interviews in interview order" in live
        after = client.get(detail)
        assert text_of(after) == text_of(before)

    def test_decision_shows_on_the_chart(self, client, world):
        saturation_decision_record(
            actor=world["lead"],
            study=world["study"],
            verdict="reached",
            rationale="Nothing new since I5.",
            params=SaturationParams(),
        )
        client.force_login(world["kofi"])
        body = client.get(url(world)).content.decode()
        svg = body[body.index("<svg") : body.index("</svg>")]
        assert 'class="decision-mark decision-reached"' in svg
        assert "Decision 1," in svg and "Saturation reached, after 8 interviews" in svg
        assert ">D1 · reached</text>" in svg
        assert "Saturation at n = 5 + 2" in svg  # the description reads the verdicts too

    def test_a_rationale_is_required_and_nothing_is_recorded_without_it(self, client, world):
        client.force_login(world["lead"])
        response = client.post(
            reverse("saturation_decision_record", args=[world["study"].slug]),
            {"verdict": "reached", "rationale": "  "},
        )
        assert response.status_code == 200
        assert "This field is required." in text_of(response)
        assert not SaturationDecision.objects.exists()

    @pytest.mark.parametrize("who", ["chen", "admin"])
    def test_only_leads_post(self, client, world, who):
        client.force_login(world[who])
        study = world["study"]
        first = world["transcripts"][0]
        for name, data in [
            ("saturation_decision_record", {"verdict": "reached", "rationale": "Done."}),
            ("saturation_order", {f"order-{first.pk}": "2"}),
        ]:
            assert client.post(reverse(name, args=[study.slug]), data).status_code == 403
        assert not SaturationDecision.objects.exists()
        first.refresh_from_db()
        assert first.interview_order is None


class TestInterviewOrder:
    def test_the_lead_reorders_interviews_of_the_same_day(self, client, world):
        lead, study = world["lead"], world["study"]
        t5, t6 = world["transcripts"][4], world["transcripts"][5]
        for t in (t5, t6):
            t.interview_date = datetime.date(2026, 3, 5)
            t.save(update_fields=["interview_date"])
        client.force_login(lead)
        page = client.get(url(world))
        rows = rows_of(page)
        assert [r[1][:2] for r in rows[4:6]] == ["I5", "I6"]
        form = page.content.decode().split('id="interview-order"')[1]
        for n, t in enumerate(world["transcripts"], start=1):
            assert f'name="order-{t.pk}" value="{n}"' in form
        assert form.count('<span class="tag same-day">same day</span>') == 2  # I5 and I6
        order = {f"order-{t.pk}": str(n) for n, t in enumerate(world["transcripts"], start=1)}
        order[f"order-{t5.pk}"], order[f"order-{t6.pk}"] = "6", "5"
        response = client.post(reverse("saturation_order", args=[study.slug]), order)
        assert response.status_code == 302
        page = client.get(response.url)
        assert "Interview order saved." in text_of(page)
        rows = rows_of(page)
        assert [r[1][:2] for r in rows[4:6]] == ["I6", "I5"]
        # I6 (nothing new) now comes before I5 (Funding): runs shift, totals stay.
        assert rows[-1][6:9] == ["8", "5", "2"]

    def test_moving_across_days_is_explained(self, client, world):
        client.force_login(world["lead"])
        t1, t2 = world["transcripts"][:2]
        order = {f"order-{t2.pk}": "1", f"order-{t1.pk}": "2"}
        response = client.post(reverse("saturation_order", args=[world["study"].slug]), order)
        page = text_of(client.get(response.url))
        assert "Interviews held on different days stay in date order" in page
        assert [r[1][:2] for r in rows_of(client.get(url(world)))][:2] == ["I1", "I2"]

    def test_a_bad_number_changes_nothing(self, client, world):
        client.force_login(world["lead"])
        t1 = world["transcripts"][0]
        response = client.post(
            reverse("saturation_order", args=[world["study"].slug]), {f"order-{t1.pk}": "first"}
        )
        assert "give each interview a whole number" in text_of(client.get(response.url))
        t1.refresh_from_db()
        assert t1.interview_order is None


class TestBlindness:
    def test_a_coder_blind_on_a_layer_sees_the_message_not_its_numbers(self, client, world):
        """Kofi submitted a ninth interview with a code of its own; Chen has not: Chen, counting
        Kofi's layers, is told one interview is withheld and sees nothing of it."""
        study, chen, kofi = world["study"], world["chen"], world["kofi"]
        hidden = _code(
            world["admin"], study, "Only in the hidden interview", world["themes"]["dec"]
        )
        t9 = ready_transcript(study, world["lead"], "I9: a secret place.\n", code="I9")
        assignment_services.assignment_set(
            actor=world["lead"], transcript=t9, primary=chen, second=kofi, mode="independent"
        )
        layer = t9.layers.get(coder=kofi)
        coding_services.coding_create(actor=kofi, layer=layer, code=hidden, start=4, end=12)
        assignment_services.layer_submit(actor=kofi, layer=layer)

        client.force_login(chen)
        response = client.get(url(world, layer="kofi"))
        page = text_of(response)
        assert "1 interview with kofi's submitted layers is not shown" in page
        assert "8 interviews in interview order" in page
        assert "I9:" not in page and "Only in the hidden interview" not in page
        data = json.loads(client.get(url(world, layer="kofi", format="json")).content)
        assert len(data["interviews"]) == 8 and data["withheld_interviews"] == 1

        client.force_login(world["lead"])
        page = text_of(client.get(url(world, layer="kofi")))
        assert "9 interviews in interview order" in page and "not shown" not in page

    def test_a_reopened_layer_withholds_the_consensus_and_the_decision_numbers(self, client, world):
        study, chen = world["study"], world["chen"]
        decision = saturation_decision_record(
            actor=world["lead"],
            study=study,
            verdict="continue",
            rationale="Keep going.",
            params=SaturationParams(),
        )
        t8 = world["transcripts"][7]
        assignment_services.layer_reopen(
            actor=world["lead"], layer=t8.layers.get(coder=chen), reason="Recheck"
        )
        client.force_login(chen)
        page = text_of(client.get(url(world)))
        assert "1 interview with consensus layers is not shown" in page
        assert "7 interviews in interview order" in page and "Burnout" not in page
        assert "Its numbers are withheld from you" in page and "Keep going." in page
        detail = reverse("saturation_decision", args=[study.slug, decision.public_id])
        shown = text_of(client.get(detail))
        assert "withheld from you" in shown and "Burnout" not in shown
        assert client.get(detail + "?format=json").status_code == 403


class TestQueries:
    def test_the_page_reads_in_a_fixed_number_of_queries(self, client, world):
        """Measured on the world, then again with twice the interviews and more decisions:
        the same count, whether the reads are done afresh or reused (a parameter change)."""
        lead, study = world["lead"], world["study"]
        saturation_decision_record(
            actor=lead, study=study, verdict="continue", rationale="a", params=SaturationParams()
        )
        client.force_login(lead)
        client.get(url(world))  # the session, once

        def counts():
            cache.clear()
            with CaptureQueriesContext(connection) as fresh:
                assert client.get(url(world)).status_code == 200
            with CaptureQueriesContext(connection) as reused:
                assert client.get(url(world, run=3)).status_code == 200
            return len(fresh), len(reused)

        small = counts()
        assert small[1] < small[0]
        codes = list(world["codes"].values())
        for n in range(9, 17):
            reconciled_interview(
                study,
                lead,
                (world["chen"], world["kofi"]),
                [(codes[n % len(codes)], f"phrase {n}"), (codes[(n + 3) % len(codes)], "more")],
                code=f"I{n}",
                interview_date=datetime.date(2026, 4, n),
            )
            _code(world["admin"], study, f"Extra {n}", world["themes"]["fund"])
        for verdict in ("continue", "reached"):
            saturation_decision_record(
                actor=lead,
                study=study,
                verdict=verdict,
                rationale="b",
                params=SaturationParams(),
                synthesis=world["note"],
            )
        assert counts() == small
        assert "16 interviews in interview order" in text_of(client.get(url(world)))
