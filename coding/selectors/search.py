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

On PostgreSQL the searcher may also ask for other forms of the words (full-text search with
the English dictionary: "contribute" finds "contributing" and "contribution"); transcripts are
then ranked by how well they match (``ts_rank``), and the words PostgreSQL matched are found
in the text to show each hit in context. Word tokens miss a word inside a run of Thai or
Chinese, so this is an option beside substring search, not a replacement.
"""

import bisect
import re
from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.db import connection
from django.db.models.expressions import RawSQL

from coding.models import Layer, LayerStatus
from coding.selectors.retrieval import words_after, words_before
from transcripts.models import Utterance
from transcripts.selectors.transcripts import analysable_transcripts

PER_PAGE = 20  # transcripts per page
HITS_SHOWN = 8  # hits shown per transcript; the rest are counted
CONTEXT = 90  # characters read either side of a hit; shown: the words within its turn
MAX_QUERY = 200
# The expression the full-text index (transcripts migration 0004) is built on: keep them equal.
VECTOR = 'to_tsvector(\'english\'::regconfig, "transcripts_transcript"."text")'
QUERY = "websearch_to_tsquery('english'::regconfig, %s)"
# Markers around the words ts_headline matched (private-use characters: not in transcripts).
OPEN, CLOSE = "\ue0f0", "\ue0f1"
MATCHED = re.compile(f"{OPEN}(.*?){CLOSE}", re.S)


def word_forms_available() -> bool:
    return connection.vendor == "postgresql"


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


def _matched_words(ids: list[int], query: str) -> dict[int, re.Pattern | None]:
    """Per transcript, a pattern of the words full-text search matched in it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, ts_headline('english'::regconfig, text, {QUERY}, %s) "
            "FROM transcripts_transcript WHERE id = ANY(%s)",
            [query, f"StartSel={OPEN}, StopSel={CLOSE}, HighlightAll=true", ids],
        )
        rows = cursor.fetchall()
    patterns = {}
    for pk, headline in rows:
        words = sorted({w.casefold() for w in MATCHED.findall(headline)}, key=len, reverse=True)
        alternatives = "|".join(re.escape(w) for w in words)
        patterns[pk] = re.compile(rf"\b(?:{alternatives})\b", re.I) if words else None
    return patterns


def search(study, user, query: str, page: int | None = 1, *, word_forms: bool = False):
    """The transcripts holding ``query`` (a page of them) with their hits; None for no query.

    ``word_forms`` (PostgreSQL only): full-text search, best matches first."""
    query = " ".join(query.split())[:MAX_QUERY]
    if not query:
        return None
    word_forms = word_forms and word_forms_available()
    matching = analysable_transcripts(study).select_related("participant")
    if word_forms:
        matching = (
            matching.extra(where=[f"{VECTOR} @@ {QUERY}"], params=[query])
            .annotate(rank=RawSQL(f"ts_rank({VECTOR}, {QUERY})", [query]))
            .order_by("-rank", "participant__code", "title", "pk")
        )
    else:
        matching = matching.filter(text__icontains=query).order_by(
            "participant__code", "title", "pk"
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
    substring = re.compile(re.escape(query), re.IGNORECASE)
    patterns = _matched_words(ids, query) if word_forms and ids else {}
    results = []
    for pk in ids:
        transcript = transcripts[pk]
        pattern = patterns.get(pk, substring) if word_forms else substring
        hits, total = _hits(transcript.text, pattern, turns[pk]) if pattern else ([], 0)
        results.append(
            TranscriptHits(transcript=transcript, hits=hits, total=total, codable=pk in open_layers)
        )
    return {"query": query, "page": page_obj, "results": results, "word_forms": word_forms}
