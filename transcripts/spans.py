"""What holds spans of a transcript's text: the one list a rewrite of the text goes through.

A transcript's text is this app's, but other apps keep offsets into it (coding keeps codings,
consensus codings, the snapshots of disagreements, the alternative spans of reviews). Each
registers a ``SpanHolder`` at start-up (its ``AppConfig.ready``): how to lock its rows, list their
spans, refuse a rewrite that would leave one without text, move them, and count what a given
user may see. A correction or a pseudonymisation (``transcripts.services.corrections``) then
keeps every span on its words, and the correction pages count, without this app knowing any
model of theirs. Offsets are code points into the canonical text, end exclusive.
"""

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Held:
    """One span a holder keeps, as it lies in the current text."""

    row: Any  # the holder's own handle on it, usually a model instance
    start: int
    end: int
    part: Hashable = None  # which of the row's spans, for a row that keeps several


@dataclass(frozen=True)
class Move:
    """Where a held span lies in the new text."""

    held: Held
    start: int
    end: int
    text: str  # the new text's characters at start:end, for the holder's copies of it
    changed: bool  # some of its characters were changed, removed or added: to re-check


@dataclass(frozen=True)
class Visible:
    """A holder's rows on a transcript that a user may see, for the pages' counts."""

    spans: tuple[tuple[int, bool], ...] = ()  # (start, flagged to re-check) of each row
    hidden: bool = False  # some rows are not shown to this user (blind coding)

    @property
    def total(self) -> int:
        return len(self.spans)

    @property
    def flagged(self) -> int:
        return sum(flagged for _, flagged in self.spans)

    def __add__(self, other: "Visible") -> "Visible":
        return Visible(self.spans + other.spans, self.hidden or other.hidden)


@dataclass(frozen=True)
class SpanHolder:
    """How one kind of row holding spans of a transcript takes part in a rewrite of its text.

    ``lock(transcript)`` locks, *before* the transcript is locked, the rows the holder's own
    writers lock before the transcript (the same order, so the two wait instead of deadlocking).
    ``spans(transcript)`` runs with the transcript locked: it locks the rows and lists their
    spans. ``refuse(lost, actor)`` words, for the person rewriting, the refusal of a rewrite
    leaving those spans no text at all (naming only what that person may see);
    ``move(moves)`` writes the spans that moved or whose words changed (new offsets, copies of
    the text, flag to re-check, version). ``visible(user, perms, transcript)`` counts what that
    user may see; a holder without it is not counted. The moves of a ``summarised`` holder are
    the "N codings moved, M flagged to re-check" of the messages and the audit trail.
    """

    name: str
    spans: Callable[[Any], list[Held]]
    move: Callable[[list[Move]], None]
    refuse: Callable[[list[Held], Any], str]
    lock: Callable[[Any], None] | None = None
    visible: Callable[[Any, Any, Any], Visible] | None = None
    summarised: bool = False


_holders: dict[str, SpanHolder] = {}


def register(holder: SpanHolder) -> None:
    """Add ``holder`` (again: an app's ``ready`` may run twice; the newer one replaces it)."""
    _holders[holder.name] = holder


def unregister(name: str) -> None:
    _holders.pop(name, None)


def holders() -> list[SpanHolder]:
    """Every holder, in the order registered: the order they are locked and moved in."""
    return list(_holders.values())


def lock_holders(transcript) -> None:
    """Lock what each holder locks before the transcript (call before locking it)."""
    for holder in holders():
        if holder.lock is not None:
            holder.lock(transcript)


def visible(user, perms, transcript) -> Visible:
    """What ``user`` (holding study ``perms``) may see of every counted holder's rows."""
    seen = Visible()
    for holder in holders():
        if holder.visible is not None:
            seen += holder.visible(user, perms, transcript)
    return seen
