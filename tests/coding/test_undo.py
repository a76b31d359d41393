"""Undo and redo kept on the server: two stacks per coder and transcript. The page and its URL
carry only random ids, never a memo; steps are their author's, in their own layer, only the top
one can be carried out, several in a row work across create / edit / delete, a new action
clears the redo stack, a submitted layer has nothing left to undo, and a later change is never
overwritten."""

import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from coding.models import Coding, LayerRole, UndoAction
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services.undo import undo_record, undo_step
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

UNDO = re.compile(
    r'<form class="undo-form".*?name="token" value="([^"]*)".*?data-undo[^>]*>([^<]*)<', re.S
)
REDO = re.compile(
    r'<form class="redo-form".*?name="token" value="([^"]*)".*?data-redo[^>]*>([^<]*)<', re.S
)
MEMO = "Said off the record: the GPUs were borrowed from Dr. Ama Mensah's lab"


@pytest.fixture
def memo_coding(coded, coder):
    """The primary coder's coding, with a memo that must never land in a URL or a log."""
    return coding_services.coding_update(
        actor=coder, coding=coded, version=coded.version, memo=MEMO
    )


def token_in(html):
    return UNDO.search(html)[1]


def undo_label(html):
    found = UNDO.search(html)
    return found[2].strip() if found else None


def redo_label(html):
    found = REDO.search(html)
    return found[2].strip() if found else None


def undo(client, study, transcript, token):
    return client.post(
        url("coding_undo", study, transcript.pk), {"token": token}, headers=HX
    ).content.decode()


def redo(client, study, transcript, token):
    return client.post(
        url("coding_redo", study, transcript.pk), {"token": token}, headers=HX
    ).content.decode()


def post(client, name, study, pk, data=None):
    return client.post(url(name, study, pk), data or {}, headers=HX).content.decode()


def state():
    """The codings as a coder sees them: code name, coded words, memo."""
    return sorted(Coding.objects.values_list("code__name", "snippet", "memo"))


class TestNothingButAnIdTravels:
    def test_a_plain_delete_redirects_to_the_page_which_offers_the_undo(
        self, client_for, study, transcript, memo_coding, coder
    ):
        response = client_for(coder).post(url("coding_delete", study, memo_coding.public_id))
        assert response.status_code == 302
        assert urlsplit(response.url).path == url("coding_view", study, transcript.pk)
        assert "GPU" not in response.url and "Mensah" not in response.url
        html = client_for(coder).get(response.url).content.decode()
        assert uuid.UUID(token_in(html)).version == 4  # random, not a counter
        assert undo_label(html) == "Undo: deleted the Compute as a gate coding of “我们没有GPU 🤗”"
        assert "Deleted a “Compute as a gate” coding." in html  # the message after the redirect

    def test_the_undo_form_holds_only_the_id(
        self, client_for, study, transcript, memo_coding, coder
    ):
        html = post(
            client_for(coder),
            "coding_edit",
            study,
            memo_coding.public_id,
            {"memo": "", "fields": "all", "version": memo_coding.version},
        )
        form = re.search(r'<div class="undo-bar">.*?</div>', html, re.S)[0]
        assert "GPU" not in form.replace("我们没有GPU", "") and "Mensah" not in form
        assert UndoAction.objects.get(pk=token_in(html)).inverse["to"]["memo"] == MEMO


class TestUndoWorks:
    def test_undo_of_a_memo_edit_brings_the_old_memo_back(
        self, client_for, study, transcript, memo_coding, coder
    ):
        c = client_for(coder)
        html = post(
            c,
            "coding_edit",
            study,
            memo_coding.public_id,
            {"memo": "", "fields": "all", "version": memo_coding.version},
        )
        assert Coding.objects.get().memo == ""
        assert undo_label(html).startswith("Undo: edited the memo of the Compute as a gate coding")
        undo(c, study, transcript, token_in(html))
        assert Coding.objects.get().memo == MEMO

    def test_an_undo_is_used_once(self, client_for, study, transcript, memo_coding, coder):
        c = client_for(coder)
        token = token_in(post(c, "coding_delete", study, memo_coding.public_id))
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
        token = token_in(post(c, "coding_delete", study, memo_coding.public_id))
        t = Transcript.objects.get(pk=transcript.pk)
        first = t.utterances.get(index=0)
        edits = [(first.start, first.start, "So, ")]
        transcript_correct(actor=lead, transcript=t, version=t.version, edits=edits, reason="x")
        html = undo(c, study, transcript, token)
        assert "corrected since" in html
        assert not Coding.objects.exists()
        # The step can never apply now: it left the stack instead of blocking the next Ctrl+Z.
        assert not UndoAction.objects.filter(user=coder).exists()
        assert undo_label(html) is None


