"""Peer debriefing notes, tentative syntheses, analytic memos and agreement rounds: the service
rules, who may do what, the Notes page (htmx and plain), the disagreement-link visibility rule,
and reliability over time on the agreement page."""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from coding.models import (
    AgreementRound,
    AnalyticMemo,
    DebriefNote,
    Disagreement,
    DisagreementKind,
    LayerRole,
    NoteKind,
    Reconciliation,
    RoundKind,
)
from coding.rendering.agreement_chart import reliability_chart
from coding.selectors import agreement as agreement_report
from coding.services import agreement as agreement_services
from coding.services import assignments as assignment_services
from coding.services import notes as notes_services
from coding.services.codebook import code_create
from coding.views.agreement import round_code_rows
from tests.coding.test_agreement import (  # noqa: F401 (fixtures shared with the agreement tests)
    code,
    coded,
    make_transcript,
    two_codes,
)
from tests.factories import consented_participant, give_roles, imported_transcript
from workbench import audit
from workbench.locking import StaleEdit
from workbench.models import AuditEvent
from workbench.roles import Role
from workbench.services import studies as study_services

HX = {"HX-Request": "true"}
DAY = datetime.date(2026, 3, 12)
QUOTE = "We had no GPUs at all"  # words from the transcript a note may quote


def url(name, study, **kwargs):
    return reverse(name, kwargs={"study_slug": study.slug, **kwargs})


@pytest.fixture
def other_study(outsider):
    from workbench.models import Study

    return Study.objects.get(created_by=outsider)


@pytest.fixture
def disagreement(study, coded, reviewer):
    """A reconciliation of the coded transcript with one disagreement (made directly, so these
    tests do not depend on how disagreements are detected)."""
    r = Reconciliation.objects.create(transcript=coded, started_by=reviewer)
    return Disagreement.objects.create(
        reconciliation=r, number=1, kind=DisagreementKind.MISSING_IN_B, start=0, end=5
    )


def note(actor, study, **kwargs):
    values = {"title": "Debrief after I3", "held_on": DAY} | kwargs
    return notes_services.debrief_note_create(actor=actor, study=study, **values)


def memo(actor, study, **kwargs):
    values = {"title": "Gatekeeping", "body": "Compute decides who is heard."} | kwargs
    return notes_services.memo_create(actor=actor, study=study, **values)


def events(study, prefix):
    return list(AuditEvent.objects.filter(study=study, verb__startswith=prefix).order_by("id"))


# --- services ------------------------------------------------------------------------------


