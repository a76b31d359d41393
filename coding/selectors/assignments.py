"""Coding progress per transcript: who codes it and how far each layer has got.

Only layer statuses are shown here, never codings or their counts. To a person coding a
transcript blind, the other coder's layer shows only as submitted or not: whether that coder
has started is part of their layer too.
"""

from dataclasses import dataclass, field

from django.db.models import Prefetch

from coding.models import Assignment, Layer, LayerRole, LayerStatus
from transcripts.selectors.transcripts import analysable_transcripts

STEP = {LayerStatus.NOT_STARTED: 0, LayerStatus.IN_PROGRESS: 1, LayerStatus.SUBMITTED: 2}


@dataclass
class Progress:
    transcript: object
    assignment: Assignment | None
    layers: dict[str, Layer] = field(default_factory=dict)

    @property
    def percent(self) -> int:
        """Two layers, each worth half once submitted and a quarter while in progress."""
        steps = sum(
            0 if layer.blind and layer.status != LayerStatus.SUBMITTED else STEP[layer.status]
            for layer in self.layers.values()
        )
        return round(100 * steps / 4)

    @property
    def primary(self) -> Layer | None:
        return self.layers.get(LayerRole.PRIMARY)

    @property
    def second(self) -> Layer | None:
        return self.layers.get(LayerRole.SECOND)


def transcript_progress(study, blind=frozenset()) -> list[Progress]:
    """Every analysable, ready transcript with its assignment and layers, in four queries.

    ``blind``: ids of the layers the viewer codes blind against (``blindness.blind_layers``);
    each gets ``blind = True`` and shows only whether it is submitted."""
    transcripts = (
        analysable_transcripts(study)
        .filter(status="ready")
        .defer("text")
        .select_related(
            "participant",
            "assignment__primary_coder",
            "assignment__second_coder",
        )
        .prefetch_related(
            Prefetch("layers", queryset=Layer.objects.select_related("coder").order_by("role"))
        )
        .order_by("participant__code", "interview_date", "id")
    )
    rows = []
    for transcript in transcripts:
        try:
            assignment = transcript.assignment
        except Assignment.DoesNotExist:
            assignment = None
        layers = {layer.role: layer for layer in transcript.layers.all()}
        for layer in layers.values():
            layer.blind = layer.pk in blind
            hidden = layer.blind and layer.status != LayerStatus.SUBMITTED
            layer.shown_status = "blind" if hidden else layer.status
            layer.shown_status_label = (
                "not submitted yet" if hidden else layer.get_status_display().lower()
            )
        rows.append(Progress(transcript=transcript, assignment=assignment, layers=layers))
    return rows


def study_percent(rows: list[Progress]) -> int:
    return round(sum(row.percent for row in rows) / len(rows)) if rows else 0


def my_layers(study, user) -> list[Layer]:
    """The layers a person is coding in this study, for their own to-do list."""
    return list(
        Layer.objects.filter(transcript__study=study, coder=user)
        .select_related("transcript__participant")
        .defer("transcript__text")
        .order_by("status", "transcript__participant__code")
    )


def coding_mode(transcript) -> str | None:
    assignment = Assignment.objects.filter(transcript=transcript).first()
    return assignment.mode if assignment else None
