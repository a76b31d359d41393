"""Correcting a transcript's text after coding began: the service, pseudonymisation of a coded
transcript, find-and-replace, and the correction page."""

import json
import threading
import unicodedata

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coding.models import Coding, CodingMode, Layer, LayerRole
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services.codebook import code_create
from tests.factories import (
    ready_transcript,
)
from transcripts.models import Transcript
from transcripts.services import consent as consent_services
from transcripts.services import pseudonyms as pseudonym_services
from transcripts.services.corrections import replace_all, transcript_correct
from transcripts.services.transcripts import text_sha256
from workbench.models import AuditEvent

HTMX = {"HX-Request": "true"}

TEXT = (
    "Interviewer: What got in the way?\n\n"
    "I1: Compute, first. 我们没有GPU 🤗 so we waited weeks.\n\n"
    "Interviewer: And the team?\n\n"
    "I1: A small team of four, led by Ama Mensah. ผมรอ GPU หลายสัปดาห์.\n"
)
TURNS = [
    "What got in the way?",
    "Compute, first. 我们没有GPU 🤗 so we waited weeks.",
    "And the team?",
    "A small team of four, led by Ama Mensah. ผมรอ GPU หลายสัปดาห์.",
]

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite locks the file)"
)


def span_of(text, phrase):
    start = text.index(phrase)
    return start, start + len(phrase)


@pytest.fixture
def transcript(study, lead):
    return ready_transcript(study, lead, TEXT)


@pytest.fixture
def coded(transcript, admin_user, lead, coder, coder2):
    """Codings in both layers: the primary coder's and the second coder's."""
    assignment_services.assignment_set(
        actor=lead,
        transcript=transcript,
        primary=coder,
        second=coder2,
        mode=CodingMode.INDEPENDENT,
    )
    layers = {layer.role: layer for layer in transcript.layers.all()}
    codes = {}

    def code(role, name, phrase):
        if name not in codes:
            codes[name] = code_create(actor=admin_user, study=transcript.study, name=name)
        layer = layers[role]
        start, end = span_of(transcript.text, phrase)
        return coding_services.coding_create(
            actor=layer.coder, layer=layer, code=codes[name], start=start, end=end
        )

    return {
        "gate": code(LayerRole.PRIMARY, "Compute as a gate", "Compute, first."),
        "wait": code(LayerRole.PRIMARY, "Waiting", "we waited weeks"),
        "team": code(LayerRole.SECOND, "Small team", "A small team of four"),
        "thai": code(LayerRole.SECOND, "Waiting", "ผมรอ GPU หลายสัปดาห์"),
    }


def state(transcript):
    """Everything a refused correction must leave exactly as it was."""
    transcript = Transcript.objects.get(pk=transcript.pk)
    return (
        transcript.text,
        transcript.text_sha256,
        transcript.version,
        list(transcript.utterances.order_by("index").values_list("index", "start", "end")),
        list(
            Coding.objects.filter(layer__transcript=transcript)
            .order_by("pk")
            .values_list("pk", "start", "end", "snippet", "needs_recheck", "version")
        ),
    )


def turn_texts(transcript):
    transcript = Transcript.objects.get(pk=transcript.pk)
    return [transcript.text[u.start : u.end] for u in transcript.utterances.order_by("index")]


def turn_edit(transcript, index, new_text):
    """Replace turn ``index`` as the correction page does: the whole turn, the diff finds why."""
    utterance = transcript.utterances.get(index=index)
    return (utterance.start, utterance.end, new_text)


def correct(actor, transcript, edits, reason="typo", version=None):
    transcript = Transcript.objects.get(pk=transcript.pk)
    return transcript_correct(
        actor=actor,
        transcript=transcript,
        version=transcript.version if version is None else version,
        edits=edits,
        reason=reason,
    )


def fresh(coding):
    coding.refresh_from_db()
    return coding


def audit_text():
    return "\n".join(
        json.dumps([e.object_repr, e.before, e.after], ensure_ascii=False)
        for e in AuditEvent.objects.all()
    )


# --- the service ---------------------------------------------------------------------------