class TestDebriefNoteServices:
    def test_a_lead_records_a_dated_note_with_its_links_audited_without_text(
        self, study, lead, reviewer, coded, two_codes, disagreement
    ):
        n = note(
            lead,
            study,
            attendees=[lead, reviewer],
            other_attendees="external peer (J.)",
            body=f"P1 said “{QUOTE}”: compute is the gate.",
            decisions="Code ‘Compute as a gate’ redefined",
            transcripts=[coded],
            codes=[two_codes[0]],
            disagreements=[disagreement],
        )
        assert n.written_by == lead and n.kind == NoteKind.DEBRIEF and n.held_on == DAY
        assert set(n.attendees.all()) == {lead, reviewer}
        assert list(n.disagreements.all()) == [disagreement]
        [event] = events(study, "debrief_note.")
        assert event.verb == "debrief_note.create"
        assert event.after["title"] == "Debrief after I3"
        assert event.after["codes"] == ["Compute as a gate"]
        assert event.after["attendees"] == ["lena", "rosa"]
        assert event.after["body_chars"] == len(n.body)
        assert event.after["disagreements"] == [f"#1 in {coded.title}"]
        dumped = json.dumps([event.before, event.after], ensure_ascii=False)
        assert QUOTE not in dumped and "redefined" not in dumped

    def test_a_tentative_synthesis_is_a_note_kind(self, study, reviewer):
        n = note(reviewer, study, kind=NoteKind.SYNTHESIS, title="After I10")
        assert n.get_kind_display() == "Tentative synthesis"

    @pytest.mark.parametrize("who", ["coder", "admin_user"])
    def test_coders_and_admins_cannot_write_notes(self, request, study, who):
        with pytest.raises(ValidationError, match="leads and reviewers"):
            note(request.getfixturevalue(who), study)
        assert not DebriefNote.objects.exists()

    def test_links_must_belong_to_the_study(self, study, lead, outsider, other_study, coded):
        foreign_code = code_create(actor=outsider, study=other_study, name="Elsewhere")
        participant = consented_participant(other_study, "X1", actor=outsider)
        foreign_t = imported_transcript(other_study, participant, "A: hi\n", actor=outsider)
        with pytest.raises(ValidationError) as exc:
            note(lead, study, codes=[foreign_code])
        assert exc.value.message_dict == {"codes": ["Link only this study's codes."]}
        with pytest.raises(ValidationError, match="this study's transcripts"):
            note(lead, study, transcripts=[foreign_t])
        with pytest.raises(ValidationError, match="Only members"):
            note(lead, study, attendees=[outsider])
        foreign_r = Reconciliation.objects.create(transcript=foreign_t, started_by=outsider)
        foreign_d = Disagreement.objects.create(
            reconciliation=foreign_r, number=1, kind=DisagreementKind.BOUNDARY, start=0, end=1
        )
        with pytest.raises(ValidationError, match="this study's reconciliations"):
            note(lead, study, disagreements=[foreign_d])
        assert not DebriefNote.objects.exists()
        assert not events(study, "debrief_note.")

    def test_title_and_date_are_required(self, study, lead):
        with pytest.raises(ValidationError, match="title"):
            note(lead, study, title="   ")
        with pytest.raises(ValidationError, match="date"):
            note(lead, study, held_on=None)

    def test_update_records_only_what_changed_and_refuses_stale_edits(
        self, study, lead, reviewer, two_codes, disagreement
    ):
        n = note(lead, study, body="short", disagreements=[disagreement])
        common = {"held_on": DAY, "kind": NoteKind.DEBRIEF}
        saved = notes_services.debrief_note_update(
            actor=reviewer,
            note=n,
            version=1,
            title="Debrief after I3",
            body="a longer body",
            codes=[two_codes[1]],
            **common,
        )
        assert saved.version == 2
        # disagreements=None (the default) leaves the links alone.
        assert list(saved.disagreements.all()) == [disagreement]
        update = events(study, "debrief_note.update")[-1]
        assert update.before == {
            "body_chars": 5,
            "body_hash": audit.text_digest("short"),
            "codes": [],
        }
        assert update.after == {
            "body_chars": 13,
            "body_hash": audit.text_digest("a longer body"),
            "codes": ["Small team"],
        }
        with pytest.raises(StaleEdit):
            notes_services.debrief_note_update(
                actor=lead, note=n, version=1, title="Mine", **common
            )
        n.refresh_from_db()
        assert n.title == "Debrief after I3" and n.version == 2
        # Saving the same values again changes nothing and records nothing.
        notes_services.debrief_note_update(
            actor=lead,
            note=n,
            version=2,
            title=n.title,
            body=n.body,
            codes=[two_codes[1]],
            **common,
        )
        n.refresh_from_db()
        assert n.version == 2 and len(events(study, "debrief_note.update")) == 1

    def test_the_author_or_a_lead_deletes_a_note(self, study, lead, reviewer):
        by_lead, by_reviewer = note(lead, study), note(reviewer, study)
        with pytest.raises(ValidationError, match="author or a lead"):
            notes_services.debrief_note_delete(actor=reviewer, note=by_lead, version=1)
        with pytest.raises(StaleEdit):
            notes_services.debrief_note_delete(actor=lead, note=by_reviewer, version=7)
        notes_services.debrief_note_delete(actor=reviewer, note=by_reviewer, version=1)
        notes_services.debrief_note_delete(actor=lead, note=by_lead, version=1)
        assert not DebriefNote.objects.exists()
        deleted = events(study, "debrief_note.delete")
        assert [e.object_repr for e in deleted] == ["Debrief after I3"] * 2
        assert all("body_chars" in e.before for e in deleted)