class TestSeveralSteps:
    def test_create_edit_and_delete_undone_and_redone_step_by_step(
        self, client_for, study, transcript, layers, coder, code, code2
    ):
        c = client_for(coder)
        s, e = span(transcript.text, "so we waited weeks")
        html = post(
            c, "coding_apply", study, transcript.pk, {"start": s, "end": e, "code": code.public_id}
        )
        states = [[], state()]
        labels = [undo_label(html)]
        assert labels[0] == "Undo: coded “so we waited weeks” as Compute as a gate"
        first = Coding.objects.get()
        html = post(
            c,
            "coding_edit",
            study,
            first.public_id,
            {"fields": "all", "version": first.version, "code": code2.public_id, "memo": "slow"},
        )
        states.append(state())
        labels.append(undo_label(html))
        assert labels[-1] == (
            "Undo: recoded “so we waited weeks” from Compute as a gate to Small team"
        )
        moved = Coding.objects.get()
        html = post(
            c,
            "coding_edit",
            study,
            moved.public_id,
            {"version": moved.version, "nudge": "end-back"},
        )
        states.append(state())
        labels.append(undo_label(html))
        assert labels[-1] == "Undo: moved the Small team coding to “so we waited”"
        html = post(c, "coding_delete", study, Coding.objects.get().public_id)
        states.append(state())
        labels.append(undo_label(html))
        assert states == [
            [],
            [("Compute as a gate", "so we waited weeks", "")],
            [("Small team", "so we waited weeks", "slow")],
            [("Small team", "so we waited", "slow")],
            [],
        ]
        # Back, one step at a time: each button names the step it takes back.
        for n in range(4, 0, -1):
            assert undo_label(html) == labels[n - 1]
            html = undo(c, study, transcript, token_in(html))
            assert "Could not" not in html
            assert state() == states[n - 1], n
            assert redo_label(html) == "Redo: " + labels[n - 1].removeprefix("Undo: ")
            assert f"Undone: {labels[n - 1].removeprefix('Undo: ')}." in html
        assert undo_label(html) is None  # nothing left to undo
        # ...and forward again, step by step.
        for n in range(1, 5):
            html = redo(c, study, transcript, REDO.search(html)[1])
            assert "Could not" not in html
            assert state() == states[n], n
            assert undo_label(html) == labels[n - 1]
        assert redo_label(html) is None

    def test_a_new_action_clears_the_redo_stack(
        self, client_for, study, transcript, layers, coder, code, code2
    ):
        c = client_for(coder)
        s, e = span(transcript.text, "so we waited")
        html = post(
            c, "coding_apply", study, transcript.pk, {"start": s, "end": e, "code": code.public_id}
        )
        html = undo(c, study, transcript, token_in(html))
        assert redo_label(html) == "Redo: coded “so we waited” as Compute as a gate"
        s, e = span(transcript.text, "ทีมของเราเล็กมาก")
        html = post(
            c, "coding_apply", study, transcript.pk, {"start": s, "end": e, "code": code2.public_id}
        )
        assert redo_label(html) is None
        page = c.get(url("coding_view", study, transcript.pk)).content.decode()
        assert redo_label(page) is None
        assert undo_label(page) == "Undo: coded “ทีมของเราเล็กมาก” as Small team"

    def test_only_the_top_step_can_be_carried_out(
        self, client_for, study, transcript, layers, coder, code, code2
    ):
        # A page left open in another tab still shows an older step: it is refused, not undone
        # out of order, and the page then names the latest step.
        c = client_for(coder)
        s, e = span(transcript.text, "so we waited")
        older = token_in(
            post(
                c,
                "coding_apply",
                study,
                transcript.pk,
                {"start": s, "end": e, "code": code.public_id},
            )
        )
        post(
            c, "coding_apply", study, transcript.pk, {"start": s, "end": e, "code": code2.public_id}
        )
        html = undo(c, study, transcript, older)
        assert "Something was done since" in html
        assert Coding.objects.count() == 2
        assert undo_label(html) == "Undo: coded “so we waited” as Small team"

    def test_the_stacks_survive_a_reload(
        self, client_for, study, transcript, layers, coder, code, code2
    ):
        c = client_for(coder)
        s, e = span(transcript.text, "so we waited")
        post(
            c, "coding_apply", study, transcript.pk, {"start": s, "end": e, "code": code.public_id}
        )
        html = post(
            c, "coding_apply", study, transcript.pk, {"start": s, "end": e, "code": code2.public_id}
        )
        undo(c, study, transcript, token_in(html))
        page = c.get(url("coding_view", study, transcript.pk)).content.decode()
        assert undo_label(page) == "Undo: coded “so we waited” as Compute as a gate"
        assert redo_label(page) == "Redo: coded “so we waited” as Small team"

    def test_a_refused_step_leaves_the_stack_and_the_one_below_is_offered(
        self, client_for, study, transcript, layers, coder, code, code2
    ):
        c = client_for(coder)
        s, e = span(transcript.text, "so we waited")
        post(
            c, "coding_apply", study, transcript.pk, {"start": s, "end": e, "code": code.public_id}
        )
        s2, e2 = span(transcript.text, "ทีมของเราเล็กมาก")
        html = post(
            c,
            "coding_apply",
            study,
            transcript.pk,
            {"start": s2, "end": e2, "code": code2.public_id},
        )
        team = Coding.objects.get(code=code2)
        # Changed outside the coding view (no step of its own): undoing would lose it.
        coding_services.coding_update(
            actor=coder, coding=team, version=team.version, memo="later thought"
        )
        html = undo(c, study, transcript, token_in(html))
        assert "Could not undo: That coding was changed since" in html
        assert Coding.objects.get(code=code2).memo == "later thought"
        assert undo_label(html) == "Undo: coded “so we waited” as Compute as a gate"
        undo(c, study, transcript, token_in(html))
        assert state() == [("Small team", "ทีมของเราเล็กมาก", "later thought")]


