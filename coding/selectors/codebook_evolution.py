"""Reads for merging and splitting codes: the coalescing plan, previews and operation reports.

**The coalescing rule.** After a merge every coding of the merged codes carries the target
code. Within one layer (and within a transcript's consensus layer) the target's codings that
*overlap* (share at least one character; identical spans included) form a cluster, and a
cluster holding at least one moved coding becomes one coding: its span is the union (first
start to last end; overlapping spans leave no gap), its memos are joined in text order (each
distinct memo once, a blank line between), and it is an exemplar, or flagged to re-check, if
any member was. Spans that only touch (one ends where the next starts) stay two codings: they
were coded as two passages. Clusters of the target's own codings alone are left as they were.
The surviving row is a reviewed coding if the cluster holds one (its review stays with it),
else one of the target's own codings, else the earliest; a cluster holding two reviewed codings
is refused (which review to keep is the reviewer's call).

Every read of codings for a person goes through ``coding.selectors.blindness``.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count

from coding.models import (
    Code,
    CodebookOperation,
    CodeStatus,
    Coding,
    CodingReview,
    ConsensusCoding,
)
from coding.selectors.blindness import Viewer
from transcripts.selectors.transcripts import analysable_transcripts

DEFINITION_FIELDS = ("definition", "when_to_use", "when_not_to_use", "example")
CODING_FIELDS = ("pk", "layer_id", "code_id", "start", "end", "memo", "exemplar", "needs_recheck")
CONSENSUS_FIELDS = ("pk", "transcript_id", "code_id", "start", "end", "memo", "exemplar")


@dataclass
class Cluster:
    """Codings of one layer that become one: ``survivor`` takes the union span."""

    survivor: dict
    members: list[dict]  # the survivor included
    start: int = 0
    end: int = 0
    memo: str = ""
    exemplar: bool = False
    needs_recheck: bool = False

    @property
    def removed(self) -> list[dict]:
        return [row for row in self.members if row["pk"] != self.survivor["pk"]]


def _clusters_of(rows: list[dict]) -> list[list[dict]]:
    """Groups of rows whose spans overlap (chains included), each sorted by span."""
    groups: list[list[dict]] = []
    reach = -1
    for row in sorted(rows, key=lambda r: (r["start"], r["end"], r["pk"])):
        if groups and row["start"] < reach:
            groups[-1].append(row)
            reach = max(reach, row["end"])
        else:
            groups.append([row])
            reach = row["end"]
    return groups


def coalesce(rows, *, moved: set[int], reviewed: frozenset[int] = frozenset()) -> list[Cluster]:
    """The clusters (see the module docstring) among ``rows`` of one layer, all of one code
    after the move; ``moved`` are the pks that moved to it. Raises if a cluster holds two
    reviewed codings."""
    clusters = []
    for group in _clusters_of(list(rows)):
        if len(group) < 2 or not any(row["pk"] in moved for row in group):
            continue
        with_review = [row for row in group if row["pk"] in reviewed]
        if len(with_review) > 1:
            raise ValidationError(
                "Two reviewed codings would become one: a reviewer's verdicts would be lost. "
                "Ask the reviewer to withdraw one of the reviews, then merge.",
                code="two_reviews",
            )
        own = [row for row in group if row["pk"] not in moved]
        survivor = (with_review or own or group)[0]
        memos = list(dict.fromkeys(row["memo"].strip() for row in group if row["memo"].strip()))
        clusters.append(
            Cluster(
                survivor=survivor,
                members=group,
                start=min(row["start"] for row in group),
                end=max(row["end"] for row in group),
                memo="\n\n".join(memos),
                exemplar=any(row["exemplar"] for row in group),
                needs_recheck=any(row.get("needs_recheck") for row in group),
            )
        )
    return clusters


@dataclass
class Plan:
    """What a merge does to codings: per layer (or per transcript, for the consensus)."""

    codings: list[dict] = field(default_factory=list)  # every coding of the family
    clusters: dict[int, list[Cluster]] = field(default_factory=dict)  # by layer id
    consensus: list[dict] = field(default_factory=list)
    consensus_clusters: dict[int, list[Cluster]] = field(default_factory=dict)  # by transcript


def merge_plan(study, source_ids: list[int], target_id: int | None) -> Plan:
    """The coalescing plan of merging ``source_ids`` into ``target_id`` (None: a new code),
    over every layer of the study (blind ones included: the caller shows only what it may)."""
    family = [*source_ids, *([target_id] if target_id else [])]
    moved_from = set(source_ids)
    plan = Plan()
    plan.codings = list(
        Coding.objects.filter(layer__transcript__study=study, code_id__in=family)
        .order_by()
        .values(*CODING_FIELDS, "version")
    )
    reviewed = frozenset(
        CodingReview.objects.filter(
            coding__layer__transcript__study=study, coding__code_id__in=family
        ).values_list("coding_id", flat=True)
    )
    by_layer = defaultdict(list)
    for row in plan.codings:
        by_layer[row["layer_id"]].append(row)
    moved = {row["pk"] for row in plan.codings if row["code_id"] in moved_from}
    for layer_id, rows in by_layer.items():
        if found := coalesce(rows, moved=moved, reviewed=reviewed):
            plan.clusters[layer_id] = found
    plan.consensus = list(
        ConsensusCoding.objects.filter(transcript__study=study, code_id__in=family)
        .order_by()
        .values(*CONSENSUS_FIELDS)
    )
    by_transcript = defaultdict(list)
    for row in plan.consensus:
        by_transcript[row["transcript_id"]].append(row)
    moved_consensus = {row["pk"] for row in plan.consensus if row["code_id"] in moved_from}
    for transcript_id, rows in by_transcript.items():
        if found := coalesce(rows, moved=moved_consensus):
            plan.consensus_clusters[transcript_id] = found
    return plan


def merge_draft(sources: list[Code], target: Code | None) -> dict[str, str]:
    """The target's definition fields with the sources' added, for the admin to edit."""
    draft = {}
    for name in DEFINITION_FIELDS:
        parts = [getattr(target, name).strip()] if target is not None else []
        for code in sources:
            text = getattr(code, name).strip()
            if text and text not in parts:
                parts.append(f"From “{code.name}”: {text}" if parts else text)
        draft[name] = "\n\n".join(part for part in parts if part)
    return draft


def merge_choices(viewer: Viewer, code: Code):
    """Codes ``code`` may be merged into: the viewer's visible, live codes of its kind."""
    return (
        viewer.codes()
        .filter(kind=code.kind, merged_into__isnull=True)
        .exclude(status=CodeStatus.RETIRED)
        .exclude(pk=code.pk)
        .order_by("name")
    )


