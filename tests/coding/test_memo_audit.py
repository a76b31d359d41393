"""Rewording a memo is on the audit trail: its length and a keyed digest, never its words.

Before, an analytic memo's event kept only the body's length and a coding's event only whether
it had a memo, so a memo reworded at the same length (or one memo replaced by another) left no
trace at all.
"""

import datetime
import hashlib
import json

import pytest
from django.urls import reverse

from coding.models import LayerRole
from coding.services import codings as coding_services
from coding.services import notes as notes_services
from tests.coding.test_codings import (  # noqa: F401 (fixtures shared with the view tests)
    code,
    coded,
    layers,
    transcript,
)
from workbench import audit
from workbench.models import AuditEvent

OLD = "Compute decides who is heard at all."
NEW = "Compute decides who is cited at all."  # the same length


def events(study, verb):
    return list(AuditEvent.objects.filter(study=study, verb=verb).order_by("id"))


def words_in(event) -> str:
    return json.dumps([event.before, event.after, event.object_repr], ensure_ascii=False)


def test_the_two_wordings_have_the_same_length():
    assert len(OLD) == len(NEW) and OLD != NEW


def test_rewording_an_analytic_memo_at_the_same_length_is_recorded(study, coder):
    memo = notes_services.memo_create(actor=coder, study=study, title="Gatekeeping", body=OLD)
    saved = notes_services.memo_update(
        actor=coder, memo=memo, version=memo.version, title="Gatekeeping", body=NEW
    )
    assert saved.version == memo.version + 1
    [event] = events(study, "memo.update")
    assert event.before == {"body_hash": audit.text_digest(OLD)}
    assert event.after == {"body_hash": audit.text_digest(NEW)}
    assert event.before != event.after
    assert "decides" not in words_in(event)

    # Saving the same words again is no change and writes no event.
    notes_services.memo_update(
        actor=coder, memo=saved, version=saved.version, title="Gatekeeping", body=NEW
    )
    assert len(events(study, "memo.update")) == 1


def test_rewording_a_debrief_notes_body_or_decisions_is_recorded(study, lead):
    common = {"title": "Debrief after I3", "held_on": datetime.date(2026, 3, 12), "kind": "debrief"}
    note = notes_services.debrief_note_create(
        actor=lead, study=study, body=OLD, decisions=OLD, **common
    )
    note = notes_services.debrief_note_update(
        actor=lead, note=note, version=note.version, body=OLD, decisions=NEW, **common
    )
    note = notes_services.debrief_note_update(
        actor=lead, note=note, version=note.version, body=NEW, decisions=NEW, **common
    )
    first, second = events(study, "debrief_note.update")
    assert first.after == {"decisions_hash": audit.text_digest(NEW)}
    assert second.after == {"body_hash": audit.text_digest(NEW)}
    assert "decides" not in words_in(first) + words_in(second)


def test_rewording_the_memo_on_a_coding_is_recorded(study, coder, coded):
    # ``coded`` carries the memo "gpu"; "GPU" has the same length and is also not empty.
    coding_services.coding_update(actor=coder, coding=coded, version=coded.version, memo="GPU")
    [event] = events(study, "coding.update")
    assert event.before == {"memo_hash": audit.text_digest("gpu")}
    assert event.after == {"memo_hash": audit.text_digest("GPU")}
    coded.refresh_from_db()
    longer_memo = "GPUs were scarce for months"
    coding_services.coding_update(
        actor=coder, coding=coded, version=coded.version, memo=longer_memo
    )
    longer = events(study, "coding.update")[-1]
    assert longer.after == {
        "memo_chars": len(longer_memo),
        "memo_hash": audit.text_digest(longer_memo),
    }
    assert "scarce" not in words_in(longer)


def test_a_new_coding_records_its_memo_as_length_and_digest(study, coder, layers, code):
    coding = coding_services.coding_create(
        actor=coder,
        layer=layers[LayerRole.PRIMARY],
        code=code,
        start=0,
        end=5,
        memo="first thoughts on scarcity",
    )
    [event] = [e for e in events(study, "coding.create") if e.object_id == coding.public_id]
    assert event.after["memo_chars"] == len("first thoughts on scarcity")
    assert event.after["memo_hash"] == audit.text_digest("first thoughts on scarcity")
    assert "scarcity" not in words_in(event)


def test_a_guessed_wording_cannot_be_confirmed_from_the_audit_csv(client_for, study, lead, coder):
    """The digest is keyed with the server's secret: the CSV holds no plain SHA-256 of the memo."""
    memo = notes_services.memo_create(actor=coder, study=study, title="Gatekeeping", body=OLD)
    notes_services.memo_update(
        actor=coder, memo=memo, version=memo.version, title="Gatekeeping", body=NEW
    )
    response = client_for(lead).get(reverse("audit_csv", args=[study.slug]))
    csv = b"".join(response.streaming_content).decode()
    assert audit.text_digest(NEW) in csv
    for text in (OLD, NEW):
        plain = hashlib.sha256(text.encode()).hexdigest()
        assert plain[:16] not in csv
        assert text not in csv


@pytest.mark.parametrize("text", ["", "x", OLD])
def test_the_digest_depends_on_the_secret_key(settings, text):
    before = audit.text_digest(text)
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789abcdefghij"
    assert (audit.text_digest(text) == before) is (text == "")
