"""The fixtures' helpers grant exactly what the services grant."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import UserFactory, create_study, give_roles
from workbench.models import StudyUserObjectPermission
from workbench.roles import Role
from workbench.services import members as member_services
from workbench.services import studies as study_services


def held(user, study):
    return sorted(
        StudyUserObjectPermission.objects.filter(user=user, content_object=study).values_list(
            "permission__codename", "permission__content_type__app_label"
        )
    )


@pytest.mark.parametrize(
    "changes",
    [
        [("lead",)],
        [("coder",)],
        [("reviewer",)],
        [("coder", "reviewer")],
        [("admin", "lead")],
        [("lead",), ("coder",)],
        [("admin", "coder"), ("coder",), ()],
    ],
    ids=lambda changes: " then ".join("+".join(roles) or "none" for roles in changes),
)
def test_fixture_grants_equal_the_services_grants(db, changes):
    """Two studies side by side: one through the services, one through the fixtures."""
    owner_a, owner_b = UserFactory(username="owner-a"), UserFactory(username="owner-b")
    study_a = study_services.study_create(actor=owner_a, name="Through the services")
    study_b = create_study(owner_b, "Through the fixtures")
    assert held(owner_b, study_b) == held(owner_a, study_a) != []
    member_a, member_b = UserFactory(username="member-a"), UserFactory(username="member-b")
    for roles in changes:
        member_services.member_set_roles(
            actor=owner_a, study=study_a, user=member_a, roles=set(roles)
        )
        give_roles(study_b, member_b, *roles)
        assert held(member_b, study_b) == held(member_a, study_a)
    assert StudyUserObjectPermission.objects.filter(content_object=study_b).count() == (
        StudyUserObjectPermission.objects.filter(content_object=study_a).count()
    )


def test_nothing_is_written_when_the_service_refuses(db):
    owner = UserFactory(username="owner")
    study = create_study(owner, "Study")
    before = held(owner, study)
    with pytest.raises(ValidationError, match="at least one admin"):
        give_roles(study, owner, Role.CODER)
    assert held(owner, study) == before
