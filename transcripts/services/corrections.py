"""Correcting a transcript's text after coding began, without losing any coding.

A correction is an explicit edit of the canonical text: a list of ``(start, end, replacement)``
edits on the current text, with a reason. In one transaction the turns, and every span held by
what other apps registered in ``transcripts.spans`` (the codings of every layer, consensus
codings, disagreements, review alternatives), are moved onto the new text by a character diff
(``transcripts.rewriting.reanchor``): each keeps covering the same words, and a coding whose
words were changed is flagged to re-check. A correction that would leave a span or a turn with
no text at all is refused as a whole: nothing is ever silently dropped.

Pseudonymising a coded transcript goes through the same ``reanchor_transcript``.

The audit trail is never purged, so its event holds counts and SHA-256 hashes, never text; the
reason is recorded as written, like every other reason staff give.
"""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from transcripts import spans
from transcripts.formats.normalise import normalise
from transcripts.models import ConsentUse, Transcript, Utterance
from transcripts.rewriting import reanchor
from transcripts.rewriting.pseudonymise import is_word_boundary
from transcripts.selectors.consent import allows
from transcripts.selectors.transcripts import listed_names_in, study_rules_in_order
from transcripts.services.transcripts import text_sha256
from workbench import audit
from workbench.locking import lock_row


@dataclass(frozen=True)
class Reanchored:
    """What moving a transcript's spans onto a new text did."""

    turns_changed: int = 0
    codings_moved: int = 0  # their offsets changed
    codings_flagged: int = 0  # their words changed: flagged to re-check


@dataclass(frozen=True)
class CorrectionResult:
    transcript: Transcript
    edits: int
    removed: int  # characters, as the character diff counts them
    inserted: int
    reanchored: Reanchored

    def summary(self) -> str:
        """E.g. "3 codings moved, 1 flagged to re-check." for the message after saving."""
        moved, flagged = self.reanchored.codings_moved, self.reanchored.codings_flagged
        return f"{_count(moved, 'coding')} moved, {flagged} flagged to re-check."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# --- moving turns and codings --------------------------------------------------------------


def lock_for_rewrite(transcript: Transcript, version: int | None) -> Transcript:
    """Lock what holds spans of the transcript, then the transcript itself (refusing a stale
    version).

    Layers first (coding's span holders lock them, and the disagreements, before the
    transcript): every coding write locks its layer before it reads the text (the lock order is
    documented in ``coding.services.codings``), so taking them in the same order means the two
    wait for each other instead of deadlocking. While the layers are held no coding can be
    added to, changed on or reviewed against the old text.
    """
    spans.lock_holders(transcript)
    return lock_row(Transcript, transcript.pk, version=version)


def reanchor_transcript(
    transcript: Transcript, new_text: str, changes: Sequence[reanchor.Change], *, actor
) -> Reanchored:
    """Move every turn, and every span every holder keeps (``transcripts.spans``: the codings
    of every layer and all that coding keeps beside them), onto ``new_text``.

    The caller has taken ``lock_for_rewrite``, checked consent, and saves the text itself.
    Each holder locks its rows here as well (and any layer assigned since the layers were
    locked). Raises ValidationError, having written nothing, if a turn or a span would be left
    without text.
    """
    old_text = transcript.text
    held = [(holder, _movable(holder.spans(transcript), old_text)) for holder in spans.holders()]
    utterances = list(Utterance.objects.filter(transcript=transcript).order_by("index"))
    turns = reanchor.remap_turns(
        old_text, new_text, [(u.start, u.end) for u in utterances], changes=changes
    )
    anchored = [
        reanchor.reanchor(old_text, new_text, [(h.start, h.end) for h in kept], changes=changes)
        for _, kept in held
    ]

    problems = []
    emptied = [u for u, turn in zip(utterances, turns, strict=True) if turn.lost]
    if emptied:
        which = ", ".join(f"{u.index + 1} ({u.speaker or 'no speaker'})" for u in emptied)
        problems.append(
            f"This correction would empty turn{'s' if len(emptied) > 1 else ''} {which}: "
            "a correction cannot delete a whole turn. Keep at least a word of it."
        )
    for (holder, kept), moved in zip(held, anchored, strict=True):
        lost = [h for h, span in zip(kept, moved, strict=True) if span.lost]
        if lost:
            problems.append(holder.refuse(lost, actor))
    if problems:
        raise ValidationError(problems, code="lost")

    moved_turns = []
    for utterance, turn in zip(utterances, turns, strict=True):
        if (utterance.start, utterance.end) != (turn.start, turn.end):
            utterance.start, utterance.end = turn.start, turn.end
            moved_turns.append(utterance)
    Utterance.objects.bulk_update(moved_turns, ["start", "end"])

    moved, flagged = 0, 0
    for (holder, kept), spans_now in zip(held, anchored, strict=True):
        moves = [
            spans.Move(h, span.start, span.end, new_text[span.start : span.end], span.changed)
            for h, span in zip(kept, spans_now, strict=True)
            # Before every change: same offsets, same words, nothing to write.
            if (h.start, h.end) != (span.start, span.end) or span.changed
        ]
        if moves:
            holder.move(moves)
        if holder.summarised:
            moved += sum((m.held.start, m.held.end) != (m.start, m.end) for m in moves)
            flagged += sum(m.changed for m in moves)
    return Reanchored(
        turns_changed=sum(turn.changed for turn in turns),
        codings_moved=moved,
        codings_flagged=flagged,
    )


