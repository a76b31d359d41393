"""Saturation reads: what each interview adds, in interview order, and the measures on top.

The interviews are those whose chosen layer exists: the *consensus* layer (a reconciliation was
started: both layers submitted and compared), or one coder's *submitted* layers. What a
viewer may read follows the blindness rule (``coding/selectors/blindness.py``): a coder still
blind on a transcript sees neither its consensus nor the other coder's layer there, so the
curve leaves it out and the page says so.

An interview *contains* a first-level code when the layer holds a coding of it; it contains a
theme when it contains one of the theme's codes (its home or a further theme of ``also_in``)
or a coding of the theme itself; a category, through its themes. A code merged into another
counts as the code it became. The computing is the pure core in ``coding/saturation/``; this
module reads (a constant number of queries, whatever the study's size) and labels.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max, Q

from coding.models import (
    ChangeKind,
    Code,
    CodeKind,
    CodeVersion,
    Coding,
    ConsensusCoding,
    Layer,
    LayerStatus,
    SaturationDecision,
)
from coding.saturation import (
    codebook_meaning_stable_after,
    first_appearances,
    francis_stop,
    guest_saturation,
    meaning_stability,
    nothing_new_in_last,
)
from coding.saturation.report import (
    CONSENSUS,
    INFORMATION,
    MODES,
    InterviewRow,
    MeaningRow,
    Named,
    SaturationAnalysis,
    SaturationParams,
)
from transcripts.selectors.transcripts import analysable_transcripts, in_interview_order
from workbench.models import AuditEvent

# The page and the command read the report's vocabulary from here too.
__all__ = [
    "CONSENSUS",
    "INFORMATION",
    "MODES",
    "SaturationAnalysis",
    "SaturationParams",
    "StudyWide",
    "analyse",
    "decisions",
    "layer_choices",
    "transcript_being_coded",
]


def transcript_being_coded(actor, study_id: int):
    """The transcript ``actor`` is coding in the study, if any: their unsubmitted layer with
    the most recent coding. Codebook changes are attributed to it (one query)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    layer = (
        Layer.objects.filter(transcript__study_id=study_id, coder=actor)
        .exclude(status=LayerStatus.SUBMITTED)
        .annotate(last=Max("codings__updated_at"))
        .filter(last__isnull=False)
        .order_by("-last")
        .select_related("transcript")
        .first()
    )
    return layer.transcript if layer else None


# --- reading -----------------------------------------------------------------------------


class StudyWide:
    """Everything in the study (the command line, which has no viewer): the same shape as
    ``coding.selectors.blindness.Viewer`` for what this module reads."""

    def __init__(self, study):
        self.study = study

    def consensus_transcripts(self):
        return analysable_transcripts(self.study)

    def layers(self):
        return Layer.objects.filter(transcript__in=analysable_transcripts(self.study))

    def codes(self):
        return Code.objects.filter(study=self.study)


def layer_choices(viewer, *, reuse: bool = False) -> list[tuple[str, str]]:
    """The consensus layer, then each coder with a submitted layer the viewer may read."""
    if reuse:
        return _reused(viewer, "layers", lambda: layer_choices(viewer))
    coders = (
        viewer.layers()
        .filter(status=LayerStatus.SUBMITTED)
        .values_list("coder__username", flat=True)
        .distinct()
        .order_by("coder__username")
    )
    return [(CONSENSUS, "Consensus layers")] + [
        (name, f"{name}'s submitted layers") for name in coders
    ]


def _interviews(viewer, params: SaturationParams, study) -> tuple[list[dict], int]:
    """The interviews of the chosen layer the viewer reads, in order, and how many are
    withheld from them."""
    fields = ("pk", "title", "participant__code", "interview_date", "interview_order")
    if params.layer == CONSENSUS:
        every = analysable_transcripts(study).filter(reconciliation__isnull=False)
        readable = viewer.consensus_transcripts().filter(reconciliation__isnull=False)
        rows = list(
            in_interview_order(readable)
            .annotate(
                open=Count(
                    "reconciliation__disagreements",
                    filter=Q(reconciliation__disagreements__decision=""),
                )
            )
            .values(*fields, "open")
        )
    else:
        every = analysable_transcripts(study).filter(
            layers__coder__username=params.layer, layers__status=LayerStatus.SUBMITTED
        )
        layers = viewer.layers().filter(coder__username=params.layer, status=LayerStatus.SUBMITTED)
        rows = [
            {**row, "open": 0}
            for row in in_interview_order(
                analysable_transcripts(study).filter(pk__in=layers.values("transcript"))
            ).values(*fields)
        ]
    return rows, max(0, every.count() - len(rows))


