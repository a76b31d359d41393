"""Creating and editing studies. Atomic; each writes its audit event in the same transaction."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from workbench import audit
from workbench.locking import lock_row
from workbench.models import (
    Study,
)
from workbench.roles import Role
from workbench.services.members import grant_roles


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "study"
    slug, n = base, 2
    while Study.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def study_create(*, actor, name: str, description: str = "", slug: str = "") -> Study:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the study a name."})
    slug = slugify(slug) if slug else _unique_slug(name)
    if Study.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": "Another study already uses this address."})
    study = Study.objects.create(
        name=name, slug=slug, description=description.strip(), created_by=actor
    )
    audit.record(
        actor=actor,
        study=study,
        verb="study.create",
        obj=study,
        after={"name": study.name, "slug": study.slug, "description": study.description},
    )
    grant_roles(actor=actor, study=study, user=actor, roles={Role.ADMIN})
    return study


@transaction.atomic
def study_update(
    *,
    actor,
    study: Study,
    version: int,
    name: str,
    description: str,
    requires_pseudonymisation: bool | None = None,
) -> Study:
    study = lock_row(Study, study.pk, version=version)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the study a name."})
    fields = ("name", "description", "requires_pseudonymisation")
    before = {key: getattr(study, key) for key in fields}
    study.name, study.description = name, description.strip()
    if requires_pseudonymisation is not None:
        study.requires_pseudonymisation = requires_pseudonymisation
    study.version += 1
    study.save(update_fields=[*fields, "version"])
    after = {key: getattr(study, key) for key in fields}
    audit.record_changes(
        actor=actor, study=study, obj=study, before=before, after=after, verb="study.update"
    )
    return study