class TestMemoServices:
    def test_coders_write_memos_on_codes_and_only_the_author_or_a_lead_changes_them(
        self, study, coder, coder2, lead, reviewer, two_codes, coded
    ):
        m = memo(coder, study, code=two_codes[0], transcripts=[coded], body=f"“{QUOTE}”")
        assert m.written_by == coder and m.code == two_codes[0]
        created = events(study, "memo.create")[0]
        assert created.after == {
            "title": "Gatekeeping",
            "code": "Compute as a gate",
            "body_chars": len(QUOTE) + 2,
            "body_hash": audit.text_digest(f"“{QUOTE}”"),
            "transcripts": [coded.title],
        }
        for other in (coder2, reviewer):
            with pytest.raises(ValidationError, match="author or a lead"):
                notes_services.memo_update(actor=other, memo=m, version=1, title="x", body="y")
            with pytest.raises(ValidationError, match="author or a lead"):
                notes_services.memo_delete(actor=other, memo=m, version=1)
        m = notes_services.memo_update(
            actor=coder, memo=m, version=1, title="Gate", body="b", code=None
        )
        assert (m.version, m.code) == (2, None)
        m = notes_services.memo_update(actor=lead, memo=m, version=2, title="Gate", body="b2")
        with pytest.raises(StaleEdit):
            notes_services.memo_update(actor=coder, memo=m, version=2, title="Late", body="b")
        with pytest.raises(StaleEdit):
            notes_services.memo_delete(actor=coder, memo=m, version=2)
        notes_services.memo_delete(actor=lead, memo=m, version=3)
        assert not AnalyticMemo.objects.exists()
        for event in events(study, "memo."):
            assert QUOTE not in json.dumps([event.before, event.after], ensure_ascii=False)

    def test_admins_cannot_write_memos_and_rules_are_checked(
        self, study, admin_user, coder, outsider, other_study
    ):
        with pytest.raises(ValidationError, match="leads, reviewers and coders"):
            memo(admin_user, study)
        with pytest.raises(ValidationError, match="Write the memo"):
            memo(coder, study, body="  ")
        foreign = code_create(actor=outsider, study=other_study, name="Elsewhere")
        with pytest.raises(ValidationError, match="this study's codes"):
            memo(coder, study, code=foreign)
        assert not AnalyticMemo.objects.exists()


