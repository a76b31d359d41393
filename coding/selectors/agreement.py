"""Agreement figures for a study, read from the database and computed by ``coding.agreement``.

Only transcripts whose two layers are both submitted are compared: before that the figures
would move under the coders' hands, and in independent mode a comparison would break
blindness. Withdrawn transcripts are left out, as from every analysis. The page, its CSV and
``manage.py agreement`` all print the rows built here, so the three always agree.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import Length

from coding import agreement
from coding.models import Code, Coding, Layer, LayerRole, LayerStatus
from transcripts.models import SpeakerRole, Utterance
from transcripts.selectors.transcripts import analysable_transcripts

RELIABLE, TENTATIVE = 0.800, 0.667  # Krippendorff's thresholds for alpha
SCALE = (
    "Every figure is on 0-1: agreement_proportion is the share of characters both or neither "
    "coder coded (NVivo's percentage agreement / 100); kappa and alpha are coefficients "
    "(1 = perfect agreement, 0 = chance, below 0 = worse than chance)."
)

# Speaker-aware agreement counts only what participants (and others who are not the
# interviewer) said: interviewer turns are rarely coded, and their agreement inflates figures.
SPEAKER_AWARE_ROLES = frozenset(SpeakerRole.values) - {SpeakerRole.INTERVIEWER}


def verdict(alpha: float | None) -> str:
    if alpha is None:
        return "undefined"
    if alpha >= RELIABLE:
        return "reliable"
    if alpha >= TENTATIVE:
        return "tentative"
    return "unreliable"


@dataclass
class Report:
    study: object
    transcripts: list  # the compared transcripts, in id order, with .coder_a / .coder_b
    pending: int  # transcripts with layers not both submitted yet
    codes: dict  # code id → Code
    result: agreement.StudyAgreement | None
    speaker_aware: bool

    @property
    def empty(self) -> bool:
        return self.result is None


def comparable(study, *, transcript_ids=None, coders=None):
    """Analysable transcripts with both layers submitted (optionally: these ids, or those two
    coders shared), and how many more have layers still open."""
    # Subqueries, not joins, for the filters: the layer count below must see both layers.
    qs = analysable_transcripts(study).filter(pk__in=Layer.objects.values("transcript"))
    if transcript_ids is not None:
        qs = qs.filter(pk__in=transcript_ids)
    if coders is not None:
        for coder in coders:
            qs = qs.filter(pk__in=Layer.objects.filter(coder=coder).values("transcript"))
    qs = qs.annotate(
        submitted=Count("layers", filter=Q(layers__status=LayerStatus.SUBMITTED), distinct=True),
        length=Length("text"),
    ).order_by("pk")
    rows = list(qs.defer("text").select_related("participant"))
    ready = [t for t in rows if t.submitted == 2]
    return ready, len(rows) - len(ready)


def build(study, *, transcript_ids=None, coders=None, speaker_aware=False) -> Report:
    """Every coefficient, per transcript, per code and overall, in five queries.

    ``coders``: a pair (A, B) of users; each transcript is then oriented so that A's layer comes
    first, whichever role A had on it.
    """
    transcripts, pending = comparable(study, transcript_ids=transcript_ids, coders=coders)
    ids = [t.pk for t in transcripts]
    layers: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    coder_of: dict[tuple[int, str], object] = {}
    rows = (
        Coding.objects.filter(layer__transcript_id__in=ids)
        .values_list("layer__transcript_id", "layer__role", "code_id", "start", "end")
        .order_by("layer__transcript_id", "start", "end", "id")
    )
    for transcript_id, role, code_id, start, end in rows:
        layers[transcript_id][role].append((code_id, start, end))
    # Coder names per layer (a layer may have no codings, so ask the layers themselves).
    for layer in Layer.objects.filter(transcript_id__in=ids).select_related("coder"):
        coder_of[(layer.transcript_id, layer.role)] = layer.coder
    utterances = defaultdict(list)
    for transcript_id, start, end, role in Utterance.objects.filter(
        transcript_id__in=ids
    ).values_list("transcript_id", "start", "end", "role"):
        utterances[transcript_id].append((start, end, role))
    inputs = []
    for t in transcripts:
        order = [LayerRole.PRIMARY, LayerRole.SECOND]
        if coders is not None and coder_of[(t.pk, LayerRole.SECOND)] == coders[0]:
            order.reverse()
        t.coder_a, t.coder_b = (coder_of[(t.pk, role)] for role in order)
        inputs.append(
            agreement.TranscriptInput(
                key=t.pk,
                length=t.length,
                layers=[layers[t.pk][role] for role in order],
                utterances=utterances[t.pk],
            )
        )
    codes = {c.pk: c for c in Code.objects.filter(study=study)}
    result = (
        agreement.study_agreement(inputs, roles=SPEAKER_AWARE_ROLES if speaker_aware else None)
        if inputs
        else None
    )
    return Report(
        study=study,
        transcripts=transcripts,
        pending=pending,
        codes=codes,
        result=result,
        speaker_aware=speaker_aware,
    )


# --- rows: what the page, the CSV and the command print -----------------------------------
#
# One scale: every figure is a proportion or a coefficient on 0–1 (``agreement_proportion``
# is NVivo's "percentage agreement" / 100); only the page prints it as a percentage.


def _r(value, digits=3):
    return None if value is None else round(float(value), digits)


def kappa_verdict(summary) -> str:
    """The reliability verdict on a code's headline (pooled) kappa, on Krippendorff's thresholds
    as for alpha. A code the coders share no coded character of fails as "no-agreement",
    whatever NVivo's mean says."""
    if summary is None or summary.kappa is None:
        return "undefined"
    if summary.no_agreement:
        return "no-agreement"
    return verdict(summary.kappa)


