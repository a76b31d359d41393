import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import UserFactory, give_roles
from workbench.models import AuditEvent, Membership
from workbench.roles import Role
from workbench.services import invitations as invitation_services
from workbench.services import members as member_services
from workbench.services import studies as study_services


def roles_of(study, user):
    return set(Membership.objects.filter(study=study, user=user).values_list("role", flat=True))


def url(name, study, **kwargs):
    return reverse(name, kwargs={"study_slug": study.slug, **kwargs})


class TestStudyCreation:
    def test_creator_becomes_admin_and_it_is_audited(self, client, admin_user):
        client.force_login(admin_user)
        response = client.post(reverse("study_create"), {"name": "Maker spaces", "description": ""})
        study = admin_user.memberships.get().study
        assert response.status_code == 302
        assert response.url == url("study_dashboard", study)
        assert roles_of(study, admin_user) == {Role.ADMIN}
        verbs = list(AuditEvent.objects.filter(study=study).values_list("verb", flat=True))
        assert sorted(verbs) == ["role.grant", "study.create"]

    def test_empty_name_is_refused(self, client, admin_user):
        client.force_login(admin_user)
        response = client.post(reverse("study_create"), {"name": "  "})
        assert response.status_code == 200
        assert "This field is required" in response.content.decode()
        assert not admin_user.memberships.exists()

    def test_two_studies_with_one_name_get_distinct_addresses(self, admin_user):
        a = study_services.study_create(actor=admin_user, name="Same name")
        b = study_services.study_create(actor=admin_user, name="Same name")
        assert a.slug != b.slug

    def test_stale_edit_of_study_details_is_refused(self, client, study, admin_user):
        client.force_login(admin_user)
        study_services.study_update(
            actor=admin_user, study=study, version=1, name="Renamed meanwhile", description=""
        )
        response = client.post(
            url("study_edit", study), {"name": "My rename", "description": "", "version": 1}
        )
        study.refresh_from_db()
        assert response.status_code == 200
        assert "changed by someone else" in response.content.decode()
        assert study.name == "Renamed meanwhile"


