"""Retrieval: every quote behind a code, theme or category; filters, exports, exemplar marks,
blindness and withdrawn participants; the consensus beside a coder's layer."""

import csv
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from coding.models import Coding, CodingMode, ConsensusCoding, LayerRole
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services import reconciliation as reconciliation_services
from coding.services.codebook import code_create
from tests.factories import consented_participant, imported_transcript
from transcripts.services import attributes as attribute_services
from transcripts.services import cases as case_services
from transcripts.services import consent as consent_services
from transcripts.services import transcripts as transcript_services
from workbench.models import AuditEvent

TEXT = (
    "Interviewer: How did you join?\n\n"
    "{code}: Honestly by accident. I filed an issue about a broken script and stayed. "
    "=HYPERLINK(evil) was in my notes. ทีมของเราเล็กมาก 数据共享很重要\n\n"
    "Interviewer: And then?\n\n"
    "{code}: The data working group asked me to review data cards every week.\n"
)


@pytest.fixture
def world(study, admin_user, lead, coder, coder2, reviewer, design):
    """Codes in a category → theme → codes tree (one code linked through ``also_in``), a case
    with a choice attribute, and a helper that makes a reconciled transcript."""
    category = code_create(actor=admin_user, study=study, name="Collaboration", kind="category")
    theme = code_create(
        actor=admin_user,
        study=study,
        name="On-ramp: shared review lowers the cost of joining",
        kind="theme",
        parent=category,
        dimension_values=[design["value"]],
    )
    entry = code_create(actor=admin_user, study=study, name="Entry path", parent=theme)
    review = code_create(actor=admin_user, study=study, name="Data review")
    review.also_in.add(theme)
    other = code_create(actor=admin_user, study=study, name="Unrelated")
    region = attribute_services.attribute_create(
        actor=lead,
        study=study,
        target="case",
        name="Region",
        kind="choice",
        options=["Europe", "Asia"],
    )

    def transcript(code, region_value, *, reconcile=True, submit=True):
        case = case_services.case_create(
            actor=lead,
            study=study,
            name=f"Project {code}",
            attributes={str(region.pk): region_value},
        )
        participant = consented_participant(study, code, case=case)
        t = imported_transcript(study, participant, TEXT.format(code=code))
        t = transcript_services.transcript_update(
            actor=lead, transcript=t, version=t.version, status="ready"
        )
        assignment_services.assignment_set(
            actor=lead, transcript=t, primary=coder, second=coder2, mode=CodingMode.INDEPENDENT
        )
        for user, role in ((coder, LayerRole.PRIMARY), (coder2, LayerRole.SECOND)):
            layer = t.layers.get(role=role)
            for code_, phrase in ((entry, "I filed an issue"), (review, "review data cards")):
                start = t.text.index(phrase)
                coding_services.coding_create(
                    actor=user, layer=layer, code=code_, start=start, end=start + len(phrase)
                )
            if submit:
                assignment_services.layer_submit(actor=user, layer=layer)
        if reconcile:
            reconciliation_services.reconciliation_start(actor=reviewer, transcript=t)
        return t

    return {
        "category": category,
        "theme": theme,
        "entry": entry,
        "review": review,
        "other": other,
        "region": region,
        "transcript": transcript,
    }


def url(study, code, name="retrieval", **params):
    path = reverse(name, args=[study.slug, code.public_id])
    return path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def quotes(response) -> list[str]:
    return re.findall(r"<mark[^>]*>(.*?)</mark>", response.content.decode())


