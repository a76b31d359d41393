"""Saturation decisions: what the team decided about data collection, and the evidence it saw.

A decision keeps a snapshot of everything the saturation page showed when it was taken (the
parameters, the layer counted, every run of the Guest et al. table, the curves' numbers, the
codebook's state), so later coding, reordering or codebook changes never rewrite what the team
based the decision on. The page draws each decision on the curve at ``interviews`` (how many
interviews the analysis held then).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from coding.models.notes import DebriefNote
from workbench.models import Study
from workbench.public_ids import public_id_field


class SaturationVerdict(models.TextChoices):
    CONTINUE = "continue", "Continue sampling"
    REACHED = "reached", "Saturation reached"


class SaturationDecision(models.Model):
    public_id = public_id_field()
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="saturation_decisions")
    verdict = models.CharField(max_length=10, choices=SaturationVerdict.choices)
    rationale = models.TextField()
    # The tentative synthesis the decision rests on, if the team wrote one (the seed paper did
    # after I10). The snapshot keeps its title, so a deleted note still shows what it was.
    synthesis = models.ForeignKey(
        DebriefNote, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    interviews = models.PositiveIntegerField()  # interviews in the analysis at the time
    evidence = models.JSONField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    audit_type = "saturation_decision"
    audit_fields = ("verdict", "rationale", "synthesis", "interviews")

    class Meta:
        ordering = ["decided_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(verdict__in=SaturationVerdict.values),
                name="saturation_decision_known_verdict",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} after {self.interviews} interviews"