class TestRoles:
    def test_admin_changes_roles_and_each_change_is_audited(self, client, study, admin_user, coder):
        client.force_login(admin_user)
        response = client.post(
            url("member_roles", study, user_id=coder.pk),
            {"roles": ["reviewer"]},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        assert response["HX-Retarget"] == "#members"
        assert roles_of(study, coder) == {"reviewer"}
        events = AuditEvent.objects.filter(study=study, object_id=str(coder.pk)).order_by("id")
        assert [(e.verb, e.before, e.after) for e in events][-2:] == [
            ("role.revoke", {"user": "chen", "role": "coder"}, None),
            ("role.grant", None, {"user": "chen", "role": "reviewer"}),
        ]

    def test_removed_member_loses_access(self, client, study, admin_user, coder):
        client.force_login(admin_user)
        client.post(url("member_roles", study, user_id=coder.pk), {})
        assert roles_of(study, coder) == set()
        client.force_login(coder)
        assert client.get(url("study_dashboard", study)).status_code == 404
        assert AuditEvent.objects.filter(verb="member.remove", object_id=str(coder.pk)).exists()

    def test_last_admin_cannot_be_removed(self, client, study, admin_user):
        client.force_login(admin_user)
        response = client.post(
            url("member_roles", study, user_id=admin_user.pk), {"roles": ["lead"]}
        )
        assert "at least one admin" in response.content.decode()
        assert roles_of(study, admin_user) == {Role.ADMIN}
        assert not AuditEvent.objects.filter(verb="role.revoke").exists()

    def test_admin_can_step_down_once_someone_else_is_admin(self, client, study, admin_user, lead):
        give_roles(study, lead, Role.LEAD, Role.ADMIN)
        client.force_login(admin_user)
        response = client.post(url("member_roles", study, user_id=admin_user.pk), {"roles": []})
        assert response.status_code == 302 and response.url == reverse("study_list")
        assert roles_of(study, admin_user) == set()
        assert client.get(url("study_dashboard", study)).status_code == 404

    def test_two_admins_cannot_remove_each_other_to_zero(self, study, admin_user, lead):
        give_roles(study, lead, Role.ADMIN)
        member_services.member_set_roles(actor=lead, study=study, user=admin_user, roles=set())
        with pytest.raises(ValidationError):
            member_services.member_set_roles(actor=admin_user, study=study, user=lead, roles=set())
        assert roles_of(study, lead) == {Role.ADMIN}

    def test_unknown_role_changes_nothing(self, study, admin_user, coder):
        with pytest.raises(ValidationError):
            member_services.member_set_roles(
                actor=admin_user, study=study, user=coder, roles={"coder", "emperor"}
            )
        assert roles_of(study, coder) == {"coder"}

    def test_roles_form_fragment_and_page(self, client, study, admin_user, coder):
        client.force_login(admin_user)
        fragment = client.get(
            url("member_roles", study, user_id=coder.pk), headers={"HX-Request": "true"}
        )
        assert fragment.status_code == 200
        body = fragment.content.decode()
        assert "<html" not in body and 'name="roles"' in body
        page = client.get(url("member_roles", study, user_id=coder.pk))
        assert "<html" in page.content.decode() and 'name="roles"' in page.content.decode()

    def test_roles_of_a_non_member_is_404(self, client, study, admin_user, outsider):
        client.force_login(admin_user)
        assert client.get(url("member_roles", study, user_id=outsider.pk)).status_code == 404


def test_members_page_lists_people_with_roles(client, study, admin_user, coder, reviewer):
    client.force_login(admin_user)
    page = client.get(url("members", study)).content.decode()
    for text in ("alice", "chen", "rosa", "Coder", "Reviewer", "Admin"):
        assert text in page


def test_admin_who_gives_up_admin_but_stays_lead_lands_on_the_dashboard(
    client, study, admin_user, lead
):
    give_roles(study, lead, Role.LEAD, Role.ADMIN)
    client.force_login(admin_user)
    response = client.post(
        url("member_roles", study, user_id=admin_user.pk),
        {"roles": ["lead"]},
        headers={"HX-Request": "true"},
    )
    assert response["HX-Redirect"] == url("study_dashboard", study)
    assert roles_of(study, admin_user) == {"lead"}
    assert client.get(url("members", study)).status_code == 403


def test_members_page_query_count_does_not_grow(
    client, study, admin_user, django_assert_num_queries
):
    client.force_login(admin_user)
    # session, user, study, permissions, memberships with their users, invitations
    with django_assert_num_queries(6):
        client.get(url("members", study))
    for n in range(20):
        give_roles(study, UserFactory(username=f"m{n}"), Role.CODER, Role.REVIEWER)
        invitation_services.invitation_create(
            actor=admin_user, study=study, identifier=f"guest{n}@example.org", roles=["coder"]
        )
    with django_assert_num_queries(6):
        page = client.get(url("members", study)).content.decode()
    assert "m19" in page and "guest19@example.org" in page


def test_setting_roles_takes_few_queries_whatever_the_study_s_size(
    study, admin_user, django_assert_max_num_queries
):
    """Roles are mirrored into object permissions with one comparison and bulk writes (not a
    guardian call per permission), at any number of members."""
    from workbench.access import member_perms
    from workbench.roles import permissions_for

    def grant(username):
        user = UserFactory(username=username)
        member_services.member_set_roles(
            actor=admin_user, study=study, user=user, roles={Role.CODER, Role.REVIEWER}
        )
        return user

    with django_assert_max_num_queries(20) as first:
        user = grant("first")
    for n in range(20):
        grant(f"member{n}")
    with django_assert_max_num_queries(len(first.captured_queries)):
        later = grant("later")
    expected = permissions_for({Role.CODER, Role.REVIEWER})
    assert member_perms(user, study) == member_perms(later, study) == expected
    member_services.member_set_roles(actor=admin_user, study=study, user=later, roles={Role.CODER})
    assert member_perms(later, study) == permissions_for({Role.CODER})