def code_rows(report: Report) -> list[dict]:
    """Per code: the three coefficients with the counts behind them."""
    result = report.result
    if result is None:
        return []
    out = []
    for code_id in result.codes:
        kappa = result.kappa.per_code.get(code_id) if result.kappa else None
        alpha = result.utterance_alpha.per_code.get(code_id) if result.utterance_alpha else None
        unit = result.unitizing.per_code.get(code_id)
        code = report.codes.get(code_id)
        out.append(
            {
                "code": code.name if code else str(code_id),
                "transcripts": kappa.sources if kappa else len(report.transcripts),
                "characters": kappa.units if kappa else (unit.length if unit else 0),
                "coded_a": kappa.pooled.a_coded if kappa else None,
                "coded_b": kappa.pooled.b_coded if kappa else None,
                "coded_both": kappa.pooled.both if kappa else None,
                "agreement_proportion": _r(kappa.pooled.po, 4) if kappa else None,
                "kappa": _r(kappa.kappa) if kappa else None,
                "kappa_verdict": kappa_verdict(kappa),
                "kappa_nvivo_mean": _r(kappa.nvivo_kappa) if kappa else None,
                "utterances": alpha.units if alpha else None,
                "utterances_a": alpha.present[0] if alpha else None,
                "utterances_b": alpha.present[1] if alpha else None,
                "alpha_nominal": _r(alpha.alpha) if alpha else None,
                "units_a": unit.units[0] if unit else None,
                "units_b": unit.units[1] if unit else None,
                "alpha_u": _r(unit.alpha) if unit else None,
                "alpha_u_verdict": verdict(unit.alpha if unit else None),
            }
        )
    return out


def _kappa_figures(kappa) -> dict:
    """Kappa figures across codes: a study's ``KappaSummary`` or a transcript's
    ``KappaOverCodes`` (the same function computed both, see ``coding.agreement.kappa``)."""
    return {
        "agreement_proportion": _r(kappa.agreement, 4) if kappa else None,
        "kappa": _r(kappa.kappa) if kappa else None,
        "kappa_unweighted": _r(kappa.kappa_unweighted) if kappa else None,
    }


def overall(report: Report) -> dict:
    result = report.result
    if result is None:
        return {}
    alpha = result.utterance_alpha.overall if result.utterance_alpha else None
    return (
        {
            "transcripts": len(report.transcripts),
            "characters": result.unitizing.length,
            "codes": len(result.codes),
        }
        | _kappa_figures(result.kappa)
        | {
            "kappa_nvivo_mean": _r(result.kappa.nvivo_kappa_weighted) if result.kappa else None,
            "alpha_nominal": _r(alpha.alpha) if alpha else None,
            "alpha_nominal_verdict": verdict(alpha.alpha if alpha else None),
            "alpha_u": _r(result.unitizing.alpha),
            "alpha_u_verdict": verdict(result.unitizing.alpha),
        }
    )


def transcript_rows(report: Report) -> list[dict]:
    """Per transcript: its figures as its own page shows them (the same functions on its data
    alone, see ``coding.agreement.study``)."""
    result = report.result
    if result is None:
        return []
    out = []
    for t, per in zip(report.transcripts, result.transcripts, strict=True):
        kappa = _kappa_figures(per.kappa_overall)
        alpha = per.utterance_alpha.overall if per.utterance_alpha else None
        out.append(
            {
                "transcript": t.pk,
                "title": t.title,
                "participant": t.participant.code,
                "coder_a": t.coder_a.get_username(),
                "coder_b": t.coder_b.get_username(),
                "characters": per.counted_length,
                "agreement_proportion": kappa["agreement_proportion"],
                "kappa": kappa["kappa"],
                "alpha_nominal": _r(alpha.alpha) if alpha else None,
                "alpha_u": _r(per.unitizing.alpha),
                "alpha_u_verdict": verdict(per.unitizing.alpha),
            }
        )
    return out


def flat_rows(report: Report) -> tuple[list[str], list[dict]]:
    """Overall, per-code and per-transcript rows as one table (CSV): a ``level`` column says
    which is which."""
    rows = [{"level": "overall", "name": "all codes"} | overall(report)] if report.result else []
    rows += [{"level": "code", "name": row.pop("code")} | row for row in code_rows(report)]
    rows += [
        {"level": "transcript", "name": f"{row.pop('participant')}: {row.pop('title')}"} | row
        for row in transcript_rows(report)
    ]
    fields = list(dict.fromkeys(key for row in rows for key in row))
    return fields, rows


def as_json(report: Report) -> dict:
    return {
        "study": report.study.slug,
        "speaker_aware": report.speaker_aware,
        "compared_transcripts": len(report.transcripts),
        "transcripts_not_yet_submitted": report.pending,
        "scale": SCALE,
        "thresholds": {"reliable": RELIABLE, "tentative": TENTATIVE},
        "overall": overall(report),
        "codes": code_rows(report),
        "transcripts": transcript_rows(report),
    }
