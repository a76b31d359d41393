"""Search across a study's transcripts: every place a phrase occurs, in context, to code.

Matching is by substring, case-insensitive, so it works in any script: Thai and Chinese are
written without spaces between words, and a word-token search would miss a word inside a run of
text. On PostgreSQL the filter is served by a trigram index on ``UPPER(text)`` (migration
``transcripts`` transcript_text_trigram: pg_trgm, the same expression Django's
``icontains`` compares), so it does not read every transcript; where pg_trgm is not available,
and on SQLite, the same query scans (slower, same answers).

Only transcripts whose participant's consent covers analysis are searched (withdrawn
participants never appear); the text is what every member may read in the reading view, and
no coding is read here, so blindness is not at stake. "Code this hit" is offered where the
searcher has an open layer of their own.
"""

import bisect
import re
from dataclasses import dataclass, field

from django.core.paginator import Paginator

from coding.models import Layer, LayerStatus
from coding.selectors.retrieval import words_after, words_before
from transcripts.models import Utterance
from transcripts.selectors.transcripts import analysable_transcripts

PER_PAGE = 20  # transcripts per page
HITS_SHOWN = 8  # hits shown per transcript; the rest are counted
CONTEXT = 90  # characters read either side of a hit; shown: the words within its turn
MAX_QUERY = 200


@dataclass
class Hit:
    start: int
    end: int
    before: str
    match: str
    after: str
    speaker: str
    turn: int | None


@dataclass
class TranscriptHits:
    transcript: object
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    codable: bool = False  # the searcher has an open layer here ("code this hit")


def _turn_of(starts: list[int], turns: list[tuple], offset: int):
    index = bisect.bisect_right(starts, offset) - 1
    return turns[index] if index >= 0 else None


def _hits(text: str, pattern: re.Pattern, turns: list[tuple]) -> tuple[list[Hit], int]:
    starts = [t[1] for t in turns]
    hits, total = [], 0
    for found in pattern.finditer(text):
        total += 1
        if len(hits) >= HITS_SHOWN:
            continue
        start, end = found.span()
        turn = _turn_of(starts, turns, start)
        lo, hi = max(0, start - CONTEXT), min(len(text), end + CONTEXT)
        if turn is not None:
            lo, hi = max(lo, turn[1]), min(hi, max(turn[2], end))
        before, after = words_before(text[lo:start], 70), words_after(text[end:hi], 70)
        hits.append(
            Hit(
                start=start,
                end=end,
                before=("…" if start - len(before) > (turn[1] if turn else 0) else "") + before,
                match=text[start:end],
                after=after + ("…" if end + len(after) < (turn[2] if turn else len(text)) else ""),
                speaker=turn[3] if turn else "",
                turn=turn[0] if turn else None,
            )
        )
    return hits, total


def search(study, user, query: str, page: int | None = 1):
    """The transcripts holding ``query`` (a page of them) with their hits; None for no query."""
    query = " ".join(query.split())[:MAX_QUERY]
    if not query:
        return None
    matching = (
        analysable_transcripts(study)
        .filter(text__icontains=query)
        .select_related("participant")
        .order_by("participant__code", "title", "pk")
    )
    paginator = Paginator(matching.defer("text").values_list("pk", flat=True), PER_PAGE)
    page_obj = paginator.get_page(page)
    ids = list(page_obj.object_list)
    transcripts = {t.pk: t for t in matching.filter(pk__in=ids)}
    turns: dict[int, list[tuple]] = {pk: [] for pk in ids}
    rows = Utterance.objects.filter(transcript_id__in=ids).order_by("transcript_id", "start")
    for transcript_id, *turn in rows.values_list(
        "transcript_id", "index", "start", "end", "speaker"
    ):
        turns[transcript_id].append(tuple(turn))
    open_layers = set(
        Layer.objects.filter(transcript_id__in=ids, coder=user)
        .exclude(status=LayerStatus.SUBMITTED)
        .values_list("transcript_id", flat=True)
    )
    pattern = re.compile(re.escape(query), re.IGNORECASE)
    results = []
    for pk in ids:
        transcript = transcripts[pk]
        hits, total = _hits(transcript.text, pattern, turns[pk])
        results.append(
            TranscriptHits(transcript=transcript, hits=hits, total=total, codable=pk in open_layers)
        )
    return {"query": query, "page": page_obj, "results": results}
