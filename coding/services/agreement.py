"""Recording an agreement round: a dated snapshot of the study's agreement figures."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from coding.models import (
    AgreementRound,
    RoundKind,
)
from coding.selectors import agreement as agreement_report
from coding.services.notes import refuse_unless
from workbench import audit
from workbench.access import member_perms
from workbench.models import Study

ROUND_RECORDERS = "manage_assignments"


def can_record_rounds(perms) -> bool:
    return ROUND_RECORDERS in perms


CODE_FIGURES = (
    "alpha_u",
    "alpha_nominal",
    "kappa",
    "kappa_verdict",
    "kappa_nvivo_mean",
    "agreement_proportion",
    "transcripts",
    "characters",
)
TRANSCRIPT_FIGURES = (
    "title",
    "participant",
    "characters",
    "agreement_proportion",
    "kappa",
    "alpha_nominal",
    "alpha_u",
)


def round_figures(report: agreement_report.Report) -> dict:
    """What a round keeps of a report: the overall figures as the page shows them, per code
    (keyed by code id, so a renamed code stays one line) its name, coefficients and counts, and
    per transcript (keyed by id) its figures as the per-transcript table shows them."""
    codes = {}
    # ``code_rows`` walks ``result.codes`` in order: pair each row with its code id.
    for code_id, row in zip(report.result.codes, agreement_report.code_rows(report), strict=True):
        codes[str(code_id)] = {"name": row["code"]} | {key: row[key] for key in CODE_FIGURES}
    transcripts = {
        str(row["transcript"]): {key: row[key] for key in TRANSCRIPT_FIGURES}
        for row in agreement_report.transcript_rows(report)
    }
    return {"overall": agreement_report.overall(report), "codes": codes, "transcripts": transcripts}


@transaction.atomic
def agreement_round_record(*, actor, study: Study, label: str, kind: str) -> AgreementRound:
    """Keep the study's agreement figures as they are now, as round 1, 2, 3… of the study."""
    refuse_unless(
        can_record_rounds(member_perms(actor, study)), "Only leads record agreement rounds."
    )
    label = " ".join((label or "").split())
    if not label:
        raise ValidationError({"label": "Name the round, e.g. “Before reconciliation, I1–I5”."})
    if len(label) > 200:
        raise ValidationError({"label": "Keep the label under 200 characters."})
    if kind not in RoundKind.values:
        raise ValidationError({"kind": "Choose what kind of round this is."})
    # One recording at a time per study: the number is taken and the figures read under the
    # study's row lock, so two leads recording at once get rounds n and n + 1, never a clash.
    Study.objects.select_for_update().get(pk=study.pk)
    report = agreement_report.build(study)
    if report.empty:
        raise ValidationError(
            "No transcript has both layers submitted yet: there are no figures to record.",
            code="empty",
        )
    figures = round_figures(report)
    number = (AgreementRound.objects.filter(study=study).aggregate(n=Max("number"))["n"] or 0) + 1
    agreement_round = AgreementRound.objects.create(
        study=study,
        number=number,
        label=label,
        kind=kind,
        recorded_by=actor,
        transcripts=figures["overall"]["transcripts"],
        figures=figures,
    )
    audit.record(
        actor=actor,
        study=study,
        verb="agreement_round.record",
        obj=agreement_round,
        after={
            "number": number,
            "label": label,
            "kind": kind,
            "transcripts": agreement_round.transcripts,
            "alpha_u": figures["overall"]["alpha_u"],
            "kappa": figures["overall"]["kappa"],
        },
    )
    return agreement_round
