"""Study access beyond the role matrix (test_role_matrix.py): outsiders, superusers, lookups."""

import pytest
from django.urls import reverse

from workbench.access import study_for


def test_outsider_cannot_tell_a_study_exists(client, study, outsider):
    client.force_login(outsider)
    real = client.get(reverse("study_dashboard", kwargs={"study_slug": study.slug}))
    fake = client.get(reverse("study_dashboard", kwargs={"study_slug": "no-such-study"}))
    assert real.status_code == fake.status_code == 404
    assert study.name not in real.content.decode()
    assert real.content == fake.content


def test_superuser_without_role_is_an_outsider_in_the_app(client, study, db):
    from tests.factories import UserFactory

    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    assert (
        client.get(reverse("study_dashboard", kwargs={"study_slug": study.slug})).status_code == 404
    )
    assert study.name not in client.get(reverse("study_list")).content.decode()
    # ...while the Django admin is theirs.
    assert client.get(reverse("admin:workbench_study_changelist")).status_code == 200


def test_design_item_of_another_study_is_404(client, study, design, outsider):
    from workbench.models import Study

    other = Study.objects.get(name="Someone else's study")
    client.force_login(outsider)
    # The outsider leads their own study but asks for an RQ of ours through their study's URL.
    from tests.factories import give_roles

    give_roles(other, outsider, "admin", "lead", actor=outsider)
    url = reverse(
        "design_item_edit", kwargs={"study_slug": other.slug, "kind": "rq", "pk": design["rq1"].pk}
    )
    assert client.get(url).status_code == 404
    url = reverse("member_roles", kwargs={"study_slug": other.slug, "user_id": study.created_by.pk})
    assert client.get(url).status_code == 404


def test_unknown_design_kind_is_404(client, study, design, lead):
    client.force_login(lead)
    url = reverse("design_item_edit", kwargs={"study_slug": study.slug, "kind": "x", "pk": 1})
    assert client.get(url).status_code == 404


def test_study_for_rejects_unknown_permission(rf, study, admin_user):
    request = rf.get("/")
    request.user = admin_user
    with pytest.raises(ValueError):
        study_for(request, study.slug, need="fly")


def test_study_list_shows_only_my_studies_with_my_roles(client, study, coder, outsider):
    client.force_login(coder)
    page = client.get(reverse("study_list")).content.decode()
    assert "Open LLM interviews" in page
    assert "Someone else&#x27;s study" not in page and "Someone else's study" not in page
    assert "Coder" in page


def test_permissions_follow_roles_after_the_role_map_changes(study, coder, monkeypatch):
    """A role that gains a permission (a new feature) gets it for existing members on migrate."""
    from django.core.management import call_command

    from workbench import roles
    from workbench.services import members as member_services

    request = type("R", (), {"user": coder})()
    assert not study_for(request, study.slug).can("view_audit")
    widened = dict(roles.ROLE_PERMISSIONS)
    widened[roles.Role.CODER] = widened[roles.Role.CODER] | {"view_audit"}
    monkeypatch.setattr(roles, "ROLE_PERMISSIONS", widened)
    call_command("migrate", verbosity=0)
    assert study_for(request, study.slug).can("view_audit")
    # ...and nothing changes when run again.
    assert member_services.permissions_sync_all() == 0