def _movable(held: list[spans.Held], text: str) -> list[spans.Held]:
    """The spans that are spans of ``text``. One that is not (left behind by an older rewrite)
    cannot be moved with its words and stays where it is rather than block every correction."""
    return [h for h in held if 0 <= h.start < h.end <= len(text)]


# --- correcting ----------------------------------------------------------------------------


def _clean_edits(text: str, edits) -> list[reanchor.Edit]:
    """The edits that change something, checked, with their new text in canonical form."""
    cleaned, position = [], 0
    for edit in edits:
        try:
            start, end, replacement = edit
        except (TypeError, ValueError):
            raise ValidationError(
                "Each correction needs a start, an end and the new text."
            ) from None
        if not (
            type(start) is int and type(end) is int and isinstance(replacement, str)
        ):  # bool is an int, but never an offset
            raise ValidationError("Each correction needs a start, an end and the new text.")
        if not 0 <= start <= end <= len(text):
            raise ValidationError(
                f"The correction at {start}–{end} lies outside the text (0–{len(text)} characters)."
            )
        if start < position:
            raise ValidationError("Corrections must be in text order and must not overlap.")
        position = end
        # The text is canonical (LF, NFC): what is typed in a browser arrives with CRLF.
        replacement = normalise(replacement)
        if "\x00" in replacement:
            raise ValidationError("The new text contains a NUL character.")
        if text[start:end] != replacement:
            cleaned.append((start, end, replacement))
    if not cleaned:
        raise ValidationError("Nothing to correct: the new text is the same as the old.")
    return cleaned


@transaction.atomic
def transcript_correct(
    *, actor, transcript: Transcript, version: int, edits, reason: str
) -> CorrectionResult:
    """Correct the transcript's text; turns and codings of every layer keep their words.

    ``edits`` are ``(start, end, replacement)`` on the current text, in text order, not
    overlapping; ``version`` is the transcript version they were made on.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": "Say why the text is corrected, e.g. “typo” or “missed redaction”."}
        )
    transcript = lock_for_rewrite(transcript, version)
    if not allows(transcript, ConsentUse.ANALYSE):
        raise ValidationError(
            "This transcript is locked: its participant's consent does not cover analysis.",
            code="locked",
        )
    old_text, old_sha256 = transcript.text, transcript.text_sha256
    edits = _clean_edits(old_text, edits)
    new_text, changes = reanchor.apply_edits(old_text, edits)
    if not unicodedata.is_normalized("NFC", new_text):
        # A replacement beginning with a combining mark would combine with the letter before.
        raise ValidationError(
            "The corrected text would not be in canonical Unicode form: a correction begins or "
            "ends with an accent or other combining mark. Include the letter it belongs to."
        )
    reanchored = reanchor_transcript(transcript, new_text, changes, actor=actor)
    transcript.text = new_text
    transcript.text_sha256 = text_sha256(new_text)
    # A correction may write a listed name back in (or take one out).
    transcript.listed_names = listed_names_in(new_text, study_rules_in_order(transcript.study))
    transcript.version += 1
    transcript.save(update_fields=["text", "text_sha256", "listed_names", "version"])
    result = CorrectionResult(
        transcript=transcript,
        edits=len(edits),
        removed=sum(c.old_end - c.old_start for c in changes),
        inserted=sum(c.new_end - c.new_start for c in changes),
        reanchored=reanchored,
    )
    audit.record(
        actor=actor,
        study=transcript.study,
        verb="transcript.correct",
        obj=transcript,
        object_repr=f"{transcript.participant.code}: transcript {transcript.pk}",
        before={"sha256 of text": old_sha256, "characters": len(old_text)},
        after={
            "sha256 of text": transcript.text_sha256,
            "characters": len(new_text),
            "edits": result.edits,
            "characters removed": result.removed,
            "characters inserted": result.inserted,
            "turns changed": reanchored.turns_changed,
            "codings moved": reanchored.codings_moved,
            "codings flagged": reanchored.codings_flagged,
            "reason": reason,
        },
    )
    return result


def replace_all(
    text: str, find: str, replacement: str, whole_word: bool = True
) -> list[reanchor.Edit]:
    """Edits replacing every occurrence of ``find`` (exact case), e.g. a missed redaction.

    Whole words are judged as pseudonymisation judges them: in scripts written without spaces
    (Thai, Chinese…) every occurrence counts. Occurrences never overlap; the leftmost wins.
    """
    find = unicodedata.normalize("NFC", find)
    replacement = unicodedata.normalize("NFC", replacement)
    edits, position = [], text.find(find) if find else -1
    while position != -1:
        end = position + len(find)
        if not whole_word or (is_word_boundary(text, position) and is_word_boundary(text, end)):
            edits.append((position, end, replacement))
            position = text.find(find, end)
        else:
            position = text.find(find, position + 1)
    return edits