class TestContent:
    def test_a_theme_collects_its_children_and_linked_codes(self, client_for, lead, study, world):
        world["transcript"]("I1", "Europe")
        response = client_for(lead).get(url(study, world["theme"]))
        assert response.status_code == 200
        assert sorted(quotes(response)) == ["I filed an issue", "review data cards"]
        page = response.content.decode()
        assert "2 segments" in page and "from the consensus layer" in page
        # Context, speaker, participant, case, attribute and the theme's dimension value.
        assert "Honestly by accident." in page and "about a broken script" in page
        assert "participant <strong>I1</strong>" in page and "case Project I1" in page
        assert "Region: Europe" in page and "Lifecycle stage: pre-training" in page

    def test_a_category_collects_its_themes_members_and_a_code_only_itself(
        self, client_for, lead, study, world
    ):
        world["transcript"]("I1", "Europe")
        client = client_for(lead)
        assert len(quotes(client.get(url(study, world["category"])))) == 2
        assert quotes(client.get(url(study, world["entry"]))) == ["I filed an issue"]
        assert quotes(client.get(url(study, world["other"]))) == []

    def test_context_stays_in_the_speakers_turn(self, client_for, lead, study, world):
        world["transcript"]("I1", "Europe")
        page = client_for(lead).get(url(study, world["review"])).content.decode()
        assert "The data working group asked me to" in page
        assert "And then?" not in page  # the interviewer's turn before it

    def test_link_opens_the_coding_view_at_the_turn(self, client_for, lead, study, world):
        t = world["transcript"]("I1", "Europe")
        page = client_for(lead).get(url(study, world["entry"])).content.decode()
        link = reverse("coding_view", args=[study.slug, t.pk]) + "?consensus=1#t1"
        assert link in page
        coder_page = client_for(lead).get(
            url(study, world["entry"], layer=t.layers.first().coder_id)
        )
        coding = Coding.objects.get(layer=t.layers.first(), code=world["entry"])
        assert f"?coding={coding.public_id}#t1" in coder_page.content.decode()

    def test_unknown_code_is_404(self, client_for, lead, study, world):
        response = client_for(lead).get(reverse("retrieval", args=[study.slug, "nope"]))
        assert response.status_code == 404


class TestFilters:
    def test_case_attribute_transcript_and_exemplar(self, client_for, lead, study, world):
        europe = world["transcript"]("I1", "Europe")
        world["transcript"]("I2", "Asia")
        client = client_for(lead)
        region = world["region"].pk
        assert len(quotes(client.get(url(study, world["theme"])))) == 4
        page = client.get(url(study, world["theme"], **{f"a{region}": "Asia"})).content.decode()
        assert "participant <strong>I2</strong>" in page and "<strong>I1</strong>" not in page
        only = client.get(url(study, world["theme"], transcript=europe.pk)).content.decode()
        assert "<strong>I2</strong>" not in only and "2 segments" in only
        ConsensusCoding.objects.filter(transcript=europe, code=world["entry"]).update(exemplar=True)
        marked = client.get(url(study, world["theme"], exemplar=1))
        assert quotes(marked) == ["I filed an issue"]

    def test_one_case_as_the_matrices_link_it(self, client_for, lead, study, world):
        asia = world["transcript"]("I2", "Asia")
        world["transcript"]("I1", "Europe")
        client = client_for(lead)
        case = asia.participant.case
        page = client.get(url(study, world["theme"], case=case.pk)).content.decode()
        assert "participant <strong>I2</strong>" in page and "<strong>I1</strong>" not in page
        assert f'<option value="{case.pk}" selected>{case.name}</option>' in page

    def test_dimension_value_narrows_a_category(self, client_for, lead, study, world, design):
        world["transcript"]("I1", "Europe")
        client = client_for(lead)
        other_value = design["dimension"].values.exclude(pk=design["value"].pk).get()
        world["other"].dimension_values.add(other_value)
        assert (
            len(
                quotes(
                    client.get(url(study, world["category"], dimension_value=design["value"].pk))
                )
            )
            == 2
        )
        assert (
            quotes(client.get(url(study, world["category"], dimension_value=other_value.pk))) == []
        )

    def test_coder_layer_and_sort(self, client_for, lead, study, world, coder):
        world["transcript"]("I1", "Europe", reconcile=False)
        client = client_for(lead)
        assert quotes(client.get(url(study, world["theme"]))) == []  # no consensus yet
        in_order = client.get(url(study, world["theme"], layer=coder.pk))
        assert quotes(in_order) == ["I filed an issue", "review data cards"]
        by_code = client.get(url(study, world["theme"], layer=coder.pk, sort="code"))
        assert quotes(by_code) == ["review data cards", "I filed an issue"]  # Data review first

    def test_pagination(self, client_for, lead, study, world):
        for n in range(26):
            world["transcript"](f"P{n:02d}", "Europe")
        client = client_for(lead)
        first = client.get(url(study, world["theme"]))
        assert len(quotes(first)) == 50 and "52 segments" in first.content.decode()
        second = client.get(url(study, world["theme"], page=2))
        assert len(quotes(second)) == 2