def _first_positions(params: SaturationParams, position_of: dict[int, int]) -> dict[int, int]:
    """code id → the position of the first interview whose chosen layer codes it.

    Only first appearances matter to every measure here (an item is new where it first
    appears), so the codes of each interview are never held as sets: one pass over the
    (transcript, code) pairs keeps each code's earliest interview."""
    ids = list(position_of)
    if params.layer == CONSENSUS:
        rows = ConsensusCoding.objects.filter(transcript_id__in=ids).values_list(
            "transcript_id", "code_id"
        )
    else:
        rows = Coding.objects.filter(
            layer__transcript_id__in=ids,
            layer__coder__username=params.layer,
            layer__status=LayerStatus.SUBMITTED,
        ).values_list("layer__transcript_id", "code_id")
    if not ids:
        return {}
    # The database keeps each code's earliest interview: the interview order travels as a
    # small (transcript, position) table, so only one row per code comes back instead of one
    # per coding (100,000 rows took seconds to fetch; 2,000 take milliseconds).
    # No ORDER BY: the models' default orderings would sort every coding first.
    inner, params_ = rows.order_by().query.sql_with_params()
    order = ", ".join(["(%s, %s)"] * len(ids))
    sql = (
        f"WITH interview_order(tid, pos) AS (VALUES {order}), pairs(tid, code) AS ({inner}) "
        "SELECT pairs.code, MIN(interview_order.pos) FROM pairs "
        "JOIN interview_order ON interview_order.tid = pairs.tid GROUP BY pairs.code"
    )
    flat = [value for pk in ids for value in (pk, position_of[pk])]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*flat, *params_])
        return dict(cursor.fetchall())


def _change_kinds(change: str, changes: list) -> list[str]:
    kinds = set(changes or []) | {change}
    out = []
    if ChangeKind.CREATE in kinds:
        out.append("created")
    if ChangeKind.REDEFINE in kinds:
        out.append("redefined")
    if ChangeKind.MERGE in kinds:
        out.append("merged")
    if ChangeKind.SPLIT in kinds:
        out.append("split")
    return out


@dataclass
class Reads:
    """Everything ``analyse`` reads from the database for one viewer and layer; the rest of the
    parameters (information, base, run, thresholds, mode, k) only change the computing."""

    rows: list[dict]
    withheld: int
    first_seen: dict[int, int]
    codes: dict[int, tuple]
    further: dict[int, list[int]]
    versions: list[tuple]
    state: dict
    layer_label: str
    per_interview: list[set[tuple[str, int]]]


def _read(viewer, params: SaturationParams) -> Reads:
    study = viewer.study
    rows, withheld = _interviews(viewer, params, study)
    position_of = {row["pk"]: n for n, row in enumerate(rows, start=1)}
    codes = {
        row[0]: row
        for row in viewer.codes().values_list(
            "pk", "public_id", "name", "kind", "origin", "parent_id", "merged_into_id"
        )
    }
    further: dict[int, list[int]] = defaultdict(list)
    for from_id, to_id in Code.also_in.through.objects.filter(from_code__study=study).values_list(
        "from_code_id", "to_code_id"
    ):
        further[from_id].append(to_id)
    versions = CodeVersion.objects.filter(code__in=viewer.codes())
    # A code created away from coding (the deductive codebook, mostly) is neither a change
    # placed on an interview nor one the curve misses: those rows need not be read.
    placed = (
        versions.exclude(change=ChangeKind.CREATE, during__isnull=True)
        .order_by("code_id", "number")
        .values_list("code_id", "change", "changes", "during_id")
    )
    label = "Consensus layers"
    if params.layer != CONSENSUS:
        label = dict(layer_choices(viewer)).get(params.layer, f"{params.layer}'s submitted layers")
    first_seen = _first_positions(params, position_of)
    return Reads(
        rows=rows,
        withheld=withheld,
        first_seen=first_seen,
        codes=codes,
        further=dict(further),
        # Worked out once with the reads: no parameter but the layer changes it.
        per_interview=_new_items(rows, first_seen, codes, further),
        versions=list(placed),
        state=versions.aggregate(count=Count("pk"), last=Max("changed_at")),
        layer_label=label,
    )