class TestAgreementRounds:
    def test_rounds_are_numbered_per_study_and_keep_the_figures_of_their_moment(
        self, study, admin_user, lead, coder, coder2, two_codes, coded
    ):
        report = agreement_report.build(study)
        first = agreement_services.agreement_round_record(
            actor=lead,
            study=study,
            label="Before reconciliation",
            kind=RoundKind.BEFORE_RECONCILIATION,
        )
        assert first.number == 1 and first.transcripts == 1
        assert first.figures["overall"] == agreement_report.overall(report)
        by_name = {row["code"]: row for row in agreement_report.code_rows(report)}
        for code_id, figures in first.figures["codes"].items():
            row = by_name[figures["name"]]
            assert int(code_id) in {c.pk for c in two_codes}
            assert figures == {
                "name": row["code"],
                "alpha_u": row["alpha_u"],
                "alpha_nominal": row["alpha_nominal"],
                "kappa": row["kappa"],
                "kappa_verdict": row["kappa_verdict"],
                "kappa_nvivo_mean": row["kappa_nvivo_mean"],
                "agreement_proportion": row["agreement_proportion"],
                "transcripts": row["transcripts"],
                "characters": row["characters"],
            }
        # More coding changes the figures; round 1 keeps its own.
        t, layers = make_transcript(study, lead, coder, coder2, "I2")
        code(coder, layers[LayerRole.PRIMARY], two_codes[1], t.text, "Small but stubborn.")
        code(coder2, layers[LayerRole.SECOND], two_codes[1], t.text, "Small but stubborn.")
        for user, role in ((coder, LayerRole.PRIMARY), (coder2, LayerRole.SECOND)):
            assignment_services.layer_submit(actor=user, layer=layers[role])
        second = agreement_services.agreement_round_record(
            actor=lead, study=study, label="After codebook v2", kind=RoundKind.AFTER_CODEBOOK_CHANGE
        )
        assert second.number == 2 and second.transcripts == 2
        assert second.figures["overall"] == agreement_report.overall(agreement_report.build(study))
        first.refresh_from_db()
        assert first.figures["overall"] == agreement_report.overall(report)
        assert first.figures["overall"] != second.figures["overall"]
        # Another study counts from 1.
        study2 = study_services.study_create(actor=admin_user, name="Second study")
        give_roles(study2, lead, Role.LEAD)
        give_roles(study2, coder, Role.CODER)
        give_roles(study2, coder2, Role.CODER)
        t2, layers2 = make_transcript(study2, lead, coder, coder2, "J1")
        for user, role in ((coder, LayerRole.PRIMARY), (coder2, LayerRole.SECOND)):
            assignment_services.layer_submit(actor=user, layer=layers2[role])
        elsewhere = agreement_services.agreement_round_record(
            actor=lead, study=study2, label="x", kind="other"
        )
        assert elsewhere.number == 1
        recorded = events(study, "agreement_round.record")
        assert [e.after["number"] for e in recorded] == [1, 2]
        assert recorded[0].after["alpha_u"] == agreement_report.overall(report)["alpha_u"]

    def test_recording_is_refused_without_compared_transcripts_and_for_non_leads(
        self, study, lead, reviewer, coder, coder2, two_codes
    ):
        make_transcript(study, lead, coder, coder2)  # layers still open
        with pytest.raises(ValidationError, match="no figures to record"):
            agreement_services.agreement_round_record(
                actor=lead, study=study, label="R", kind="other"
            )
        with pytest.raises(ValidationError, match="Only leads"):
            agreement_services.agreement_round_record(
                actor=reviewer, study=study, label="R", kind="other"
            )
        assert not AgreementRound.objects.exists()

    def test_label_and_kind_are_checked(self, study, lead, coded):
        with pytest.raises(ValidationError, match="Name the round"):
            agreement_services.agreement_round_record(
                actor=lead, study=study, label=" ", kind="other"
            )
        with pytest.raises(ValidationError, match="kind of round"):
            agreement_services.agreement_round_record(
                actor=lead, study=study, label="R", kind="later"
            )


# --- the Notes page ------------------------------------------------------------------------