class TestExports:
    def test_csv_and_xlsx_hold_the_filtered_segments_and_never_a_formula(
        self, client_for, lead, study, world
    ):
        world["transcript"]("I1", "Europe")
        world["transcript"]("I2", "Asia")
        ConsensusCoding.objects.filter(code=world["entry"]).update(memo="=cmd|' /C calc'!A0")
        client = client_for(lead)
        region = world["region"].pk
        response = client.get(url(study, world["theme"], "retrieval_csv", **{f"a{region}": "Asia"}))
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0][:3] == ["Code", "Layer", "Transcript"]
        assert len(rows) == 3 and {r[3] for r in rows[1:]} == {"I2"}
        memos = [r[rows[0].index("Memo")] for r in rows[1:]]
        assert "'=cmd|' /C calc'!A0" in memos
        assert all(not cell or cell[0] not in "=+-@" for r in rows for cell in r)
        xlsx = client.get(url(study, world["theme"], "retrieval_xlsx"))
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        cells = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value is not None]
        assert sheet.max_row == 5
        assert any(c.value == "=cmd|' /C calc'!A0" and c.data_type == "s" for c in cells)
        assert all(c.data_type != "f" for c in cells)


class TestBlindness:
    def test_a_coder_still_coding_sees_only_their_own_layer(
        self, client_for, study, world, coder, coder2
    ):
        t = world["transcript"]("I1", "Europe", reconcile=False, submit=False)
        assignment_services.layer_submit(actor=coder2, layer=t.layers.get(coder=coder2))
        client = client_for(coder)
        page = client.get(url(study, world["theme"])).content.decode()
        assert f'value="{coder2.pk}"' not in page  # the other coder is not offered
        assert quotes(client.get(url(study, world["theme"], layer=coder2.pk))) == []
        assert len(quotes(client.get(url(study, world["theme"], layer=coder.pk)))) == 2

    def test_consensus_hidden_from_a_coder_whose_layer_is_reopened(
        self, client_for, study, world, coder, lead
    ):
        t = world["transcript"]("I1", "Europe")
        client = client_for(coder)
        assert len(quotes(client.get(url(study, world["theme"])))) == 2
        assignment_services.layer_reopen(actor=lead, layer=t.layers.get(coder=coder), reason="x")
        assert quotes(client.get(url(study, world["theme"]))) == []
        assert quotes(client.get(url(study, world["theme"], layer=coder.pk + 1000))) == []

    def test_a_member_who_does_not_code_a_transcript_reads_its_consensus(
        self, client_for, study, world, admin_user, lead, coder
    ):
        # One rule (``consensus_transcripts_in_study``): an admin deciding on a merge or split
        # reads what the consensus holds (the split page lists it too), also while a layer is
        # reopened; only the transcript's own coder whose layer is open again loses it.
        t = world["transcript"]("I1", "Europe")
        client = client_for(admin_user)
        assert len(quotes(client.get(url(study, world["theme"])))) == 2
        assignment_services.layer_reopen(actor=lead, layer=t.layers.get(coder=coder), reason="x")
        assert len(quotes(client.get(url(study, world["theme"])))) == 2
        assert quotes(client_for(coder).get(url(study, world["theme"]))) == []

    def test_a_blind_colleagues_inductive_code_is_404(
        self, client_for, study, world, coder, coder2
    ):
        t = world["transcript"]("I1", "Europe", reconcile=False, submit=False)
        inductive = code_create(
            actor=coder2,
            study=study,
            name="Secret",
            origin="inductive",
            first_seen_transcript=t,
        )
        response = client_for(coder).get(url(study, inductive))
        assert response.status_code == 404

    def test_withdrawn_participants_never_appear(self, client_for, lead, study, world, admin_user):
        t = world["transcript"]("I1", "Europe")
        world["transcript"]("I2", "Europe")
        consent_services.consent_withdraw(
            actor=admin_user,
            participant=t.participant,
            effective_on=timezone.localdate(),
            reason="asked",
        )
        client = client_for(lead)
        for layer in ("consensus", str(t.layers.first().coder_id)):
            page = client.get(url(study, world["theme"], layer=layer)).content.decode()
            assert "<strong>I1</strong>" not in page and "<strong>I2</strong>" in page
        rows = client.get(url(study, world["theme"], "retrieval_csv")).content.decode()
        assert "I1" not in rows.split("\n", 1)[1]