def _new_items(rows, first_seen, codes, further) -> list[set[tuple[str, int]]]:
    """Per interview, the items (code, theme, category) first seen in it."""

    def survivor(pk: int) -> int:
        seen = set()
        while pk in codes and codes[pk][6] and pk not in seen:
            seen.add(pk)
            pk = codes[pk][6]
        return pk

    memo: dict[int, set[tuple[str, int]]] = {}

    def items_of(code_id: int) -> set[tuple[str, int]]:
        if code_id not in memo:
            memo[code_id] = _items(survivor(code_id))
        return memo[code_id]

    def _items(pk: int) -> set[tuple[str, int]]:
        if pk not in codes:
            return set()
        kind = codes[pk][3]
        if kind == CodeKind.CATEGORY:
            return {("category", pk)}
        themes = {pk} if kind == CodeKind.THEME else set()
        if kind == CodeKind.CODE:
            themes |= {t for t in [codes[pk][5], *further.get(pk, [])] if t in codes}
            themes = {t for t in themes if codes[t][3] == CodeKind.THEME}
        out = {("theme", t) for t in themes}
        if kind == CodeKind.CODE:
            out.add(("code", pk))
        for theme in themes:
            parent = codes[theme][5]
            if parent in codes and codes[parent][3] == CodeKind.CATEGORY:
                out.add(("category", parent))
        return out

    # Each item (code, theme, category) first appears where its earliest code does; the
    # measures only need each interview's new items (the core's "new" is the same whether it
    # is given every item of an interview or only those first seen there).
    item_first: dict[tuple[str, int], int] = {}
    for code_id, position in first_seen.items():
        for item in items_of(code_id):
            if position < item_first.get(item, 1 << 30):
                item_first[item] = position
    per_interview: list[set[tuple[str, int]]] = [set() for _ in rows]
    for item, position in item_first.items():
        per_interview[position - 1].add(item)

    return per_interview


def _reused(viewer, what: str, compute):
    """``compute()``, kept in the cache while nothing in the study changed.

    Every write in a study records its audit event in the same transaction, and events are
    never deleted, so the number of the study's events (with the newest one) changes whenever
    anything the analysis reads could have; the day is in the key because consent can lapse
    without a write. The events are counted once per request (the viewer is the request's)."""
    study = viewer.study
    events = getattr(viewer, "_saturation_events", None)
    if events is None:
        events = AuditEvent.objects.filter(study=study).aggregate(n=Count("pk"), last=Max("pk"))
        viewer._saturation_events = events
    user = getattr(viewer, "user", None)
    who = f"{user.pk}:{','.join(sorted(viewer.perms))}" if user is not None else "study"
    digest = hashlib.sha256(
        f"{study.pk}:{study.created_at.isoformat()}:{who}:{what}:"
        f"{events['n']}:{events['last']}:{date.today().isoformat()}".encode()
    ).hexdigest()
    key = f"saturation:{digest}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, timeout=600)
    return found


def _reads(viewer, params: SaturationParams, reuse: bool) -> Reads:
    """The reads; with ``reuse``, those of an earlier request while the study is unchanged, so
    a parameter change costs one small query instead of every read."""
    if not reuse:
        return _read(viewer, params)
    return _reused(viewer, f"reads:{params.layer}", lambda: _read(viewer, params))