class TestCodingsKeepTheirWords:
    def test_an_edit_before_every_coding_moves_them_all(self, coded, lead, transcript):
        old = {name: (c.start, c.snippet) for name, c in coded.items()}
        result = correct(
            lead, transcript, [turn_edit(transcript, 0, "What, in short, got in the way?")]
        )
        text = result.transcript.text
        for name, coding in coded.items():
            coding = fresh(coding)
            assert coding.snippet == text[coding.start : coding.end] == old[name][1]
            assert coding.start == old[name][0] + len(", in short,")
            assert not coding.needs_recheck and coding.version == 2
        assert turn_texts(transcript) == ["What, in short, got in the way?", *TURNS[1:]]
        assert (result.reanchored.codings_moved, result.reanchored.codings_flagged) == (4, 0)
        assert result.reanchored.turns_changed == 1

    def test_a_coding_whose_words_change_is_flagged(self, coded, lead, transcript):
        new_turn = TURNS[1].replace("waited weeks", "waited three weeks")
        result = correct(lead, transcript, [turn_edit(transcript, 1, new_turn)])
        text = result.transcript.text
        wait, gate = fresh(coded["wait"]), fresh(coded["gate"])
        assert wait.snippet == text[wait.start : wait.end] == "we waited three weeks"
        assert wait.needs_recheck and wait.version == 2
        # Before the edit: not touched at all.
        assert (gate.snippet, gate.needs_recheck, gate.version) == ("Compute, first.", False, 1)
        # After it, in the second coder's layer: moved, same words, not flagged.
        for name in ("team", "thai"):
            coding = fresh(coded[name])
            assert coding.layer.role == LayerRole.SECOND
            assert coding.snippet == text[coding.start : coding.end] == coded[name].snippet
            assert not coding.needs_recheck
        assert result.summary() == "3 codings moved, 1 flagged to re-check."

    def test_a_replacement_across_a_codings_start(self, coded, lead, transcript):
        new_turn = TURNS[3].replace("A small", "One tiny")
        result = correct(lead, transcript, [turn_edit(transcript, 3, new_turn)])
        team = fresh(coded["team"])
        assert team.snippet == result.transcript.text[team.start : team.end]
        assert team.snippet.endswith("tiny team of four") and team.needs_recheck
        assert fresh(coded["thai"]).snippet == "ผมรอ GPU หลายสัปดาห์"

    def test_a_deletion_across_a_codings_end(self, coded, lead, transcript):
        new_turn = TURNS[1].replace(" weeks.", ".")
        result = correct(lead, transcript, [turn_edit(transcript, 1, new_turn)])
        wait = fresh(coded["wait"])
        assert wait.snippet == result.transcript.text[wait.start : wait.end] == "we waited"
        assert wait.needs_recheck

    def test_several_edits_in_any_script(self, coded, lead, transcript):
        text, wait_start = transcript.text, coded["wait"].start
        emoji, _ = span_of(text, "🤗")
        thai, _ = span_of(text, "หลาย")
        edits = [(emoji, emoji, "🤗"), (thai, thai + len("หลาย"), "สอง")]
        result = correct(lead, transcript, edits)
        assert result.transcript.text == text.replace("🤗", "🤗🤗").replace("หลาย", "สอง")
        wait, thai_coding = fresh(coded["wait"]), fresh(coded["thai"])
        assert wait.snippet == "we waited weeks" and not wait.needs_recheck
        assert wait.start == wait_start + 1  # an emoji is one code point
        assert thai_coding.snippet == "ผมรอ GPU สองสัปดาห์" and thai_coding.needs_recheck
        assert result.edits == 2 and result.removed == 4 and result.inserted == 4

    def test_the_text_hash_and_version_follow(self, coded, lead, transcript):
        result = correct(lead, transcript, [turn_edit(transcript, 2, "And your team?")])
        saved = Transcript.objects.get(pk=transcript.pk)
        assert saved.text == result.transcript.text
        assert saved.text_sha256 == text_sha256(saved.text)
        assert saved.version == transcript.version + 1

    def test_replacements_are_made_canonical(self, lead, transcript):
        correct(lead, transcript, [turn_edit(transcript, 2, "And the\r\nte\u0301am?")])
        assert turn_texts(transcript)[2] == "And the\nt\u00e9am?"

    def test_a_transcript_without_codings_can_be_corrected(self, lead, transcript):
        result = correct(lead, transcript, [turn_edit(transcript, 0, "What got in your way?")])
        assert result.summary() == "0 codings moved, 0 flagged to re-check."


