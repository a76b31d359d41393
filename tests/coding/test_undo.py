"""Undo kept on the server: the page and its URL carry only a random id, never a memo; an undo
is its author's, in their own layer, usable once, for an hour, and never overwrites a later
change."""

import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from coding.models import Coding, LayerRole, UndoAction
from coding.services import codings as coding_services
from coding.services.undo import undo_record, undo_run
from tests.coding.test_codings import (  # noqa: F401 (fixtures shared with the view tests)
    HX,
    code,
    code2,
    coded,
    layers,
    span,
    transcript,
    url,
)
from tests.factories import UserFactory, give_roles
from transcripts.models import Transcript
from transcripts.services.corrections import transcript_correct
from workbench.roles import Role

TOKEN = re.compile(r'name="token" value="([^"]*)"')
MEMO = "Said off the record: the GPUs were borrowed from Dr. Ama Mensah's lab"


@pytest.fixture
def memo_coding(coded, coder):
    """The primary coder's coding, with a memo that must never land in a URL or a log."""
    return coding_services.coding_update(
        actor=coder, coding=coded, version=coded.version, memo=MEMO
    )


def token_in(html):
    return TOKEN.search(html)[1]


def undo(client, study, transcript, token):
    return client.post(
        url("coding_undo", study, transcript.pk), {"token": token}, headers=HX
    ).content.decode()


class TestNothingButAnIdTravels:
    def test_a_plain_delete_redirects_to_a_url_holding_only_an_id(
        self, client_for, study, transcript, memo_coding, coder
    ):
        response = client_for(coder).post(url("coding_delete", study, memo_coding.public_id))
        assert response.status_code == 302
        query = parse_qs(urlsplit(response.url).query)
        assert list(query) == ["undo"]
        token = query["undo"][0]
        assert uuid.UUID(token).version == 4  # random, not a counter
        assert "GPU" not in response.url and "Mensah" not in response.url
        # ...and that id brings the undo bar back on the page.
        html = client_for(coder).get(response.url).content.decode()
        assert token_in(html) == token
        assert "Deleted a “Compute as a gate” coding." in html

    def test_the_undo_form_holds_only_the_id(
        self, client_for, study, transcript, memo_coding, coder
    ):
        c = client_for(coder)
        html = c.post(
            url("coding_edit", study, memo_coding.public_id),
            {"memo": "", "fields": "all", "version": memo_coding.version},
            headers=HX,
        ).content.decode()
        form = re.search(r'<form class="undo-bar".*?</form>', html, re.S)[0]
        assert "GPU" not in form and "Mensah" not in form
        assert UndoAction.objects.get(pk=token_in(html)).inverse["before"]["memo"] == MEMO


class TestUndoWorks:
    def test_undo_of_a_memo_edit_brings_the_old_memo_back(
        self, client_for, study, transcript, memo_coding, coder
    ):
        c = client_for(coder)
        html = c.post(
            url("coding_edit", study, memo_coding.public_id),
            {"memo": "", "fields": "all", "version": memo_coding.version},
            headers=HX,
        ).content.decode()
        assert Coding.objects.get().memo == ""
        undo(c, study, transcript, token_in(html))
        assert Coding.objects.get().memo == MEMO

    def test_an_undo_is_used_once(self, client_for, study, transcript, memo_coding, coder):
        c = client_for(coder)
        token = token_in(
            c.post(url("coding_delete", study, memo_coding.public_id), headers=HX).content.decode()
        )
        undo(c, study, transcript, token)
        assert Coding.objects.get().memo == MEMO
        html = undo(c, study, transcript, token)
        assert "it was already used" in html
        assert Coding.objects.count() == 1
        assert not UndoAction.objects.filter(pk=token).exists()

    def test_undo_of_a_delete_after_a_correction_is_refused(
        self, client_for, study, transcript, memo_coding, coder, lead
    ):
        c = client_for(coder)
        token = token_in(
            c.post(url("coding_delete", study, memo_coding.public_id), headers=HX).content.decode()
        )
        t = Transcript.objects.get(pk=transcript.pk)
        first = t.utterances.get(index=0)
        edits = [(first.start, first.start, "So, ")]
        transcript_correct(actor=lead, transcript=t, version=t.version, edits=edits, reason="x")
        html = undo(c, study, transcript, token)
        assert "corrected since" in html
        assert not Coding.objects.exists()


