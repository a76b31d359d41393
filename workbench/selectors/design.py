"""The research design of a study: research questions, guide, dimensions."""

from dataclasses import dataclass

from django.db.models import Prefetch

from workbench.models import (
    Dimension,
    DimensionValue,
    GuideQuestion,
    ResearchQuestion,
    Study,
)


@dataclass
class Design:
    research_questions: list[ResearchQuestion]
    guide_questions: list[GuideQuestion]
    dimensions: list[Dimension]


def study_design(study: Study) -> Design:
    """The research design in four queries, whatever its size."""
    research_questions = list(study.research_questions.all())
    guide_questions = list(
        study.guide_questions.prefetch_related(
            Prefetch(
                "research_questions",
                queryset=ResearchQuestion.objects.order_by("position", "id"),
            )
        )
    )
    dimensions = list(
        study.dimensions.prefetch_related(
            Prefetch("values", queryset=DimensionValue.objects.order_by("position", "id"))
        )
    )
    return Design(research_questions, guide_questions, dimensions)


DESIGN_MODELS = {
    "rq": ResearchQuestion,
    "guide": GuideQuestion,
    "dimension": Dimension,
    "value": DimensionValue,
}


def design_item(study: Study, kind: str, pk: int):
    """A design item of this study, or None (so another study's ids look like missing ones)."""
    model = DESIGN_MODELS.get(kind)
    if model is None:
        return None
    scope = {"dimension__study": study} if model is DimensionValue else {"study": study}
    return model.objects.filter(pk=pk, **scope).first()


def guide_question_number(gq: GuideQuestion) -> int:
    """Its number in the guide as shown (Q1, Q2, ...), counted in display order."""
    order = gq.study.guide_questions.values_list("pk", flat=True)
    return list(order).index(gq.pk) + 1