class TestRefusals:
    def test_deleting_all_of_a_codings_words(self, coded, lead, transcript):
        before = state(transcript)
        start, end = span_of(transcript.text, "A small team of four, ")
        with pytest.raises(ValidationError) as caught:
            correct(lead, transcript, [(start, end, "")])
        assert caught.value.messages == [
            "1 coding (Small team) covers only text this correction deletes: "
            "adjust or delete it first."
        ]
        assert state(transcript) == before
        assert not AuditEvent.objects.filter(verb="transcript.correct").exists()

    def test_two_codings_are_named(self, coded, lead, transcript):
        before = state(transcript)
        with pytest.raises(ValidationError) as caught:
            correct(lead, transcript, [turn_edit(transcript, 1, ".")])
        assert caught.value.messages == [
            "2 codings (Compute as a gate, Waiting) cover only text this correction deletes: "
            "adjust or delete them first."
        ]
        assert state(transcript) == before

    def test_emptying_a_turn(self, coded, lead, transcript):
        before = state(transcript)
        start, end = span_of(transcript.text, "And the team?")
        with pytest.raises(ValidationError, match=r"would empty turn 3 \(Interviewer\)"):
            correct(lead, transcript, [(start, end, " ")])
        assert state(transcript) == before

    def test_a_stale_version(self, coded, lead, transcript):
        correct(lead, transcript, [turn_edit(transcript, 0, "What got in your way?")])
        before = state(transcript)
        with pytest.raises(ValidationError, match="changed by someone else"):
            correct(lead, transcript, [turn_edit(transcript, 2, "And?")], version=1)
        assert state(transcript) == before

    @pytest.mark.parametrize(
        "edits, message",
        [
            ([], "Nothing to correct"),
            ([(0, 5, "Inter")], "Nothing to correct"),
            ([(0, 10_000, "x")], "lies outside the text"),
            ([(5, 3, "x")], "lies outside the text"),
            ([(10, 20, "x"), (15, 25, "y")], "must not overlap"),
            ([(20, 25, "x"), (0, 5, "y")], "must not overlap"),
            ([(0, 5)], "needs a start, an end and the new text"),
            ([(True, 5, "x")], "needs a start, an end and the new text"),
            ([(0, 0, "\x00")], "NUL"),
            ([(1, 1, "\u0301")], "canonical Unicode form"),
        ],
    )
    def test_bad_edits(self, coded, lead, transcript, edits, message):
        before = state(transcript)
        with pytest.raises(ValidationError, match=message):
            correct(lead, transcript, edits)
        assert state(transcript) == before

    def test_a_reason_is_required(self, lead, transcript):
        with pytest.raises(ValidationError) as caught:
            correct(lead, transcript, [(0, 0, "x")], reason="  ")
        assert "reason" in caught.value.message_dict

    def test_a_withdrawn_participants_transcript_is_locked(self, admin_user, lead, transcript):
        consent_services.consent_withdraw(
            actor=admin_user,
            participant=transcript.participant,
            effective_on=timezone.localdate(),
            reason="withdrew",
        )
        before = state(transcript)
        with pytest.raises(ValidationError, match="locked"):
            correct(lead, transcript, [turn_edit(transcript, 0, "Why?")])
        assert state(transcript) == before