@dataclass
class LayerRow:
    transcript: str
    who: str  # the coder, or "Consensus"
    status: str
    counts: dict = field(default_factory=dict)


def merge_preview(viewer: Viewer, sources: list[Code], target: Code | None, plan: Plan):
    """Per layer the viewer may see: codings of each code, and how many coalesce. Layers the
    viewer is blind to are not listed, nor counted (``hidden`` says only that some exist)."""
    layers = {
        layer.pk: layer
        for layer in viewer.layers().select_related("transcript__participant", "coder")
    }
    transcripts = {
        t.pk: t for t in analysable_transcripts(viewer.study).select_related("participant")
    }
    keys = [code.pk for code in sources] + ([target.pk] if target else [])
    rows: dict[tuple, LayerRow] = {}

    def row_for(key, transcript, who, status):
        if key not in rows:
            rows[key] = LayerRow(transcript, who, status, dict.fromkeys([*keys, "joined"], 0))
        return rows[key]

    for coding in plan.codings:
        layer = layers.get(coding["layer_id"])
        if layer is None:
            continue
        row = row_for(
            ("layer", layer.pk),
            _title(layer.transcript),
            layer.coder.get_username(),
            layer.get_status_display(),
        )
        row.counts[coding["code_id"]] += 1
    for layer_id, clusters in plan.clusters.items():
        if ("layer", layer_id) in rows:
            rows[("layer", layer_id)].counts["joined"] += sum(len(c.removed) for c in clusters)
    for coding in plan.consensus:
        transcript = transcripts.get(coding["transcript_id"])
        if transcript is None:
            continue
        key = ("consensus", transcript.pk)
        row_for(key, _title(transcript), "Consensus", "").counts[coding["code_id"]] += 1
    for transcript_id, clusters in plan.consensus_clusters.items():
        if ("consensus", transcript_id) in rows:
            removed = sum(len(c.removed) for c in clusters)
            rows[("consensus", transcript_id)].counts["joined"] += removed
    ordered = sorted(rows.values(), key=lambda r: (r.transcript, r.who == "Consensus", r.who))
    for row in ordered:
        row.cells = [row.counts[key] for key in keys]
        row.after = sum(row.cells) - row.counts["joined"]
    return ordered


