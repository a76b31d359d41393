"""Recorded agreement rounds: figures on one scale, and kappa's headline made explicit.

Rounds recorded before kept ``percent_agreement`` on 0–100 and, as ``kappa``, NVivo's
size-weighted mean per code. Now every figure is on 0–1 (``agreement_proportion``) and ``kappa``
is the pooled table's kappa, NVivo's mean kept beside it as ``kappa_nvivo_mean``. Over one
transcript the two kappas are the same number, so such rounds keep theirs; over several the
pooled kappa cannot be rebuilt from what was stored, and is left empty rather than guessed.
"""

from django.db import migrations


def forward_figures(figures: dict) -> dict:
    overall = figures.get("overall") or {}
    single = overall.get("transcripts") == 1
    for row in [overall, *(figures.get("codes") or {}).values()]:
        if "percent_agreement" in row:
            pct = row.pop("percent_agreement")
            row["agreement_proportion"] = None if pct is None else round(pct / 100, 4)
        if "kappa_nvivo_mean" not in row and "kappa" in row:
            row["kappa_nvivo_mean"] = row["kappa"]
            if not single:
                row["kappa"] = None
    return figures


def backward_figures(figures: dict) -> dict:
    for row in [figures.get("overall") or {}, *(figures.get("codes") or {}).values()]:
        if "agreement_proportion" in row:
            p = row.pop("agreement_proportion")
            row["percent_agreement"] = None if p is None else round(p * 100, 2)
        if "kappa_nvivo_mean" in row:
            row["kappa"] = row.pop("kappa_nvivo_mean")
        row.pop("kappa_verdict", None)
    figures.pop("transcripts", None)
    return figures


def _rewrite(convert):
    def run(apps, schema_editor):
        AgreementRound = apps.get_model("coding", "AgreementRound")
        for r in AgreementRound.objects.all().only("pk", "figures"):
            r.figures = convert(r.figures or {})
            r.save(update_fields=["figures"])

    return run


class Migration(migrations.Migration):
    dependencies = [("coding", "0010_public_ids")]

    operations = [migrations.RunPython(_rewrite(forward_figures), _rewrite(backward_figures))]