class TestAudit:
    def test_counts_and_hashes_never_the_text(self, coded, lead, transcript):
        old_sha = transcript.text_sha256
        new_turn = TURNS[1].replace("waited weeks", "waited many weeks")
        correct(lead, transcript, [turn_edit(transcript, 1, new_turn)], reason="typo in turn 2")
        event = AuditEvent.objects.get(verb="transcript.correct")
        saved = Transcript.objects.get(pk=transcript.pk)
        assert event.before == {"sha256 of text": old_sha, "characters": len(TEXT)}
        assert event.after == {
            "sha256 of text": saved.text_sha256,
            "characters": len(saved.text),
            "edits": 1,
            "characters removed": 0,
            "characters inserted": len("many "),
            "turns changed": 1,
            "codings moved": 3,
            "codings flagged": 1,
            "reason": "typo in turn 2",
        }
        trail = audit_text()
        for words in ["many", "waited", "first.", "Mensah", "หลาย", "我们", *TURNS]:
            assert words not in trail


class TestLocking:
    @on_postgresql
    def test_it_locks_the_transcript_its_layers_and_codings(self, coded, lead, transcript):
        with CaptureQueriesContext(connection) as queries:
            correct(lead, transcript, [turn_edit(transcript, 0, "Why?")])
        locking = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
        for table in ("transcripts_transcript", "coding_layer", "coding_coding"):
            assert any(f'FROM "{table}"' in sql for sql in locking), table

    @on_postgresql
    @pytest.mark.django_db(transaction=True)
    def test_a_coding_being_made_holds_the_correction_back(self, coded, lead, transcript):
        """coding_create locks its layer: while it does, a correction cannot go ahead."""
        layer = Layer.objects.get(transcript=transcript, role=LayerRole.PRIMARY)
        held, release = threading.Event(), threading.Event()

        def coder_at_work():
            try:
                with transaction.atomic():
                    Layer.objects.select_for_update().get(pk=layer.pk)
                    held.set()
                    release.wait(10)
            finally:
                connection.close()

        worker = threading.Thread(target=coder_at_work)
        worker.start()
        try:
            assert held.wait(10)
            before = state(transcript)
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '200ms'")
                with pytest.raises(OperationalError):
                    correct(lead, transcript, [turn_edit(transcript, 0, "Why?")])
            assert state(transcript) == before
        finally:
            release.set()
            worker.join()
        correct(lead, transcript, [turn_edit(transcript, 0, "Why?")])  # free again
        assert turn_texts(transcript)[0] == "Why?"


# --- pseudonymising a coded transcript -----------------------------------------------------


def test_pseudonymising_a_coded_transcript_moves_its_codings(coded, coder2, lead, transcript):
    """Once refused; now the codings move with their words and those on a name are flagged."""
    layer = Layer.objects.get(transcript=transcript, role=LayerRole.SECOND)
    start, end = span_of(transcript.text, "led by Ama Mensah")
    named = coding_services.coding_create(
        actor=coder2, layer=layer, code=coded["team"].code, start=start, end=end
    )
    pseudonym_services.pseudonym_rule_create(
        actor=lead, study=transcript.study, find="Ama Mensah", replace_with="[P2]"
    )
    transcript.refresh_from_db()
    pseudonym_services.transcript_pseudonymise(
        actor=lead,
        transcript=transcript,
        version=transcript.version,
        expected_sha256=transcript.text_sha256,
    )
    text = Transcript.objects.get(pk=transcript.pk).text
    named = fresh(named)
    assert named.snippet == text[named.start : named.end] == "led by [P2]"
    assert named.needs_recheck
    for coding in coded.values():
        moved = fresh(coding)
        assert moved.snippet == text[moved.start : moved.end] == coding.snippet
        assert not moved.needs_recheck
    assert turn_texts(transcript)[3] == TURNS[3].replace("Ama Mensah", "[P2]")
    event = AuditEvent.objects.get(verb="transcript.pseudonymise")
    assert (event.after["codings moved"], event.after["codings flagged"]) == (2, 1)
    assert "Ama" not in audit_text()


# --- find and replace ----------------------------------------------------------------------


