"""Cases (e.g. the open LLM project a participant speaks for)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from transcripts.models import (
    AttributeTarget,
    Case,
)
from transcripts.selectors.attributes import clean_values
from transcripts.services.attributes import (
    attributes_of,
    attributes_snapshot,
    required_text,
    save_unique,
)
from workbench import audit
from workbench.locking import lock_row
from workbench.models import Study


@transaction.atomic
def case_create(*, actor, study: Study, name: str, description: str = "", attributes=None):
    name = required_text(name, "name", "case a name", 200)
    message = f"This study already has a case named {name}."
    if study.cases.filter(name__iexact=name).exists():
        raise ValidationError({"name": message})
    values = clean_values(attributes_of(study, AttributeTarget.CASE), attributes or {})
    case = Case(study=study, name=name, description=description.strip(), attributes=values)
    save_unique(case, "name", message)
    audit.record(
        actor=actor,
        study=study,
        verb="case.create",
        obj=case,
        after={
            "name": case.name,
            "description": case.description,
            "attributes": attributes_snapshot(study, AttributeTarget.CASE, values),
        },
    )
    return case


@transaction.atomic
def case_update(*, actor, case: Case, version: int, name: str, description: str, attributes):
    case_attributes = attributes_of(case.study, AttributeTarget.CASE)
    case = lock_row(Case, case.pk, version=version)
    study = case.study
    name = required_text(name, "name", "case a name", 200)
    message = f"This study already has a case named {name}."
    if study.cases.filter(name__iexact=name).exclude(pk=case.pk).exists():
        raise ValidationError({"name": message})
    values = clean_values(case_attributes, attributes or {})
    before = {
        "name": case.name,
        "description": case.description,
        "attributes": attributes_snapshot(study, AttributeTarget.CASE, case.attributes),
    }
    case.name, case.description, case.attributes = name, description.strip(), values
    case.version += 1
    save_unique(case, "name", message)
    after = {
        "name": case.name,
        "description": case.description,
        "attributes": attributes_snapshot(study, AttributeTarget.CASE, values),
    }
    audit.record_changes(actor=actor, study=study, obj=case, before=before, after=after)
    return case


@transaction.atomic
def case_delete(*, actor, case: Case, version: int) -> None:
    case = lock_row(Case, case.pk, version=version)
    if case.participants.exists():
        raise ValidationError("Participants still belong to this case; move them first.")
    audit.record(
        actor=actor, study=case.study, verb="case.delete", obj=case, before={"name": case.name}
    )
    case.delete()
