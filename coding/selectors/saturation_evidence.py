"""Reading a saturation *evidence* snapshot for the page, a decision and the downloads.

The evidence is the JSON-ready dict of ``SaturationAnalysis.evidence()``: worked out live for
the saturation page, or stored with a decision (``SaturationDecision.evidence``) and shown as
it was, never recomputed. Both go through the same functions here, so a decision's page shows
its numbers exactly as the live page showed them on the day.

Who may read a snapshot's numbers: they are derived from codings, so a viewer who may not read
every interview of the snapshot's layer *now* (a coder still blind on one, or whose own layer
there was reopened) reads the decision — verdict, rationale, who and when — but not its numbers
(``readable_layers``).
"""

from __future__ import annotations

import datetime
from fractions import Fraction

from django.db.models import Count

from coding.models import LayerStatus
from coding.selectors.saturation import CONSENSUS, INFORMATION, MODES
from transcripts.selectors.transcripts import analysable_transcripts

KINDS = (("codes", "first-level codes"), ("themes", "themes"), ("categories", "categories"))


def readable_layers(viewer, wanted: set[str], known: dict[str, int] | None = None) -> set[str]:
    """Of the ``wanted`` layers (``CONSENSUS`` or a coder's username), those every interview of
    which ``viewer`` reads now. ``known``: layers whose withheld count the caller already has
    (the page's own analysis). At most four queries, however many coders and decisions."""
    known = known or {}
    out = {layer for layer in wanted if known.get(layer) == 0}
    wanted = wanted - set(known)
    analysable = analysable_transcripts(viewer.study)
    if CONSENSUS in wanted:
        every = analysable.filter(reconciliation__isnull=False).count()
        readable = viewer.consensus_transcripts().filter(reconciliation__isnull=False).count()
        if every == readable:
            out.add(CONSENSUS)
    coders = wanted - {CONSENSUS}
    if coders:
        every = dict(
            analysable.filter(
                layers__status=LayerStatus.SUBMITTED, layers__coder__username__in=coders
            )
            .values_list("layers__coder__username")
            .annotate(n=Count("pk", distinct=True))
        )
        seen = dict(
            viewer.layers()
            .filter(status=LayerStatus.SUBMITTED, coder__username__in=coders)
            .values_list("coder__username")
            .annotate(n=Count("transcript", distinct=True))
        )
        out |= {name for name, n in every.items() if seen.get(name) == n}
    return out


def evidence_layer(evidence: dict) -> str:
    return (evidence.get("parameters") or {}).get("layer") or CONSENSUS


def _percent(value: Fraction, thresholds: list[Fraction]) -> str:
    """A run's percentage to one decimal, or to two where one decimal would show a threshold
    the exact value is not: 5.04 % as "5.0" would seem to pass ≤ 5 %, and does not."""
    shown = f"{float(value):.1f}"
    for limit in thresholds:
        if Fraction(shown) == limit and value != limit:
            return f"{float(value):.2f}"
    return shown


def runs_table(evidence: dict) -> dict:
    """The Guest et al. runs with, per threshold, whether each run passes (compared exactly,
    from the stored fraction) and which run is the first to pass."""
    guest = evidence.get("guest") or {}
    results = guest.get("results") or []
    limits = [Fraction(r["threshold"]) for r in results]
    first_pass = {r["threshold"]: r["at"] for r in results if r.get("reached")}
    rows = []
    for run in guest.get("runs") or []:
        fraction = Fraction(run["fraction"])
        percent = fraction * 100
        first = run["interviews"][0]
        rows.append(
            {
                "first": first,
                "last": run["interviews"][1],
                "new": run["new"],
                "denominator": run["denominator"],
                "percent": _percent(percent, limits),
                "passes": [
                    {
                        "threshold": r["threshold"],
                        "passes": percent <= limit,
                        "first": first_pass.get(r["threshold"]) == first - 1,
                    }
                    for r, limit in zip(results, limits, strict=True)
                ],
            }
        )
    by_start = {row["first"] - 1: row for row in rows}
    return {
        "base": guest.get("base"),
        "run_length": guest.get("run_length"),
        "mode": guest.get("mode"),
        "denominator": guest.get("denominator"),
        "reason": guest.get("reason", ""),
        # Each threshold's verdict with the run that reached it (None: not reached).
        "results": [
            r | {"run": by_start.get(r["at"]) if r.get("reached") else None} for r in results
        ],
        "rows": rows,
    }


def interview_rows(evidence: dict) -> list[dict]:
    """Per interview, as the tables show it: the stored dict with its date parsed, whether it
    belongs to the Guest base, and its codebook changes in a fixed order."""
    base = (evidence.get("guest") or {}).get("base") or 0
    rows = []
    for item in evidence.get("interviews") or []:
        changes = item.get("codebook_changes") or {}
        day = item.get("interview_date")
        rows.append(
            item
            | {
                "date": datetime.date.fromisoformat(day) if day else None,
                "in_base": item["position"] <= base,
                "change_list": [
                    (kind, changes[kind])
                    for kind in ("created", "redefined", "merged", "split")
                    if changes.get(kind)
                ],
                "change_total": sum(len(names) for names in changes.values()),
            }
        )
    return rows


def summary(evidence: dict) -> dict:
    """The verdicts and stopping criteria in words, from the evidence alone."""
    interviews = evidence.get("interviews") or []
    titles = {item["position"]: f"{item['participant']}: {item['title']}" for item in interviews}
    meaning = evidence.get("meaning") or {}
    codes = meaning.get("codes") or []
    # Redefinitions placed on an interview, per code (a code's versions also count its
    # creation while coding, which is not a change of meaning).
    times: dict[str, int] = {}
    for item in interviews:
        for name in (item.get("codebook_changes") or {}).get("redefined", []):
            times[name] = times.get(name, 0) + 1
    redefined = [
        c | {"stable_title": titles.get(c["stable_after"], ""), "redefined": times[c["name"]]}
        for c in codes
        if times.get(c["name"])
    ]
    francis = evidence.get("francis") or {}
    stop = francis.get("stop_at")
    params = evidence.get("parameters") or {}
    information = INFORMATION.get(params.get("information"), "Themes")
    return {
        "information": information.lower(),
        "parameters": [
            ("Counted as new information", information),
            ("Codings from", evidence.get("layer", "")),
            ("Base size", f"the first {params.get('base')} interviews"),
            ("Run length", f"{params.get('run')} interviews"),
            (
                "Thresholds",
                ", ".join(f"≤ {t.strip()} %" for t in params.get("thresholds", "").split(",")),
            ),
            ("Runs", MODES.get(params.get("mode"), params.get("mode", ""))),
            (
                "Stopping criterion",
                f"Francis et al.: an initial sample of {params.get('initial')}, then "
                f"{params.get('consecutive')} interviews with nothing new",
            ),
        ],
        "count": len(interviews),
        "totals": interviews[-1]["cumulative"] if interviews else {},
        "titles": titles,
        "francis": francis,
        "francis_from": stop - francis["consecutive"] + 1 if stop else None,
        "no_new_themes": evidence.get("no_new_themes") or {},
        "meaning_stable_after": meaning.get("stable_after"),
        "meaning_rows": redefined,
        "meaning_created_only": len(codes) - len(redefined),
        # First-level codes neither created nor redefined while coding an analysed interview.
        "meaning_before": max(0, (evidence.get("codebook") or {}).get("codes", 0) - len(codes)),
        "open_disagreements": sum(item.get("open_disagreements", 0) for item in interviews),
        "with_open_disagreements": sum(1 for i in interviews if i.get("open_disagreements")),
    }