class TestNotesPage:
    @pytest.mark.parametrize("role", ["admin", "lead", "coder", "reviewer"])
    def test_every_member_reads_notes_and_memos_outsiders_get_404(
        self, client, study, role_users, lead, coder, role
    ):
        note(lead, study, title="Debrief one", decisions="Code X redefined\nMerge Y into Z")
        memo(coder, study, title="Memo one")
        client.force_login(role_users[role])
        response = client.get(url("notes", study))
        html = response.content.decode()
        assert response.status_code == 200
        assert "Debrief one" in html and "Memo one" in html
        assert "<li>Code X redefined</li>" in html and "<li>Merge Y into Z</li>" in html
        assert 'aria-current="page">Notes</a>' in html
        can_note = role in {"lead", "reviewer"}
        assert ("Add a debriefing note or synthesis" in html) is can_note
        assert ("Write a memo" in html) is (role != "admin")
        client.force_login(role_users["outsider"])
        assert client.get(url("notes", study)).status_code == 404

    def test_anonymous_is_sent_to_sign_in(self, client, study):
        response = client.get(url("notes", study))
        assert response.status_code == 302 and response.url.startswith(reverse("login"))

    def test_notes_newest_first_and_filtered_by_kind_and_code(
        self, client_for, study, lead, coder, two_codes
    ):
        note(lead, study, title="Older", held_on=DAY, codes=[two_codes[0]])
        note(lead, study, title="Newer", held_on=DAY + datetime.timedelta(days=7))
        note(lead, study, title="Synthesis I10", kind=NoteKind.SYNTHESIS, held_on=DAY)
        memo(coder, study, title="On compute", code=two_codes[0])
        memo(coder, study, title="On teams", code=two_codes[1])
        c = client_for(coder)
        html = c.get(url("notes", study)).content.decode()
        assert html.index("Newer") < html.index("Older")
        html = c.get(url("notes", study) + "?kind=synthesis").content.decode()
        assert "Synthesis I10" in html and "Older" not in html and "Newer" not in html
        html = c.get(url("notes", study) + f"?code={two_codes[0].public_id}").content.decode()
        assert "Older" in html and "On compute" in html
        assert "Newer" not in html and "On teams" not in html
        assert "Analytic memos on Compute as a gate" in html
        fragment = c.get(url("notes", study) + f"?code={two_codes[1].public_id}", headers=HX)
        body = fragment.content.decode()
        assert body.lstrip().startswith('<div id="notes"') and "On teams" in body
        assert "On compute" not in body and "<html" not in body

    def test_disagreement_links_show_only_to_those_who_see_reconciliations(
        self, client, study, role_users, lead, coded, disagreement
    ):
        note(lead, study, title="Debrief on I1", transcripts=[coded], disagreements=[disagreement])
        reconcile = reverse("reconcile", args=[study.slug, coded.pk])
        for role, sees in (("lead", True), ("reviewer", True), ("coder", False), ("admin", False)):
            client.force_login(role_users[role])
            html = client.get(url("notes", study)).content.decode()
            assert "Debrief on I1" in html and coded.title in html
            assert ("Disagreement #1" in html) is sees, role
            assert (reconcile in html) is sees, role
        # The one-row fragment (Cancel) follows the same rule.
        n = DebriefNote.objects.get()
        client.force_login(role_users["coder"])
        row = client.get(
            url("notes_debrief_row", study, ref=n.public_id), headers=HX
        ).content.decode()
        assert "Debrief on I1" in row and "Disagreement #1" not in row
        client.force_login(role_users["reviewer"])
        row = client.get(
            url("notes_debrief_row", study, ref=n.public_id), headers=HX
        ).content.decode()
        assert "Disagreement #1" in row
        # And the edit form offers disagreements to overseers only (all note writers are).
        form = client.get(
            url("notes_debrief_edit", study, ref=n.public_id), headers=HX
        ).content.decode()
        assert f'name="note-{n.public_id}-disagreements"' in form

    def test_query_count_does_not_grow_with_notes_and_memos(
        self,
        client_for,
        study,
        lead,
        reviewer,
        coder,
        two_codes,
        coded,
        disagreement,
        django_assert_num_queries,
    ):
        def add(n):
            note(
                lead,
                study,
                title=f"Note {n}",
                attendees=[lead, reviewer],
                transcripts=[coded],
                codes=two_codes,
                disagreements=[disagreement],
            )
            memo(coder, study, title=f"Memo {n}", code=two_codes[n % 2], transcripts=[coded])

        add(0)
        c = client_for(lead)
        # session, user, study, permissions; the layers the reader codes blind against;
        # notes + their attendees, transcripts, codes and
        # disagreements; memos + their transcripts; the filter's codes; the note form's
        # members, transcripts, codes, disagreements; the memo form's codes, transcripts
        with django_assert_num_queries(19):
            assert c.get(url("notes", study)).status_code == 200
        for n in range(1, 12):
            add(n)
        with django_assert_num_queries(19):
            html = c.get(url("notes", study)).content.decode()
        assert "Note 11" in html and "Memo 11" in html


