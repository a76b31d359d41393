"""Who is looking at a transcript's codings: a member's seat (what they see, where they write).

Every coding and reconciliation view takes its seat first. Blindness: the seat holds only the
layers ``visible_layers`` allows, and a coding outside them answers 404, as if it did not exist.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from coding.models import Coding, LayerStatus
from coding.selectors.blindness import OVERSEERS, hidden_codes, visible_layers
from transcripts.selectors import consent as consent_selectors
from workbench.access import study_for


@dataclass
class Seat:
    """One person's place at one transcript: what they see and where (if anywhere) they write."""

    access: object
    transcript: object
    layers: list  # visible layers only
    own: object | None  # the layer this person codes in, if assigned
    user: object = None  # the person

    @property
    def hidden_codes(self):
        """The codes this person may not know of (a blind colleague's inductive codes)."""
        return hidden_codes(self.user, self.access.perms, self.access.study)

    @property
    def writable(self) -> bool:
        return self.own is not None and self.own.status != LayerStatus.SUBMITTED


def _transcript(study, pk):
    transcript = study.transcripts.select_related("participant").filter(pk=pk).first()
    if transcript is None:
        raise Http404
    return transcript


def _locked(request, access, transcript, consent):
    return render(
        request,
        "transcripts/transcript_locked.html",
        {"access": access, "study": access.study, "transcript": transcript, "consent": consent},
        status=403,
    )


def seat_for(request, study_slug, pk, access=None):
    """The seat of ``request.user`` at transcript ``pk``, or a locked page (a response)."""
    access = access or study_for(request, study_slug)
    transcript = _transcript(access.study, pk)
    layers = visible_layers(request.user, access.perms, transcript)
    own = next((layer for layer in layers if layer.coder_id == request.user.pk), None)
    if own is None and not OVERSEERS & access.perms:
        raise PermissionDenied
    consent = consent_selectors.current_consent(transcript.participant)
    if consent is None or not consent.allows("analyse"):
        return _locked(request, access, transcript, consent)
    return Seat(access=access, transcript=transcript, layers=layers, own=own, user=request.user)


def writer_seat(request, study_slug, pk):
    seat = seat_for(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    if seat.own is None:
        # Overseers read; only the layer's own coder writes.
        raise PermissionDenied
    return seat


def visible_coding(request, study_slug, ref, *, write=True):
    """A coding the user can see, and their seat at its transcript; 404 if hidden from them.

    With ``write`` the coding must also be in the user's own layer (403 otherwise).
    """
    access = study_for(request, study_slug)
    coding = (
        Coding.objects.select_related("layer", "code")
        .filter(public_id=ref, layer__transcript__study=access.study)
        .first()
    )
    if coding is None:
        raise Http404
    seat = seat_for(request, study_slug, coding.layer.transcript_id, access)
    if not isinstance(seat, Seat):
        return coding, seat
    if coding.layer_id not in {layer.pk for layer in seat.layers}:
        raise Http404  # blindness: another coder's coding does not exist for you
    if write and (seat.own is None or coding.layer_id != seat.own.pk):
        raise PermissionDenied
    return coding, seat