class TestUndoIsPersonal:
    def test_another_coder_cannot_use_it(
        self, client_for, study, transcript, memo_coding, coder, coder2
    ):
        token = token_in(post(client_for(coder), "coding_delete", study, memo_coding.public_id))
        html = undo(client_for(coder2), study, transcript, token)
        assert "expired or is not yours" in html
        assert not Coding.objects.exists()
        assert UndoAction.objects.filter(pk=token).exists()  # still the author's to use
        # Nor does the other coder's page show the author's steps.
        page = client_for(coder2).get(url("coding_view", study, transcript.pk)).content.decode()
        assert "deleted the" not in page and 'class="undo-form"' not in page

    def test_it_works_only_for_its_author_in_its_layer(
        self, study, transcript, memo_coding, coder, coder2
    ):
        primary = memo_coding.layer
        second = transcript.layers.get(role=LayerRole.SECOND)
        undo_record(actor=coder2, layer=second, label="x", inverse={"op": "delete", "codings": []})
        token = str(UndoAction.objects.get(user=coder2).pk)
        with pytest.raises(ValidationError, match="expired or is not yours"):
            undo_step(actor=coder2, layer=primary, token=token)
        with pytest.raises(ValidationError, match="expired or is not yours"):
            undo_step(actor=coder, layer=primary, token=token)

    def test_undo_never_touches_the_other_coders_identical_coding(
        self, client_for, study, transcript, layers, coder, coder2, code
    ):
        # Both code the same words with the same code, blind; each undo stays in its layer.
        s, e = span(transcript.text, "so we waited")
        data = {"start": s, "end": e, "code": code.public_id}
        mine = post(client_for(coder), "coding_apply", study, transcript.pk, data)
        post(client_for(coder2), "coding_apply", study, transcript.pk, data)
        undo(client_for(coder), study, transcript, token_in(mine))
        assert list(Coding.objects.values_list("layer__coder__username", flat=True)) == ["kofi"]

    @pytest.mark.parametrize("bad", ["", "nonsense", str(uuid.uuid4()), "1 OR 1=1"])
    def test_unknown_ids_get_a_clear_message(
        self, client_for, study, transcript, memo_coding, coder, bad
    ):
        html = undo(client_for(coder), study, transcript, bad)
        assert "expired or is not yours" in html
        html = redo(client_for(coder), study, transcript, bad)
        assert "Could not redo" in html
        assert Coding.objects.get().memo == MEMO