class TestNotesWrites:
    def _note_post(self, **extra):
        return {
            "new-note-kind": "debrief",
            "new-note-held_on": "2026-03-12",
            "new-note-title": "Debrief after I4",
            "new-note-body": "We talked.",
        } | extra

    def test_plain_post_adds_and_redirects_keeping_the_filters(self, client_for, study, lead):
        c = client_for(lead)
        response = c.post(url("notes_debrief_create", study) + "?kind=debrief", self._note_post())
        n = DebriefNote.objects.get()
        assert response.status_code == 302
        assert response.url == url("notes", study) + f"?kind=debrief#note-{n.public_id}"
        assert n.title == "Debrief after I4" and n.written_by == lead

    def test_htmx_post_returns_the_section_with_the_new_note_focused(
        self, client_for, study, reviewer
    ):
        response = client_for(reviewer).post(
            url("notes_debrief_create", study), self._note_post(), headers=HX
        )
        n = DebriefNote.objects.get()
        html = response.content.decode()
        assert response.status_code == 200
        assert response["HX-Retarget"] == "#notes"
        assert f'data-focus="note-{n.public_id}"' in html and 'hx-swap-oob="true"' in html
        assert "Peer debriefing “Debrief after I4” added." in html

    def test_invalid_add_shows_the_errors_in_the_open_form(self, client_for, study, lead):
        c = client_for(lead)
        data = self._note_post(**{"new-note-title": "", "new-note-held_on": ""})
        for headers in ({}, HX):
            html = c.post(url("notes_debrief_create", study), data, headers=headers)
            html = html.content.decode()
            assert "This field is required." in html
            assert '<details class="add" open>' in html
        assert not DebriefNote.objects.exists()

    @pytest.mark.parametrize(("who", "status"), [("coder", 403), ("admin_user", 403)])
    def test_coders_and_admins_get_403_when_writing_notes(
        self, request, client_for, study, who, status
    ):
        c = client_for(request.getfixturevalue(who))
        assert c.post(url("notes_debrief_create", study), self._note_post()).status_code == status

    def test_inline_edit_htmx_and_plain_with_cancel_restoring_one_row(
        self, client_for, study, lead, reviewer
    ):
        n = note(lead, study, title="First title")
        c = client_for(reviewer)
        edit = url("notes_debrief_edit", study, ref=n.public_id)
        form = c.get(edit, headers=HX).content.decode()
        assert form.lstrip().startswith(f'<form id="note-{n.public_id}" class="inline-form')
        assert "data-cancel" in form
        page = c.get(edit).content.decode()  # no JavaScript: the page with the form inline
        assert "<html" in page and f'id="note-{n.public_id}" class="inline-form' in page
        row = c.get(url("notes_debrief_row", study, ref=n.public_id), headers=HX).content.decode()
        assert row.lstrip().startswith(f'<article class="item note" id="note-{n.public_id}"')
        assert f'data-focus="note-{n.public_id}"' in row
        plain_row = c.get(url("notes_debrief_row", study, ref=n.public_id))
        assert plain_row.status_code == 302 and plain_row.url.endswith(f"#note-{n.public_id}")
        data = {
            f"note-{n.public_id}-kind": "synthesis",
            f"note-{n.public_id}-held_on": "2026-03-20",
            f"note-{n.public_id}-title": "Tentative synthesis after I10",
            f"note-{n.public_id}-version": "1",
        }
        response = c.post(edit, data, headers=HX)
        assert response.status_code == 200 and response["HX-Retarget"] == "#notes"
        n.refresh_from_db()
        assert (n.kind, n.title, n.version) == ("synthesis", "Tentative synthesis after I10", 2)
        # A stale edit is refused and says so, in the form, with nothing saved.
        stale = c.post(edit, data | {f"note-{n.public_id}-title": "Old tab"}, headers=HX)
        html = stale.content.decode()
        assert "changed by someone else" in html and html.lstrip().startswith("<form")
        stale_plain = c.post(edit, data | {f"note-{n.public_id}-title": "Old tab"})
        assert stale_plain.status_code == 200 and "changed by someone else" in (
            stale_plain.content.decode()
        )
        n.refresh_from_db()
        assert n.title == "Tentative synthesis after I10"

    def test_delete_by_author_or_lead_only(self, client_for, study, lead, reviewer):
        mine, leads = note(reviewer, study, title="Mine"), note(lead, study, title="Lead's")
        c = client_for(reviewer)
        html = c.get(url("notes", study)).content.decode()
        assert f"notes/debriefs/{mine.public_id}/delete/" in html
        assert f"notes/debriefs/{leads.public_id}/delete/" not in html
        assert f"notes/debriefs/{leads.public_id}/edit/" in html  # any note writer edits
        refused = c.post(url("notes_debrief_delete", study, ref=leads.public_id), {"version": 1})
        assert refused.status_code == 403
        stale = c.post(url("notes_debrief_delete", study, ref=mine.public_id), {"version": 9})
        assert stale.status_code == 302
        assert DebriefNote.objects.filter(pk=mine.pk).exists()
        response = c.post(
            url("notes_debrief_delete", study, ref=mine.public_id), {"version": 1}, headers=HX
        )
        assert response["HX-Retarget"] == "#notes" and "Deleted “Mine”." in (
            response.content.decode()
        )
        assert list(DebriefNote.objects.all()) == [leads]

    def test_another_study_s_note_is_404(self, client_for, study, lead, outsider, other_study):
        n = DebriefNote.objects.create(
            study=other_study, held_on=DAY, title="Theirs", written_by=outsider
        )
        c = client_for(lead)
        assert c.get(url("notes_debrief_edit", study, ref=n.public_id)).status_code == 404
        assert (
            c.get(url("notes_debrief_row", study, ref=n.public_id), headers=HX).status_code == 404
        )


