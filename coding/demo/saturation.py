"""The lead's saturation decisions in the demo, as the seed paper's team took them (§4.2.3):
after I6 a tentative synthesis and "continue sampling" (themes were still appearing), after I9
"saturation reached" (the last runs added no theme). Each is recorded when its interview's
consensus is complete, so its snapshot holds the evidence the team saw then."""

from coding.models import DebriefNote, NoteKind, SaturationDecision
from coding.selectors.saturation import SaturationParams
from coding.services.saturation import saturation_decision_record

DECISIONS = {
    "I6": (
        "continue",
        "Tentative synthesis after I6",
        "Themes are settling but not settled: the run I5–I6 still added two themes (22 % of "
        "the nine in I1–I4) and the sample is mostly European and organisational. We widen it "
        "with I7–I9 and stop once a run of two interviews adds no theme.",
    ),
    "I9": (
        "reached",
        None,
        "Runs I7–I8 and I8–I9 added no theme (0 %, base 4, run 2) and I7 brought one "
        "first-level code under an existing theme; the last three interviews widened the "
        "sample as the synthesis after I6 planned. We conclude data collection; I10 is coded "
        "to confirm.",
    ),
}


def decide(*, interview: str, study, lead) -> None:
    """Idempotent: records the decision taken after ``interview``, if there is one and the
    study has no decision of that verdict yet."""
    if interview not in DECISIONS:
        return
    verdict, synthesis_title, rationale = DECISIONS[interview]
    if SaturationDecision.objects.filter(study=study, verdict=verdict).exists():
        return
    synthesis = None
    if synthesis_title:
        synthesis = DebriefNote.objects.filter(
            study=study, kind=NoteKind.SYNTHESIS, title=synthesis_title
        ).first()
    saturation_decision_record(
        actor=lead,
        study=study,
        verdict=verdict,
        rationale=rationale,
        params=SaturationParams(),
        synthesis=synthesis,
    )
