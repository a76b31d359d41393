"""Research design writes: research questions, the interview guide, dimensions and values."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from workbench import audit
from workbench.locking import lock_row, next_position
from workbench.models import (
    Dimension,
    DimensionValue,
    GuideQuestion,
    ResearchQuestion,
    Study,
)


def _dup(queryset, field: str, value: str, exclude_pk=None) -> bool:
    qs = queryset.filter(**{f"{field}__iexact": value})
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _save_or_explain(obj, field: str, message: str) -> None:
    """Save; a unique constraint lost to a concurrent insert becomes a field error."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise ValidationError({field: message}) from exc


@transaction.atomic
def research_question_create(*, actor, study: Study, label: str, text: str) -> ResearchQuestion:
    label, text = label.strip(), text.strip()
    if _dup(study.research_questions, "label", label):
        raise ValidationError({"label": f"{label} is already used by another research question."})
    rq = ResearchQuestion(
        study=study, label=label, text=text, position=next_position(study.research_questions)
    )
    _save_or_explain(rq, "label", f"{label} is already used by another research question.")
    audit.record(
        actor=actor,
        study=study,
        verb="research_question.create",
        obj=rq,
        after=audit.snapshot(rq),
    )
    return rq


@transaction.atomic
def research_question_update(
    *, actor, rq: ResearchQuestion, version: int, label: str, text: str
) -> ResearchQuestion:
    rq = lock_row(ResearchQuestion, rq.pk, version=version)
    label, text = label.strip(), text.strip()
    if _dup(rq.study.research_questions, "label", label, exclude_pk=rq.pk):
        raise ValidationError({"label": f"{label} is already used by another research question."})
    before = audit.snapshot(rq)
    rq.label, rq.text = label, text
    rq.version += 1
    _save_or_explain(rq, "label", f"{label} is already used by another research question.")
    audit.record_changes(actor=actor, study=rq.study, obj=rq, before=before)
    return rq


@transaction.atomic
def guide_question_create(
    *, actor, study: Study, text: str, probes: str = "", research_questions=()
) -> GuideQuestion:
    rqs = _own_research_questions(study, research_questions)
    gq = GuideQuestion.objects.create(
        study=study,
        text=text.strip(),
        probes=probes.strip(),
        position=next_position(study.guide_questions),
    )
    gq.research_questions.set(rqs)
    audit.record(
        actor=actor,
        study=study,
        verb="guide_question.create",
        obj=gq,
        after=audit.snapshot(gq),
    )
    return gq


@transaction.atomic
def guide_question_update(
    *, actor, gq: GuideQuestion, version: int, text: str, probes: str, research_questions
) -> GuideQuestion:
    gq = lock_row(GuideQuestion, gq.pk, version=version)
    rqs = _own_research_questions(gq.study, research_questions)
    before = audit.snapshot(gq)
    gq.text, gq.probes = text.strip(), probes.strip()
    gq.version += 1
    gq.save()
    gq.research_questions.set(rqs)
    audit.record_changes(actor=actor, study=gq.study, obj=gq, before=before)
    return gq


def _own_research_questions(study: Study, research_questions) -> list[ResearchQuestion]:
    rqs = list(research_questions)
    if any(rq.study_id != study.pk for rq in rqs):
        raise ValidationError(
            {"research_questions": "A guide question can only serve this study's questions."}
        )
    return rqs


@transaction.atomic
def dimension_create(*, actor, study: Study, name: str, description: str = "", values=()):
    name = name.strip()
    if _dup(study.dimensions, "name", name):
        raise ValidationError({"name": f"This study already has a dimension named {name}."})
    dimension = Dimension(
        study=study,
        name=name,
        description=description.strip(),
        position=next_position(study.dimensions),
    )
    _save_or_explain(dimension, "name", f"This study already has a dimension named {name}.")
    audit.record(
        actor=actor,
        study=study,
        verb="dimension.create",
        obj=dimension,
        after=audit.snapshot(dimension),
    )
    for label in values:
        dimension_value_create(actor=actor, dimension=dimension, label=label)
    return dimension