def analyse(viewer, params: SaturationParams, *, reuse: bool = False) -> SaturationAnalysis:
    """The whole saturation analysis for one viewer and one set of parameters. ``reuse``
    lets the page take the reads of an earlier request while the study is unchanged."""
    reads = _reads(viewer, params, reuse)
    rows, withheld, codes = reads.rows, reads.withheld, reads.codes
    position_of = {row["pk"]: n for n, row in enumerate(rows, start=1)}

    per_interview = reads.per_interview

    wanted = {"themes": {"theme"}, "codes": {"code"}, "both": {"theme", "code"}}[params.information]
    information = [{i for i in items if i[0] in wanted} for items in per_interview]
    high_level = [{i for i in items if i[0] != "code"} for items in per_interview]
    curve = first_appearances(per_interview, kind=lambda item: item[0])
    info_curve = first_appearances(information)
    quiet = nothing_new_in_last(high_level, last=params.consecutive) if rows else []

    # Codebook changes per interview, and meaning stability from definition versions.
    changes: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    definitions: dict[int, list[int | None]] = defaultdict(list)
    unplaced = 0
    state = reads.state
    for code_id, change, kinds, during in reads.versions:
        if code_id not in codes:
            continue
        labels = _change_kinds(change, kinds)
        position = position_of.get(during)
        # Creating the deductive codebook before coding is not a change the curve misses;
        # redefining, merging or splitting away from any analysed interview is.
        if position is None and set(labels) - {"created"}:
            unplaced += 1
        for label in labels:
            if position is not None:
                changes[position][label].append(codes[code_id][2])
        # Meaning develops while coding: a definition written before or away from any
        # analysed interview is where the code starts, not a change the curve can place.
        if codes[code_id][3] == CodeKind.CODE and (
            "redefined" in labels or ("created" in labels and position is not None)
        ):
            definitions[code_id].append(position)

    interviews = []
    for n, (row, point, info) in enumerate(zip(rows, curve, info_curve, strict=True), start=1):

        def named(kind, point=point):
            members = sorted(point.new_by_kind.get(kind, ()), key=lambda i: codes[i[1]][0])
            return [Named(codes[i[1]][1], codes[i[1]][2], codes[i[1]][4]) for i in members]

        interviews.append(
            InterviewRow(
                position=n,
                transcript_id=row["pk"],
                title=row["title"],
                participant=row["participant__code"],
                interview_date=row["interview_date"],
                interview_order=row["interview_order"],
                open_disagreements=row["open"],
                new_codes=named("code"),
                new_themes=named("theme"),
                new_categories=named("category"),
                changes={k: sorted(v) for k, v in changes.get(n, {}).items()},
                new_information=info.new_count,
                cumulative={
                    "codes": point.cumulative_by_kind.get("code", 0),
                    "themes": point.cumulative_by_kind.get("theme", 0),
                    "categories": point.cumulative_by_kind.get("category", 0),
                    "information": info.cumulative,
                },
                quiet_run=quiet[n - 1],
            )
        )

    stability = meaning_stability(definitions)
    meaning = sorted(
        (
            MeaningRow(codes[pk][1], codes[pk][2], s.stable_after, s.changes, s.unplaced_after)
            for pk, s in stability.items()
        ),
        key=lambda m: (-(m.stable_after or 0), m.name.lower()),
    )
    guest = guest_saturation(
        information,
        base=params.base,
        run_length=params.run,
        thresholds=params.thresholds,
        mode=params.mode,
    )
    return SaturationAnalysis(
        params=params,
        layer_label=reads.layer_label,
        interviews=interviews,
        guest=guest,
        francis=francis_stop(information, initial=params.initial, consecutive=params.consecutive),
        quiet_since=next((n for n, q in enumerate(quiet, start=1) if q), None),
        meaning=meaning,
        meaning_stable_after=codebook_meaning_stable_after(stability),
        withheld=withheld,
        unplaced_changes=unplaced,
        codebook_state={
            "codes": sum(1 for c in codes.values() if c[3] == CodeKind.CODE),
            "themes": sum(1 for c in codes.values() if c[3] == CodeKind.THEME),
            "categories": sum(1 for c in codes.values() if c[3] == CodeKind.CATEGORY),
            "versions": state["count"],
            "last_change": state["last"].isoformat() if state["last"] else None,
        },
    )


def decisions(study) -> list[SaturationDecision]:
    return list(
        SaturationDecision.objects.filter(study=study).select_related("decided_by", "synthesis")
    )