class TestReplaceAll:
    def test_whole_words_only(self):
        text = "team teams steam team."
        assert replace_all(text, "team", "crew") == [(0, 4, "crew"), (17, 21, "crew")]
        assert len(replace_all(text, "team", "crew", whole_word=False)) == 4

    def test_exact_case(self):
        assert replace_all("Anna, anna, ANNA", "Anna", "[P1]") == [(0, 4, "[P1]")]

    def test_scripts_without_spaces_match_inside_words(self):
        text = "ผมรอ GPU หลายสัปดาห์ 我和张伟"
        assert [text[s:e] for s, e, _ in replace_all(text, "สัปดาห์", "วัน")] == ["สัปดาห์"]
        assert [text[s:e] for s, e, _ in replace_all(text, "张伟", "[P3]")] == ["张伟"]

    def test_occurrences_never_overlap(self):
        assert replace_all("aaa", "aa", "b", whole_word=False) == [(0, 2, "b")]

    def test_nothing_to_find(self):
        assert replace_all("text", "", "x") == []
        assert replace_all("text", "absent", "x") == []

    def test_the_edits_apply(self, coded, lead, transcript):
        edits = replace_all(transcript.text, "team", "crew")
        result = correct(lead, transcript, edits, reason="misheard")
        assert result.transcript.text == TEXT.replace("team", "crew")
        team = fresh(coded["team"])
        assert team.snippet == "A small crew of four" and team.needs_recheck


# --- the page ------------------------------------------------------------------------------


def url(name, transcript):
    return reverse(name, kwargs={"study_slug": transcript.study.slug, "pk": transcript.pk})


def turn_url(transcript, index, **extra):
    query = "&".join([f"turn={index}", *(f"{k}={v}" for k, v in extra.items())])
    return f"{url('transcript_correct_turn', transcript)}?{query}"


def turn_post(transcript, index, text, reason="typo", version=None):
    prefix = f"turn-{index}-"
    version = Transcript.objects.get(pk=transcript.pk).version if version is None else version
    return {prefix + "text": text, prefix + "reason": reason, prefix + "version": version}


class TestPage:
    def test_who_may_correct(self, client_for, transcript, admin_user, lead, coder, outsider):
        page = url("transcript_correct", transcript)
        assert client_for(lead).get(page).status_code == 200
        assert client_for(admin_user).get(page).status_code == 200
        assert client_for(coder).get(page).status_code == 403
        assert client_for(outsider).get(page).status_code == 404

    def test_the_reading_page_links_here_for_those_who_may(
        self, client_for, transcript, lead, coder
    ):
        link = url("transcript_correct", transcript)
        reading = url("transcript_detail", transcript)
        assert link in client_for(lead).get(reading).content.decode()
        assert link not in client_for(coder).get(reading).content.decode()

    def test_it_lists_the_turns_and_their_codings(self, client_for, coded, lead, transcript):
        page = client_for(lead).get(url("transcript_correct", transcript)).content.decode()
        for turn in TURNS:
            assert turn in page
        assert "4 codings in all layers" in page
        assert 'aria-label="Correct turn 2"' in page

    def test_a_locked_transcript_stays_closed(self, client_for, admin_user, lead, transcript):
        consent_services.consent_withdraw(
            actor=admin_user,
            participant=transcript.participant,
            effective_on=timezone.localdate(),
            reason="withdrew",
        )
        client = client_for(lead)
        response = client.get(url("transcript_correct", transcript))
        assert response.status_code == 403 and TURNS[0] not in response.content.decode()
        response = client.post(turn_url(transcript, 0), turn_post(transcript, 0, "Why?"))
        assert response.status_code == 403
        assert turn_texts(transcript)[0] == TURNS[0]