def _title(transcript) -> str:
    return f"{transcript.participant.code}: {transcript.title}"


@dataclass
class TranscriptCodings:
    transcript: object
    codings: list = field(default_factory=list)  # (layer, coding) pairs the viewer may see
    consensus: list = field(default_factory=list)


def split_candidates(viewer: Viewer, code: Code) -> list[TranscriptCodings]:
    """The codings of ``code`` the viewer may see, grouped by transcript, consensus included.
    A transcript where the viewer sees none is still listed if the code has consensus
    codings there; transcripts with codings only in blind layers are not listed at all."""
    groups: dict[int, TranscriptCodings] = {}
    codings = (
        Coding.objects.filter(code=code, layer__in=viewer.layers())
        .select_related("layer__coder", "layer__transcript__participant")
        .order_by("layer__transcript__participant__code", "layer__transcript_id", "start", "pk")
    )
    for coding in codings:
        transcript = coding.layer.transcript
        groups.setdefault(transcript.pk, TranscriptCodings(transcript)).codings.append(coding)
    consensus = (
        ConsensusCoding.objects.filter(
            code=code, transcript__in=analysable_transcripts(viewer.study)
        )
        .select_related("transcript__participant")
        .order_by("transcript_id", "start", "pk")
    )
    for coding in consensus:
        groups.setdefault(coding.transcript_id, TranscriptCodings(coding.transcript))
        groups[coding.transcript_id].consensus.append(coding)
    return sorted(groups.values(), key=lambda g: (g.transcript.participant.code, g.transcript.pk))


def operation(study, ref: str) -> CodebookOperation | None:
    return (
        CodebookOperation.objects.filter(study=study, public_id=ref)
        .select_related("target", "done_by", "undone_by")
        .prefetch_related("sources")
        .first()
    )


def operation_rows(viewer: Viewer, op: CodebookOperation) -> list[tuple[str, str, int]]:
    """(transcript, whose layer, codings moved) for the layers the viewer may see."""
    layers = {
        layer.pk: layer
        for layer in viewer.layers().select_related("transcript__participant", "coder")
    }
    transcripts = {
        t.pk: t for t in analysable_transcripts(viewer.study).select_related("participant")
    }
    rows = []
    for key, moved in op.counts.items():
        kind, pk = key.split(":")
        if kind == "layer" and int(pk) in layers:
            layer = layers[int(pk)]
            rows.append((_title(layer.transcript), layer.coder.get_username(), moved))
        elif kind == "consensus" and int(pk) in transcripts:
            rows.append((_title(transcripts[int(pk)]), "Consensus", moved))
    return sorted(rows)


def usage(code: Code) -> dict:
    """Counts of the references a merge moves (shown on the preview; none is per layer)."""
    return Code.objects.filter(pk=code.pk).aggregate(
        children=Count("children", distinct=True),
        memos=Count("memos", distinct=True),
        notes=Count("debrief_notes", distinct=True),
    )