@transaction.atomic
def dimension_update(*, actor, dimension: Dimension, version: int, name: str, description: str):
    dimension = lock_row(Dimension, dimension.pk, version=version)
    name = name.strip()
    if _dup(dimension.study.dimensions, "name", name, exclude_pk=dimension.pk):
        raise ValidationError({"name": f"This study already has a dimension named {name}."})
    before = audit.snapshot(dimension)
    dimension.name, dimension.description = name, description.strip()
    dimension.version += 1
    _save_or_explain(dimension, "name", f"This study already has a dimension named {name}.")
    audit.record_changes(actor=actor, study=dimension.study, obj=dimension, before=before)
    return dimension


@transaction.atomic
def dimension_value_create(*, actor, dimension: Dimension, label: str) -> DimensionValue:
    label = label.strip()
    if _dup(dimension.values, "label", label):
        raise ValidationError({"label": f"{dimension.name} already has the value {label}."})
    value = DimensionValue(
        dimension=dimension, label=label, position=next_position(dimension.values)
    )
    _save_or_explain(value, "label", f"{dimension.name} already has the value {label}.")
    audit.record(
        actor=actor,
        study=dimension.study,
        verb="dimension_value.create",
        obj=value,
        after=audit.snapshot(value),
    )
    return value


@transaction.atomic
def dimension_value_update(*, actor, value: DimensionValue, version: int, label: str):
    value = lock_row(DimensionValue, value.pk, version=version)
    label = label.strip()
    if _dup(value.dimension.values, "label", label, exclude_pk=value.pk):
        raise ValidationError({"label": f"{value.dimension.name} already has the value {label}."})
    before = audit.snapshot(value)
    value.label = label
    value.version += 1
    _save_or_explain(value, "label", f"{value.dimension.name} already has the value {label}.")
    audit.record_changes(actor=actor, study=value.dimension.study, obj=value, before=before)
    return value


def _siblings(obj):
    if isinstance(obj, DimensionValue):
        return DimensionValue.objects.filter(dimension_id=obj.dimension_id)
    return type(obj).objects.filter(study_id=obj.study_id)


@transaction.atomic
def design_item_delete(*, actor, study: Study, obj, version: int) -> None:
    """Delete a research question, guide question, dimension or dimension value."""
    obj = lock_row(type(obj), obj.pk, version=version)
    before = audit.snapshot(obj)
    if isinstance(obj, Dimension):
        before["values"] = [value.label for value in obj.values.all()]
    if isinstance(obj, ResearchQuestion):
        before["guide_questions"] = [str(gq) for gq in obj.guide_questions.all()]
    audit.record(actor=actor, study=study, verb=f"{obj.audit_type}.delete", obj=obj, before=before)
    obj.delete()


@transaction.atomic
def design_item_move(*, actor, study: Study, obj, direction: str) -> None:
    """Swap an item with its neighbour above ("up") or below ("down")."""
    if direction not in {"up", "down"}:
        raise ValidationError("Move items up or down.")
    siblings = list(_siblings(obj).select_for_update().order_by("position", "id"))
    # Renumber first so that positions are dense and distinct whatever history left behind.
    index = next((i for i, item in enumerate(siblings) if item.pk == obj.pk), None)
    if index is None:
        raise ValidationError("This item no longer exists; it may have been deleted.")
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(siblings):
        return
    siblings[index], siblings[target] = siblings[target], siblings[index]
    for position, item in enumerate(siblings, start=1):
        if item.position != position:
            item.position = position
            item.save(update_fields=["position"])
    audit.record(
        actor=actor,
        study=study,
        verb=f"{obj.audit_type}.move",
        obj=obj,
        before={"position": index + 1},
        after={"position": target + 1},
    )
