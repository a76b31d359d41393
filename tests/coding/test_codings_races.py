"""No coding work is lost or misplaced when two people act at once (PostgreSQL, two connections).

Each race runs two real database connections in two threads. The first action does its work in
a transaction and stops just before committing; the second starts meanwhile and runs as far as
it can: until it waits for a lock the first one holds (seen in ``pg_stat_activity``), or to its
end. Then the first commits and both outcomes are checked. A missing lock shows up as a second
action that does not wait and writes past the first one.

SQLite locks the whole database file for every write, so two connections never interleave
there and these races cannot happen (nor be shown): the tests run on PostgreSQL only.
"""

import inspect
import re
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from coding.models import (
    Coding,
    CodingMode,
    CodingReview,
    Layer,
    LayerRole,
    LayerStatus,
    ReviewVerdict,
)
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from tests.coding.test_codings import (  # noqa: F401 (fixtures shared with the view tests)
    code,
    code2,
    layers,
    span,
    transcript,
)
from tests.factories import UserFactory, give_roles
from transcripts import spans
from transcripts.models import Transcript
from transcripts.services import consent as consent_services
from transcripts.services import transcripts as transcript_services
from transcripts.services.corrections import transcript_correct
from workbench.roles import Role

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="races need two connections writing at once; SQLite locks the whole file",
    ),
    pytest.mark.django_db(transaction=True),
]

WAIT = 10  # seconds: far longer than any step takes; a hang fails instead of blocking the run


def _waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def _outcome(fn):
    try:
        return fn()
    except ValidationError as exc:  # a refusal is an outcome to check, like a result
        return exc
    finally:
        connection.close()  # each thread has its own connection


def race(first, second):
    """Run ``first`` up to its commit, then ``second`` until it waits or ends; then commit.

    A ``first`` that is a generator runs up to its ``yield``, and on from there (and commits)
    once ``second`` waits or ends.

    Returns both outcomes (a result or the ValidationError raised) and whether ``second`` had
    to wait for ``first``.
    """
    ready, commit = threading.Event(), threading.Event()
    outcomes = {}

    def run_first():
        def hold():
            with transaction.atomic():
                result = first()
                if inspect.isgenerator(result):  # a first step, then the rest once told to
                    next(result)
                    ready.set()
                    assert commit.wait(WAIT)
                    try:
                        next(result)
                    except StopIteration as done:
                        return done.value
                ready.set()
                assert commit.wait(WAIT)
                return result

        try:
            outcomes["first"] = _outcome(hold)
        finally:
            ready.set()

    def run_second():
        outcomes["second"] = _outcome(second)

    one, two = threading.Thread(target=run_first), threading.Thread(target=run_second)
    one.start()
    assert ready.wait(WAIT)
    two.start()
    deadline, waited = time.monotonic() + WAIT, False
    while two.is_alive() and time.monotonic() < deadline:
        if _waiting_for_a_lock():
            waited = True
            break
        time.sleep(0.01)
    commit.set()
    one.join(WAIT)
    two.join(WAIT)
    assert not one.is_alive() and not two.is_alive()
    return outcomes["first"], outcomes["second"], waited