class TestMemoWrites:
    def test_a_coder_writes_edits_and_deletes_their_memo(self, client_for, study, coder, two_codes):
        c = client_for(coder)
        response = c.post(
            url("notes_memo_create", study),
            {
                "new-memo-title": "Gate",
                "new-memo-code": two_codes[0].public_id,
                "new-memo-body": "Compute is the gate.",
            },
        )
        m = AnalyticMemo.objects.get()
        assert response.status_code == 302 and response.url.endswith(f"#memo-{m.public_id}")
        assert m.code == two_codes[0] and m.written_by == coder
        edit = url("notes_memo_edit", study, ref=m.public_id)
        assert (
            c.get(edit, headers=HX)
            .content.decode()
            .lstrip()
            .startswith(f'<form id="memo-{m.public_id}"')
        )
        response = c.post(
            edit,
            {
                f"memo-{m.public_id}-title": "Gatekeeping",
                f"memo-{m.public_id}-body": "Access, not cost.",
                f"memo-{m.public_id}-version": "1",
            },
        )
        assert response.status_code == 302
        m.refresh_from_db()
        assert (m.title, m.code, m.version) == ("Gatekeeping", None, 2)
        row = c.get(url("notes_memo_row", study, ref=m.public_id), headers=HX).content.decode()
        assert row.lstrip().startswith(f'<article class="item memo" id="memo-{m.public_id}"')
        response = c.post(
            url("notes_memo_delete", study, ref=m.public_id), {"version": 2}, headers=HX
        )
        assert response.status_code == 200 and not AnalyticMemo.objects.exists()

    def test_others_cannot_change_a_memo_but_a_lead_can(
        self, client_for, study, coder, coder2, reviewer, lead, admin_user
    ):
        m = memo(coder, study)
        edit = url("notes_memo_edit", study, ref=m.public_id)
        for user in (coder2, reviewer, admin_user):
            c = client_for(user)
            assert c.get(edit).status_code == 403
            assert (
                c.post(url("notes_memo_delete", study, ref=m.public_id), {"version": 1}).status_code
                == 403
            )
            html = c.get(url("notes", study)).content.decode()
            assert f"notes/memos/{m.public_id}/edit/" not in html
        assert (
            client_for(admin_user)
            .post(url("notes_memo_create", study), {"new-memo-title": "x", "new-memo-body": "y"})
            .status_code
            == 403
        )
        c = client_for(lead)
        assert c.get(edit).status_code == 200
        assert f"notes/memos/{m.public_id}/edit/" in c.get(url("notes", study)).content.decode()

    def test_invalid_memo_stays_in_the_form(self, client_for, study, coder):
        response = client_for(coder).post(
            url("notes_memo_create", study), {"new-memo-title": "Only a title"}, headers=HX
        )
        html = response.content.decode()
        assert response.status_code == 200 and "This field is required." in html
        assert not AnalyticMemo.objects.exists()


# --- agreement rounds on the agreement page ------------------------------------------------