class TestTurnForm:
    def test_htmx_opens_the_form_in_place(self, client_for, lead, transcript):
        response = client_for(lead).get(turn_url(transcript, 1), headers=HTMX)
        body = response.content.decode()
        assert response.status_code == 200 and "<html" not in body
        assert 'id="turn-1-body"' in body and "<textarea" in body and TURNS[1] in body
        assert 'name="turn-1-reason"' in body

    def test_without_javascript_the_page_opens_with_the_form(self, client_for, lead, transcript):
        body = client_for(lead).get(turn_url(transcript, 1)).content.decode()
        assert "<html" in body and 'name="turn-1-text"' in body and TURNS[3] in body

    def test_cancel_puts_the_turn_back(self, client_for, lead, transcript):
        client = client_for(lead)
        body = client.get(turn_url(transcript, 1, cancel=1), headers=HTMX).content.decode()
        assert 'id="turn-1-body"' in body and "<textarea" not in body and TURNS[1] in body
        response = client.get(turn_url(transcript, 1, cancel=1))
        assert response.status_code == 302 and response.url.endswith("#turn-1")

    def test_an_unknown_turn(self, client_for, coded, lead, transcript):
        before, events = state(transcript), AuditEvent.objects.count()
        client = client_for(lead)
        # A well-formed correction, but for a turn the transcript does not have.
        data = turn_post(transcript, 99, "Made up.") | turn_post(transcript, 1, "Made up.")
        response = client.post(turn_url(transcript, 99), data)
        assert response.status_code == 302
        assert response.url == url("transcript_correct", transcript) + "#turns"
        assert state(transcript) == before and AuditEvent.objects.count() == events
        page = client.get(response.url).content.decode()
        assert "That turn was not found; choose one from the list." in page
        assert "Made up." not in page and TURNS[1] in page

    def test_an_unknown_turn_with_htmx(self, client_for, coded, lead, transcript):
        before, events = state(transcript), AuditEvent.objects.count()
        response = client_for(lead).post(
            turn_url(transcript, 99), turn_post(transcript, 99, "Made up."), headers=HTMX
        )
        body = response.content.decode()
        assert response.status_code == 200 and response["HX-Retarget"] == "#correct"
        assert "That turn was not found; choose one from the list." in body
        assert "Made up." not in body and TURNS[1] in body
        assert state(transcript) == before and AuditEvent.objects.count() == events

    def test_saving_with_htmx_redraws_the_page_with_the_result(
        self, client_for, coded, lead, transcript
    ):
        new_turn = TURNS[1].replace("waited weeks", "waited three weeks")
        response = client_for(lead).post(
            turn_url(transcript, 1), turn_post(transcript, 1, new_turn), headers=HTMX
        )
        body = response.content.decode()
        assert response.status_code == 200 and response["HX-Retarget"] == "#correct"
        assert "Saved turn 2. 3 codings moved, 1 flagged to re-check." in body
        assert 'data-focus="turn-1"' in body and new_turn in body
        assert turn_texts(transcript)[1] == new_turn
        assert fresh(coded["wait"]).needs_recheck

    def test_saving_without_javascript_redirects(self, client_for, coded, lead, transcript):
        client = client_for(lead)
        response = client.post(turn_url(transcript, 0), turn_post(transcript, 0, "Why?\r\n"))
        assert response.status_code == 302 and response.url.endswith("#turn-0")
        page = client.get(response.url).content.decode()
        assert "Saved turn 1. 4 codings moved, 0 flagged to re-check." in page
        assert turn_texts(transcript)[0] == "Why?"

    def test_a_reason_is_required(self, client_for, lead, transcript):
        before = state(transcript)
        response = client_for(lead).post(
            turn_url(transcript, 0), turn_post(transcript, 0, "Why?", reason=""), headers=HTMX
        )
        assert "Say why the text is corrected" in response.content.decode()
        assert state(transcript) == before

    def test_a_stale_form_is_refused_clearly(self, client_for, coded, lead, transcript):
        correct(lead, transcript, [turn_edit(transcript, 2, "And your team?")])
        before = state(transcript)
        for headers in (HTMX, {}):
            response = client_for(lead).post(
                turn_url(transcript, 0),
                turn_post(transcript, 0, "Why?", version=transcript.version),
                headers=headers,
            )
            assert response.status_code == 200
            assert "was changed by someone else" in response.content.decode()
        assert state(transcript) == before

    def test_a_lost_coding_is_named(self, client_for, coded, lead, transcript):
        before = state(transcript)
        response = client_for(lead).post(
            turn_url(transcript, 1), turn_post(transcript, 1, "."), headers=HTMX
        )
        body = response.content.decode()
        assert "2 codings (Compute as a gate, Waiting) cover only text" in body
        assert state(transcript) == before