class TestUndoIsPersonal:
    def test_another_coder_cannot_use_it(
        self, client_for, study, transcript, memo_coding, coder, coder2
    ):
        token = token_in(
            client_for(coder)
            .post(url("coding_delete", study, memo_coding.public_id), headers=HX)
            .content.decode()
        )
        html = undo(client_for(coder2), study, transcript, token)
        assert "expired or is not yours" in html
        assert not Coding.objects.exists()
        assert UndoAction.objects.filter(pk=token).exists()  # still the author's to use
        # Nor does its id show the other coder the author's undo bar (its label).
        page = client_for(coder2).get(url("coding_view", study, transcript.pk) + f"?undo={token}")
        assert "Deleted a" not in page.content.decode()

    def test_it_works_only_for_its_author_in_its_layer(
        self, study, transcript, memo_coding, coder, coder2
    ):
        primary = memo_coding.layer
        second = transcript.layers.get(role=LayerRole.SECOND)
        done = undo_record(actor=coder2, layer=second, label="x", op="delete", ids=[])
        with pytest.raises(ValidationError, match="expired or is not yours"):
            undo_run(actor=coder2, layer=primary, token=done["token"])
        with pytest.raises(ValidationError, match="expired or is not yours"):
            undo_run(actor=coder, layer=primary, token=done["token"])

    @pytest.mark.parametrize("bad", ["", "nonsense", str(uuid.uuid4()), "1 OR 1=1"])
    def test_unknown_ids_get_a_clear_message(
        self, client_for, study, transcript, memo_coding, coder, bad
    ):
        html = undo(client_for(coder), study, transcript, bad)
        assert "expired or is not yours" in html
        assert Coding.objects.get().memo == MEMO


class TestExpiry:
    def test_after_an_hour_it_is_refused_as_expired(
        self, client_for, study, transcript, memo_coding, coder
    ):
        c = client_for(coder)
        token = token_in(
            c.post(url("coding_delete", study, memo_coding.public_id), headers=HX).content.decode()
        )
        UndoAction.objects.filter(pk=token).update(
            created_at=timezone.now() - timedelta(minutes=61)
        )
        page = c.get(url("coding_view", study, transcript.pk) + f"?undo={token}").content.decode()
        assert 'class="undo-bar"' not in page
        html = undo(c, study, transcript, token)
        assert "That undo has expired" in html
        assert not Coding.objects.exists()

    def test_expired_undos_are_swept(self, study, transcript, coded, coder, coder2):
        primary, second = coded.layer, transcript.layers.get(role=LayerRole.SECOND)
        now = timezone.now()
        mine = undo_record(actor=coder, layer=primary, label="old", op="delete", ids=[])
        theirs_recent = undo_record(actor=coder2, layer=second, label="b", op="delete", ids=[])
        theirs_forgotten = undo_record(actor=coder2, layer=second, label="c", op="delete", ids=[])
        UndoAction.objects.filter(pk=mine["token"]).update(created_at=now - timedelta(hours=2))
        UndoAction.objects.filter(pk=theirs_recent["token"]).update(
            created_at=now - timedelta(hours=2)
        )
        UndoAction.objects.filter(pk=theirs_forgotten["token"]).update(
            created_at=now - timedelta(days=2)
        )
        fresh = undo_record(actor=coder, layer=primary, label="new", op="delete", ids=[])
        left = set(UndoAction.objects.values_list("pk", flat=True))
        # The author's own expired undo and anyone's long-forgotten one are gone; another
        # coder's recently expired one waits for their next action (to say "expired" then).
        assert {str(pk) for pk in left} == {fresh["token"], theirs_recent["token"]}

    def test_undos_go_with_their_layer(self, study, transcript, coded, coder, coder2, lead):
        from coding.services import assignments as assignment_services

        third = UserFactory(username="ines")
        give_roles(study, third, Role.CODER)
        second = transcript.layers.get(role=LayerRole.SECOND)
        undo_record(actor=coder2, layer=second, label="x", op="delete", ids=[])
        assignment_services.assignment_set(
            actor=lead, transcript=transcript, primary=coder, second=third, mode="independent"
        )
        assert not UndoAction.objects.filter(user=coder2).exists()


class TestApplyingAgain:
    def test_a_second_identical_apply_makes_nothing_and_keeps_the_first_undo(
        self, client_for, study, transcript, layers, coder, code
    ):
        c = client_for(coder)
        s, e = span(transcript.text, "we waited weeks")
        data = {"start": s, "end": e, "code": code.pk}
        first = c.post(url("coding_apply", study, transcript.pk), data, headers=HX)
        second = c.post(url("coding_apply", study, transcript.pk), data, headers=HX)
        assert first.status_code == second.status_code == 200
        assert Coding.objects.count() == 1
        # A double click answers the same undo both times: undoing removes the one coding.
        assert token_in(first.content.decode()) == token_in(second.content.decode())
        undo(c, study, transcript, token_in(second.content.decode()))
        assert not Coding.objects.exists()

    def test_applying_a_code_already_there_offers_no_undo_that_would_delete_it(
        self, client_for, study, transcript, memo_coding, coder
    ):
        # The coding was made long ago (its undo is gone): applying it again changes nothing,
        # says so, and offers no undo that would delete the older coding and its memo.
        UndoAction.objects.all().delete()
        c = client_for(coder)
        data = {"start": memo_coding.start, "end": memo_coding.end, "code": memo_coding.code_id}
        html = c.post(url("coding_apply", study, transcript.pk), data, headers=HX).content.decode()
        assert "“Compute as a gate” was already applied here." in html
        assert not TOKEN.search(html)
        assert Coding.objects.get().memo == MEMO