class TestRoundsOnTheAgreementPage:
    def test_a_lead_records_rounds_and_sees_reliability_over_time(
        self, client_for, study, lead, reviewer, coded
    ):
        c = client_for(lead)
        page = c.get(url("agreement", study)).content.decode()
        assert "Record this round" in page and "No round recorded yet" in page
        response = c.post(
            url("agreement_round_record", study),
            {"round-label": "Before reconciliation", "round-kind": "before"},
        )
        assert response.status_code == 302
        assert response.url == url("agreement", study) + "#rounds"
        overall = agreement_report.overall(agreement_report.build(study))
        response = c.post(
            url("agreement_round_record", study),
            {"round-label": "After codebook v2", "round-kind": "codebook"},
            headers=HX,
        )
        html = response.content.decode()
        assert html.lstrip().startswith('<section class="card" id="rounds"')
        assert "Round 2 recorded" in html
        assert [r.number for r in AgreementRound.objects.all()] == [1, 2]
        page = c.get(url("agreement", study)).content.decode()
        assert "Reliability over time" in page
        assert '<svg viewBox="0 0 560 220"' in page and '<title id="round-chart-title">' in page
        assert "0.800 reliable" in page and "0.667 tentative" in page
        assert page.count('class="point"') >= 2
        assert f"{overall['alpha_u']:.3f}" in page
        assert "R1 · Before reconciliation" in page and "After codebook changes" in page
        assert "Compute as a gate" in page and "tr. ·" in page
        # A reviewer sees the history but cannot record.
        page = client_for(reviewer).get(url("agreement", study)).content.decode()
        assert "Reliability over time" in page and "Record this round" not in page

    def test_who_may_record(self, client_for, study, coded, reviewer, coder, admin_user, outsider):
        data = {"round-label": "R", "round-kind": "other"}
        for user in (reviewer, coder, admin_user):
            assert (
                client_for(user).post(url("agreement_round_record", study), data).status_code == 403
            )
        assert (
            client_for(outsider).post(url("agreement_round_record", study), data).status_code == 404
        )
        assert not AgreementRound.objects.exists()

    def test_errors_are_shown_with_and_without_htmx(
        self, client_for, study, lead, coder, coder2, two_codes
    ):
        make_transcript(study, lead, coder, coder2)
        c = client_for(lead)
        page = c.get(url("agreement", study)).content.decode()
        assert "Nothing to record yet" in page
        data = {"round-label": "R", "round-kind": "other"}
        html = c.post(url("agreement_round_record", study), data).content.decode()
        assert "no figures to record" in html and "<html" in html
        html = c.post(url("agreement_round_record", study), data, headers=HX).content.decode()
        assert "no figures to record" in html and "<html" not in html
        assert not AgreementRound.objects.exists()

    def test_chart_points_thresholds_and_gaps(self, study, lead):
        def fake(number, alpha, codes=None):
            return AgreementRound(
                study=study,
                number=number,
                label=f"L{number}",
                recorded_by=lead,
                transcripts=1,
                figures={"overall": {"alpha_u": alpha}, "codes": codes or {}},
            )

        chart = reliability_chart([fake(1, 0.5), fake(2, None), fake(3, 1.0)])
        assert [p["round"].number for p in chart["points"]] == [1, 3]
        assert chart["lines"] == []  # a gap: no line across the undefined round
        top, bottom = chart["top"], chart["bottom"]
        reliable = next(t for t in chart["thresholds"] if t["label"] == "reliable")
        assert reliable["y"] == round(top + 0.2 * (bottom - top), 1)
        assert chart["points"][1]["y"] == top  # alpha 1 at the top
        chart = reliability_chart([fake(1, -0.25), fake(2, 0.7)])
        assert chart["ticks"][0]["value"] == -0.3 and chart["points"][0]["y"] < bottom
        assert len(chart["lines"]) == 1
        assert reliability_chart([]) is None
        rows = round_code_rows(
            [
                fake(1, 0.5, {"7": {"name": "Old name", "alpha_u": 0.4}}),
                fake(2, 0.6, {"7": {"name": "New name", "alpha_u": 0.9}, "8": {"name": "B"}}),
            ]
        )
        assert [r["name"] for r in rows] == ["B", "New name"]
        assert rows[1]["change"] == 0.5 and rows[0]["cells"][0] is None
        assert rows[1]["cells"][1]["verdict"] == "reliable"


def test_notes_link_is_in_every_member_s_study_nav(client_for, study, coder, admin_user):
    for user in (coder, admin_user):
        html = client_for(user).get(url("study_dashboard", study)).content.decode()
        assert f'href="{url("notes", study)}"' in html