class TestReplaceAllPage:
    def form(self, transcript, action="preview", **extra):
        data = {"find": "team", "replace_with": "crew", "whole_word": "on", "reason": "misheard"}
        return data | {"action": action} | extra

    def test_preview_counts_and_changes_nothing(self, client_for, coded, lead, transcript):
        before = state(transcript)
        response = client_for(lead).post(
            url("transcript_replace_all", transcript), self.form(transcript)
        )
        body = response.content.decode()
        assert response.status_code == 200 and "<html" in body
        assert "2 occurrences of “team”" in body and "Replace 2 occurrences" in body
        assert "turn 3 (Interviewer)" in body and "turn 4 (I1)" in body
        assert state(transcript) == before

    def test_preview_with_htmx_is_a_fragment(self, client_for, lead, transcript):
        response = client_for(lead).post(
            url("transcript_replace_all", transcript), self.form(transcript), headers=HTMX
        )
        body = response.content.decode()
        assert "<html" not in body and 'id="replace"' in body and "2 occurrences" in body

    def test_apply_without_javascript(self, client_for, coded, lead, transcript):
        client = client_for(lead)
        data = self.form(transcript, "apply", version=transcript.version)
        response = client.post(url("transcript_replace_all", transcript), data)
        assert response.status_code == 302
        assert Transcript.objects.get(pk=transcript.pk).text == TEXT.replace("team", "crew")
        assert fresh(coded["team"]).snippet == "A small crew of four"
        page = client.get(response.url).content.decode()
        assert "Replaced 2 occurrences. 0 codings moved, 1 flagged to re-check." in page

    def test_apply_with_htmx_redraws_the_page(self, client_for, coded, lead, transcript):
        data = self.form(transcript, "apply", version=transcript.version, replace_with="group")
        response = client_for(lead).post(
            url("transcript_replace_all", transcript), data, headers=HTMX
        )
        assert response["HX-Retarget"] == "#correct"
        body = response.content.decode()
        assert "Replaced 2 occurrences. 2 codings moved, 1 flagged to re-check." in body
        assert "A small group of four" in body

    def test_apply_needs_a_preview_first(self, client_for, lead, transcript):
        before = state(transcript)
        response = client_for(lead).post(
            url("transcript_replace_all", transcript), self.form(transcript, "apply")
        )
        assert "Preview the occurrences first" in response.content.decode()
        assert state(transcript) == before

    def test_a_stale_preview_is_refused(self, client_for, lead, transcript):
        data = self.form(transcript, "apply", version=transcript.version)
        correct(lead, transcript, [turn_edit(transcript, 0, "Why?")])
        before = state(transcript)
        response = client_for(lead).post(url("transcript_replace_all", transcript), data)
        assert "was changed by someone else" in response.content.decode()
        assert state(transcript) == before

    def test_nothing_found_and_no_reason(self, client_for, lead, transcript):
        client = client_for(lead)
        missing = self.form(transcript, find="budget")
        body = client.post(url("transcript_replace_all", transcript), missing).content.decode()
        assert "“budget” does not occur in the text." in body
        reasonless = self.form(transcript, reason="")
        body = client.post(url("transcript_replace_all", transcript), reasonless).content.decode()
        assert "Say why the text is corrected" in body

    def test_a_deletion_that_would_lose_a_coding_is_refused(
        self, client_for, coded, lead, transcript
    ):
        before = state(transcript)
        data = self.form(
            transcript,
            "apply",
            version=transcript.version,
            find="Compute, first.",
            replace_with="",
            whole_word="",
        )
        body = client_for(lead).post(url("transcript_replace_all", transcript), data)
        assert "1 coding (Compute as a gate) covers only text" in body.content.decode()
        assert state(transcript) == before


def test_text_in_canonical_form_stays_canonical(lead, transcript):
    """A decomposed accent typed into a correction is stored composed, like imported text."""
    edits = replace_all(transcript.text, "team", unicodedata.normalize("NFD", "équipe"))
    correct(lead, transcript, edits)
    text = Transcript.objects.get(pk=transcript.pk).text
    assert unicodedata.is_normalized("NFC", text) and "équipe" in text
