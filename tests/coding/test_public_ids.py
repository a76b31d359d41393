"""Codings, memos and debrief notes are addressed by random public ids, never by sequence numbers.

A sequence number tells whoever sees two of them how many rows others made in between: coder A
would count the codings coder B made while both were still coding blind.
"""

import datetime
import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from coding.models import AnalyticMemo, Coding, DebriefNote, LayerRole
from coding.services import codings as coding_services
from coding.services import notes as notes_services
from tests.coding.test_codings import (  # noqa: F401 (fixtures shared with the view tests)
    HX,
    code,
    code2,
    layers,
    span,
    transcript,
)
from workbench.models import AuditEvent
from workbench.public_ids import LENGTH


def apply(coder, layer, code, text, phrase):
    start, end = span(text, phrase)
    return coding_services.coding_create(actor=coder, layer=layer, code=code, start=start, end=end)


@pytest.fixture
def a_around_b(transcript, layers, coder, coder2, code, code2):
    """Coder A codes, coder B (blind to A) codes three times, coder A codes again."""
    text = transcript.text
    first = apply(coder, layers[LayerRole.PRIMARY], code, text, "Compute")
    for phrase in ("What got", "in the way", "And then"):
        apply(coder2, layers[LayerRole.SECOND], code2, text, phrase)
    second = apply(coder, layers[LayerRole.PRIMARY], code, text, "we shipped")
    return first, second


def test_ids_are_random_and_unique(a_around_b):
    ids = list(Coding.objects.values_list("public_id", flat=True))
    assert len(set(ids)) == len(ids) == 5
    assert all(re.fullmatch(rf"[A-Za-z0-9_-]{{{LENGTH}}}", i) for i in ids)


def test_nothing_coder_a_reads_counts_coder_b_s_codings(
    client_for, study, transcript, coder, a_around_b
):
    first, second = a_around_b
    c = client_for(coder)
    page = c.get(reverse("coding_view", args=[study.slug, transcript.pk])).content.decode()
    editor = c.get(reverse("coding_editor", args=[study.slug, second.public_id]), headers=HX)
    for html in (page, editor.content.decode()):
        assert first.public_id in page and second.public_id in page
        # No sequence number of a coding anywhere: not in links, not in data attributes.
        for pk in (first.pk, second.pk):
            assert f"codings/{pk}/" not in html
            assert f'data-coding="{pk}"' not in html and f'data-codings="{pk}"' not in html
    # A sequence number in the URL does not address a coding.
    response = c.get(reverse("coding_editor", args=[study.slug, str(second.pk)]), headers=HX)
    assert response.status_code == 404


def test_the_audit_trail_names_codings_memos_and_notes_by_public_id(
    client_for, study, transcript, lead, coder, a_around_b
):
    memo = notes_services.memo_create(actor=coder, study=study, title="Scarcity", body="GPUs.")
    note = notes_services.debrief_note_create(
        actor=lead, study=study, title="Debrief 1", held_on=datetime.date(2026, 3, 12)
    )
    events = AuditEvent.objects.filter(object_type__in=["coding", "memo", "debrief_note"])
    named = {(e.object_type, e.object_id) for e in events}
    assert ("memo", memo.public_id) in named and ("debrief_note", note.public_id) in named
    for first_or_second in a_around_b:
        assert ("coding", first_or_second.public_id) in named
    assert not any(object_id.isdigit() for _, object_id in named)
    response = client_for(lead).get(reverse("audit_csv", args=[study.slug]))
    csv = b"".join(response.streaming_content).decode()
    assert memo.public_id in csv and f",memo,{memo.pk}," not in csv


def test_memos_and_notes_are_addressed_by_public_id(client_for, study, lead, coder):
    memo = notes_services.memo_create(actor=coder, study=study, title="Scarcity", body="GPUs.")
    note = notes_services.debrief_note_create(
        actor=lead, study=study, title="Debrief 1", held_on=datetime.date(2026, 3, 12)
    )
    c = client_for(lead)
    html = c.get(reverse("notes", args=[study.slug])).content.decode()
    assert f"notes/memos/{memo.public_id}/edit/" in html
    assert f"notes/debriefs/{note.public_id}/edit/" in html
    assert f"notes/memos/{memo.pk}/" not in html and f"notes/debriefs/{note.pk}/" not in html
    row = c.get(reverse("notes_memo_row", args=[study.slug, memo.public_id]), headers=HX)
    assert row.status_code == 200 and "Scarcity" in row.content.decode()
    assert c.get(reverse("notes_memo_row", args=[study.slug, str(memo.pk)])).status_code == 404
    assert c.get(reverse("notes_debrief_row", args=[study.slug, str(note.pk)])).status_code == 404


@pytest.mark.django_db(transaction=True)
class TestMigration:
    BEFORE = [("coding", "0009_blind_inductive_codes")]
    AFTER = [("coding", "0010_public_ids")]

    def migrate(self, targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    def test_existing_rows_each_get_their_own_id(
        self, study, transcript, layers, coder, lead, code
    ):
        layer = layers[LayerRole.PRIMARY]
        try:
            apps = self.migrate(self.BEFORE)
            old_coding = apps.get_model("coding", "Coding")
            old_memo = apps.get_model("coding", "AnalyticMemo")
            old_note = apps.get_model("coding", "DebriefNote")
            for start in range(3):
                old_coding.objects.create(
                    layer_id=layer.pk, code_id=code.pk, start=start, end=start + 2, snippet="x"
                )
            for title in ("one", "two"):
                old_memo.objects.create(
                    study_id=study.pk, title=title, body="b", written_by_id=coder.pk
                )
                old_note.objects.create(
                    study_id=study.pk, title=title, held_on="2026-03-12", written_by_id=lead.pk
                )
            apps = self.migrate(self.AFTER)
            for name, count in (("Coding", 3), ("AnalyticMemo", 2), ("DebriefNote", 2)):
                ids = list(
                    apps.get_model("coding", name).objects.values_list("public_id", flat=True)
                )
                assert len(ids) == count and len(set(ids)) == count
                assert all(len(i) == LENGTH for i in ids)
        finally:
            self.migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
        assert Coding.objects.count() == 3
        assert AnalyticMemo.objects.count() == DebriefNote.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_existing_codes_each_get_their_own_id(study, admin_user):
    executor = MigrationExecutor(connection)
    before, after = [("coding", "0012_undo_redo_stack")], [("coding", "0013_themes_foundation")]
    try:
        executor.migrate(before)
        apps = executor.loader.project_state(before).apps
        old_code = apps.get_model("coding", "Code")
        for name in ("Trust", "Compute", "Licences"):
            old_code.objects.create(study_id=study.pk, name=name)
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        ids = list(
            executor.loader.project_state(after)
            .apps.get_model("coding", "Code")
            .objects.values_list("public_id", flat=True)
        )
        assert len(ids) == len(set(ids)) == 3 and all(len(i) == LENGTH for i in ids)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