class TestExemplar:
    def test_a_reviewer_marks_a_consensus_quote_with_an_audit_event(
        self, client_for, study, world, reviewer
    ):
        t = world["transcript"]("I1", "Europe")
        row = ConsensusCoding.objects.get(transcript=t, code=world["entry"])
        client = client_for(reviewer)
        response = client.post(
            reverse("retrieval_exemplar", args=[study.slug]),
            {"consensus": row.pk, "exemplar": "1"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200 and 'aria-pressed="true"' in response.content.decode()
        row.refresh_from_db()
        assert row.exemplar
        event = AuditEvent.objects.get(verb="consensus_coding.update")
        assert event.after["exemplar"] is True and event.actor == reviewer

    def test_a_coder_marks_their_own_open_coding_but_not_the_consensus(
        self, client_for, study, world, coder
    ):
        t = world["transcript"]("I1", "Europe", reconcile=False, submit=False)
        coding = Coding.objects.get(layer__coder=coder, layer__transcript=t, code=world["entry"])
        client = client_for(coder)
        exemplar = reverse("retrieval_exemplar", args=[study.slug])
        client.post(exemplar, {"coding": coding.public_id, "exemplar": "1", "next": "/"})
        coding.refresh_from_db()
        assert coding.exemplar
        other = Coding.objects.exclude(layer__coder=coder).filter(layer__transcript=t).first()
        assert (
            client.post(exemplar, {"coding": other.public_id, "exemplar": "1"}).status_code == 404
        )
        world["transcript"]("I2", "Europe")
        row = ConsensusCoding.objects.first()
        client.post(exemplar, {"consensus": row.pk, "exemplar": "1"})
        row.refresh_from_db()
        assert not row.exemplar  # a coder does not settle the consensus


class TestConsensusBeside:
    def test_the_toggle_shows_the_consensus_to_whoever_may_read_it(
        self, client_for, study, world, coder, lead
    ):
        t = world["transcript"]("I1", "Europe")
        view = reverse("coding_view", args=[study.slug, t.pk])
        for user in (coder, lead):
            page = client_for(user).get(view + "?consensus=1").content.decode()
            assert "consensus-beside" in page and "Hide the consensus" in page
        assignment_services.layer_reopen(actor=lead, layer=t.layers.get(coder=coder), reason="x")
        page = client_for(coder).get(view + "?consensus=1").content.decode()
        assert "consensus-beside" not in page and "Show the consensus" not in page


class TestQueryCounts:
    @pytest.mark.parametrize("size", [1, 4])
    def test_first_page_queries_do_not_grow(
        self, client_for, lead, study, world, size, django_assert_num_queries
    ):
        for n in range(size):
            world["transcript"](f"P{n}", "Europe" if n % 2 else "Asia")
        client = client_for(lead)
        client.get(url(study, world["theme"]))  # warm the session
        with django_assert_num_queries(QUERIES):
            response = client.get(url(study, world["category"], sort="code"))
        assert len(quotes(response)) == 2 * size


QUERIES = 14  # the same at both sizes: session, access, codebook, filters, cases, the readable
# transcripts, count, one page


def test_the_codebook_s_keepers_split_a_code_from_its_quotes(
    client_for, admin_user, lead, study, world
):
    world["transcript"]("I1", "Europe")
    code = world["entry"]
    split = reverse("code_split", args=[study.slug, code.public_id])
    assert split in client_for(admin_user).get(url(study, code)).content.decode()
    assert split not in client_for(lead).get(url(study, code)).content.decode()