class TestSubmittedLayers:
    def test_submitting_clears_the_stacks_so_nothing_before_it_is_undone_after(
        self, client_for, study, transcript, layers, coder, code, lead
    ):
        c = client_for(coder)
        s, e = span(transcript.text, "so we waited")
        html = post(
            c, "coding_apply", study, transcript.pk, {"start": s, "end": e, "code": code.public_id}
        )
        token = token_in(html)
        primary = layers[LayerRole.PRIMARY]
        assignment_services.layer_submit(actor=coder, layer=primary)
        assert not UndoAction.objects.filter(layer=primary).exists()
        assert (
            'class="undo-form"'
            not in c.get(url("coding_view", study, transcript.pk)).content.decode()
        )
        # Reopened by a lead: the old step is gone for good.
        primary.refresh_from_db()
        assignment_services.layer_reopen(actor=lead, layer=primary, reason="one more pass")
        html = undo(c, study, transcript, token)
        assert "expired or is not yours" in html
        assert Coding.objects.count() == 1


class TestExpiry:
    def test_after_an_hour_it_is_refused_as_expired(
        self, client_for, study, transcript, memo_coding, coder
    ):
        c = client_for(coder)
        token = token_in(post(c, "coding_delete", study, memo_coding.public_id))
        UndoAction.objects.filter(pk=token).update(
            created_at=timezone.now() - timedelta(minutes=61)
        )
        page = c.get(url("coding_view", study, transcript.pk)).content.decode()
        assert 'class="undo-bar"' not in page
        html = undo(c, study, transcript, token)
        assert "That undo has expired" in html
        assert not Coding.objects.exists()

    def test_expired_steps_are_swept(self, study, transcript, coded, coder, coder2):
        primary, second = coded.layer, transcript.layers.get(role=LayerRole.SECOND)
        nothing = {"op": "delete", "codings": []}

        def record(actor, layer, label):
            undo_record(actor=actor, layer=layer, label=label, inverse=nothing)
            return UndoAction.objects.get(label=label).pk

        now = timezone.now()
        mine = record(coder, primary, "old")
        theirs_recent = record(coder2, second, "b")
        theirs_forgotten = record(coder2, second, "c")
        UndoAction.objects.filter(pk=mine).update(created_at=now - timedelta(hours=2))
        UndoAction.objects.filter(pk=theirs_recent).update(created_at=now - timedelta(hours=2))
        UndoAction.objects.filter(pk=theirs_forgotten).update(created_at=now - timedelta(days=2))
        fresh = record(coder, primary, "new")
        # The author's own expired steps and anyone's long-forgotten ones are gone; another
        # coder's recently expired one waits for their next action (to say "expired" then).
        assert set(UndoAction.objects.values_list("pk", flat=True)) == {fresh, theirs_recent}

    def test_steps_go_with_their_layer(self, study, transcript, coded, coder, coder2, lead):
        third = UserFactory(username="ines")
        give_roles(study, third, Role.CODER)
        second = transcript.layers.get(role=LayerRole.SECOND)
        undo_record(actor=coder2, layer=second, label="x", inverse={"op": "delete", "codings": []})
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
        data = {"start": s, "end": e, "code": code.public_id}
        first = c.post(url("coding_apply", study, transcript.pk), data, headers=HX)
        second = c.post(url("coding_apply", study, transcript.pk), data, headers=HX)
        assert first.status_code == second.status_code == 200
        assert Coding.objects.count() == 1
        # A double click answers the same undo both times: undoing removes the one coding.
        assert token_in(first.content.decode()) == token_in(second.content.decode())
        assert UndoAction.objects.count() == 1
        undo(c, study, transcript, token_in(second.content.decode()))
        assert not Coding.objects.exists()

    def test_applying_a_code_already_there_offers_no_undo_that_would_delete_it(
        self, client_for, study, transcript, memo_coding, coder
    ):
        # The coding was made long ago (no step left): applying it again changes nothing, says
        # so, and offers no undo that would delete the older coding and its memo.
        UndoAction.objects.all().delete()
        c = client_for(coder)
        data = {
            "start": memo_coding.start,
            "end": memo_coding.end,
            "code": memo_coding.code.public_id,
        }
        html = post(c, "coding_apply", study, transcript.pk, data)
        assert "“Compute as a gate” was already applied here." in html
        assert not UNDO.search(html)
        assert Coding.objects.get().memo == MEMO
