"""Saturation decisions: the lead records "continue sampling" or "saturation reached" with a
rationale; the decision keeps the evidence the page showed (``SaturationAnalysis.evidence``),
worked out again here from the same parameters, so what is stored is what the server computed,
not what a browser sent."""

from django.core.exceptions import ValidationError
from django.db import transaction

from coding.models import DebriefNote, NoteKind, SaturationDecision, SaturationVerdict
from coding.selectors.blindness import Viewer
from coding.selectors.saturation import SaturationParams, analyse
from workbench import audit
from workbench.access import require


@transaction.atomic
def saturation_decision_record(
    *,
    actor,
    study,
    verdict: str,
    rationale: str,
    params: SaturationParams,
    synthesis: DebriefNote | None = None,
) -> SaturationDecision:
    perms = require(
        actor, study, "manage_analysis", message="Only a lead records saturation decisions."
    )
    if verdict not in SaturationVerdict.values:
        raise ValidationError({"verdict": "Choose “continue sampling” or “saturation reached”."})
    rationale = (rationale or "").strip()
    if not rationale:
        raise ValidationError(
            {"rationale": "Say why: the rationale goes into the methods section."}
        )
    if synthesis is not None and (
        synthesis.study_id != study.pk or synthesis.kind != NoteKind.SYNTHESIS
    ):
        raise ValidationError({"synthesis": "Link one of this study's tentative syntheses."})
    analysis = analyse(Viewer(actor, perms, study), params)
    if not analysis.interviews:
        raise ValidationError("No interview has this layer yet: there is no evidence to decide on.")
    evidence = analysis.evidence()
    if synthesis is not None:
        evidence["synthesis"] = {
            "title": synthesis.title,
            "held_on": synthesis.held_on.isoformat(),
            "ref": synthesis.public_id,
        }
    decision = SaturationDecision.objects.create(
        study=study,
        verdict=verdict,
        rationale=rationale,
        synthesis=synthesis,
        interviews=len(analysis.interviews),
        evidence=evidence,
        decided_by=actor,
    )
    audit.record(
        actor=actor,
        study=study,
        verb="saturation.decide",
        obj=decision,
        after={
            "verdict": verdict,
            "rationale": rationale,
            "interviews": decision.interviews,
            "synthesis": synthesis.title if synthesis else "",
            "parameters": params.as_query(),
            "verdicts": [r["label"] for r in evidence["guest"]["results"]],
        },
    )
    return decision