def at_once(*actions):
    """Run the actions in threads released together by a barrier; their outcomes, in order."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(i, action):
        def go():
            barrier.wait(WAIT)
            return action()

        outcomes[i] = _outcome(go)

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def version_of(transcript):
    return Transcript.objects.get(pk=transcript.pk).text_sha256[:16]


def words_match_text(transcript):
    """Every coding of the transcript covers the words its snippet says it covers."""
    text = Transcript.objects.get(pk=transcript.pk).text
    return all(
        text[c.start : c.end] == c.snippet
        for c in Coding.objects.filter(layer__transcript=transcript)
    )


# --- a coding made while the text is corrected ----------------------------------------------


class TestCodingWhileCorrecting:
    def correct_first_turn(self, lead, transcript):
        t = Transcript.objects.get(pk=transcript.pk)
        first_turn = t.utterances.get(index=0)
        return lambda: transcript_correct(
            actor=lead,
            transcript=t,
            version=t.version,
            edits=[(first_turn.start, first_turn.start, "So, tell me: ")],
            reason="missed words",
        )

    def test_a_selection_made_on_the_old_text_is_refused(
        self, transcript, layers, coder, code, lead
    ):
        start, end = span(transcript.text, "we waited weeks")
        seen = version_of(transcript)
        layer = layers[LayerRole.PRIMARY]
        _, refused, waited = race(
            self.correct_first_turn(lead, transcript),
            lambda: coding_services.coding_create(
                actor=coder, layer=layer, code=code, start=start, end=end, text_version=seen
            ),
        )
        assert waited
        assert isinstance(refused, ValidationError)
        assert "corrected" in " ".join(refused.messages)
        assert not Coding.objects.exists()

    def test_offsets_are_checked_and_copied_from_the_corrected_text(
        self, transcript, layers, coder, code, lead
    ):
        # Without a text version the offsets are taken as offsets into the text as it is when
        # the coding is stored: the copy of the words must come from that text, not the old one.
        start, end = span(transcript.text, "we waited weeks")
        layer = layers[LayerRole.PRIMARY]
        _, coding, waited = race(
            self.correct_first_turn(lead, transcript),
            lambda: coding_services.coding_create(
                actor=coder, layer=layer, code=code, start=start, end=end
            ),
        )
        assert waited
        assert isinstance(coding, Coding)
        assert words_match_text(transcript)

    def test_a_coding_made_first_moves_with_the_correction(
        self, transcript, layers, coder, code, lead
    ):
        start, end = span(transcript.text, "we waited weeks")
        seen = version_of(transcript)
        layer = layers[LayerRole.PRIMARY]
        coding, result, waited = race(
            lambda: coding_services.coding_create(
                actor=coder, layer=layer, code=code, start=start, end=end, text_version=seen
            ),
            self.correct_first_turn(lead, transcript),
        )
        assert waited
        assert isinstance(coding, Coding) and not isinstance(result, ValidationError)
        coding.refresh_from_db()
        assert coding.snippet == "we waited weeks"
        assert words_match_text(transcript)


class TestOneLockOrder:
    def test_an_edit_and_a_correction_wait_for_each_other_without_deadlock(
        self, transcript, layers, coder, code, lead
    ):
        """The correction holds the layers (its first step) when the edit starts; the edit must
        wait for the layer before it holds anything the correction needs next (the coding).
        Taken in another order, the database finds a deadlock and aborts one of them."""
        start, end = span(transcript.text, "we waited weeks")
        coding = coding_services.coding_create(
            actor=coder, layer=layers[LayerRole.PRIMARY], code=code, start=start, end=end
        )
        t = Transcript.objects.get(pk=transcript.pk)
        first_turn = t.utterances.get(index=0)

        def correct_in_two_steps():
            spans.lock_holders(t)  # what lock_for_rewrite takes first: the layers
            yield
            return transcript_correct(
                actor=lead,
                transcript=t,
                version=t.version,
                edits=[(first_turn.start, first_turn.start, "So, ")],
                reason="missed words",
            )

        corrected, edited, waited = race(
            correct_in_two_steps,
            lambda: coding_services.coding_update(
                actor=coder, coding=coding, version=coding.version, memo="a thought"
            ),
        )
        assert waited
        assert not isinstance(corrected, ValidationError)
        # The correction moved the coding on (a new version): the edit, made on the old one,
        # is refused as stale instead of undoing the move.
        assert isinstance(edited, ValidationError)
        assert "changed by someone else" in " ".join(edited.messages)
        assert words_match_text(transcript)

    def test_a_purge_and_a_correction_wait_for_each_other_without_deadlock(
        self, transcript, layers, coder, code, lead, admin_user
    ):
        """A purge deletes the layers with the transcript: it takes the layers first too."""
        start, end = span(transcript.text, "we waited weeks")
        coding_services.coding_create(
            actor=coder, layer=layers[LayerRole.PRIMARY], code=code, start=start, end=end
        )
        consent_services.consent_withdraw(
            actor=admin_user,
            participant=transcript.participant,
            effective_on=timezone.localdate(),
            reason="asked to leave",
        )
        t = Transcript.objects.get(pk=transcript.pk)

        def correct_in_two_steps():
            spans.lock_holders(t)
            yield
            return transcript_correct(
                actor=lead, transcript=t, version=t.version, edits=[(0, 0, "So, ")], reason="x"
            )

        corrected, purged, waited = race(
            correct_in_two_steps,
            lambda: transcript_services.transcript_purge(
                actor=admin_user, transcript=t, reason="withdrawn"
            ),
        )
        assert waited
        assert isinstance(corrected, ValidationError)  # no consent to analysis any more
        assert purged is None
        assert not Transcript.objects.filter(pk=t.pk).exists()
        assert not Coding.objects.exists()


# --- a submitted layer stays as submitted -----------------------------------------------------


@pytest.fixture
def own_coding(transcript, layers, coder, code):
    start, end = span(transcript.text, "we waited weeks")
    return coding_services.coding_create(
        actor=coder, layer=layers[LayerRole.PRIMARY], code=code, start=start, end=end, memo="m"
    )


def layer_state(layer):
    return list(
        Coding.objects.filter(layer=layer)
        .order_by("pk")
        .values_list("pk", "code_id", "start", "end", "memo", "version")
    )


class TestSubmittedLayersAreImmutable:
    @pytest.mark.parametrize("action", ["update", "delete"])
    def test_an_edit_racing_the_submission_is_refused(
        self, transcript, layers, coder, own_coding, code2, action
    ):
        layer = layers[LayerRole.PRIMARY]
        before = layer_state(layer)

        def edit():
            if action == "delete":
                return coding_services.coding_delete(actor=coder, coding=own_coding)
            return coding_services.coding_update(
                actor=coder, coding=own_coding, version=own_coding.version, code=code2, memo="x"
            )

        submitted, edited, waited = race(
            lambda: assignment_services.layer_submit(actor=coder, layer=layer), edit
        )
        assert waited
        assert Layer.objects.get(pk=layer.pk).status == LayerStatus.SUBMITTED
        assert isinstance(edited, ValidationError)
        assert "submitted" in " ".join(edited.messages)
        assert layer_state(layer) == before

    def test_a_review_racing_the_reviewers_submission_is_refused(
        self, transcript, lead, coder, coder2, own_coding
    ):
        assignment_services.assignment_set(
            actor=lead, transcript=transcript, primary=coder, second=coder2, mode=CodingMode.REVIEW
        )
        primary = Layer.objects.get(transcript=transcript, role=LayerRole.PRIMARY)
        second = Layer.objects.get(transcript=transcript, role=LayerRole.SECOND)
        assignment_services.layer_submit(actor=coder, layer=primary)
        coding_services.coding_review(
            actor=coder2, coding=own_coding, verdict=ReviewVerdict.CONFIRM
        )
        _, changed, waited = race(
            lambda: assignment_services.layer_submit(actor=coder2, layer=second),
            lambda: coding_services.coding_review(
                actor=coder2,
                coding=own_coding,
                verdict=ReviewVerdict.CHALLENGE,
                comment="Not about waiting.",
            ),
        )
        assert waited
        assert isinstance(changed, ValidationError)
        assert CodingReview.objects.get().verdict == ReviewVerdict.CONFIRM

    def test_a_review_waits_for_the_primary_layer_to_be_reopened_and_changed(
        self, transcript, lead, coder, coder2, own_coding
    ):
        # The reviewer's verdict is about the coding as the primary coder submitted it: a
        # deletion of that coding (after a reopening) and a review of it never cross.
        assignment_services.assignment_set(
            actor=lead, transcript=transcript, primary=coder, second=coder2, mode=CodingMode.REVIEW
        )
        primary = Layer.objects.get(transcript=transcript, role=LayerRole.PRIMARY)
        assignment_services.layer_submit(actor=coder, layer=primary)

        def reopen_and_delete():
            assignment_services.layer_reopen(actor=lead, layer=primary, reason="one more pass")
            return coding_services.coding_delete(actor=coder, coding=own_coding)

        _, reviewed, waited = race(
            reopen_and_delete,
            lambda: coding_services.coding_review(
                actor=coder2, coding=own_coding, verdict=ReviewVerdict.CONFIRM
            ),
        )
        assert waited
        assert isinstance(reviewed, ValidationError)
        assert not CodingReview.objects.exists()


# --- re-assigning never drops work ------------------------------------------------------------


@pytest.fixture
def coder3(study):
    user = UserFactory(username="ines")
    give_roles(study, user, Role.CODER)
    return user


class TestReassigningKeepsWork:
    def test_a_coding_made_while_the_layer_is_handed_over_is_kept(
        self, transcript, layers, coder, coder2, coder3, code, lead
    ):
        start, end = span(transcript.text, "we waited weeks")
        layer = layers[LayerRole.PRIMARY]
        coding, reassigned, waited = race(
            lambda: coding_services.coding_create(
                actor=coder, layer=layer, code=code, start=start, end=end
            ),
            lambda: assignment_services.assignment_set(
                actor=lead,
                transcript=transcript,
                primary=coder3,
                second=coder2,
                mode=CodingMode.INDEPENDENT,
            ),
        )
        assert waited
        assert isinstance(reassigned, ValidationError)
        assert "already coded" in " ".join(reassigned.messages)
        assert Coding.objects.filter(pk=coding.pk, layer=layer).exists()
        assert Layer.objects.get(pk=layer.pk).coder == coder

    def test_a_coding_for_a_layer_handed_over_meanwhile_is_refused_clearly(
        self, transcript, layers, coder, coder2, coder3, code, lead
    ):
        start, end = span(transcript.text, "we waited weeks")
        layer = layers[LayerRole.PRIMARY]
        _, coding, waited = race(
            lambda: assignment_services.assignment_set(
                actor=lead,
                transcript=transcript,
                primary=coder3,
                second=coder2,
                mode=CodingMode.INDEPENDENT,
            ),
            lambda: coding_services.coding_create(
                actor=coder, layer=layer, code=code, start=start, end=end
            ),
        )
        assert waited
        assert isinstance(coding, ValidationError)
        assert "no longer" in " ".join(coding.messages)
        assert not Coding.objects.exists()
        assert Layer.objects.get(transcript=transcript, role=LayerRole.PRIMARY).coder == coder3


# --- the same code on the same span, twice at once -------------------------------------------


class TestApplyingTwiceAtOnce:
    def test_two_identical_applies_make_one_coding(self, transcript, layers, coder, code):
        start, end = span(transcript.text, "we waited weeks")
        layer = layers[LayerRole.PRIMARY]

        def apply():
            return coding_services.coding_create(
                actor=coder, layer=layer, code=code, start=start, end=end
            )

        first, second = at_once(apply, apply)
        assert isinstance(first, Coding) and isinstance(second, Coding)
        assert first.pk == second.pk
        assert Coding.objects.count() == 1

    def test_two_double_clicks_through_the_page_make_one_coding(
        self, client_for, study, transcript, layers, coder, code
    ):
        start, end = span(transcript.text, "we waited weeks")
        apply_url = reverse("coding_apply", args=[study.slug, transcript.pk])
        data = {"start": start, "end": end, "code": code.public_id}
        c1, c2 = client_for(coder), client_for(coder)
        first, second = at_once(
            lambda: c1.post(apply_url, data, headers={"HX-Request": "true"}),
            lambda: c2.post(apply_url, data, headers={"HX-Request": "true"}),
        )
        assert first.status_code == second.status_code == 200
        assert Coding.objects.count() == 1
        # Both answers offer the one undo, whichever the page shows last.
        tokens = [
            re.search(r'name="token" value="([^"]+)"', r.content.decode())[1]
            for r in (first, second)
        ]
        assert tokens[0] == tokens[1]
