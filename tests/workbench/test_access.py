"""The role matrix: every study URL, every role, pages and htmx fragments alike."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from workbench.access import study_for

# What each study URL is for and who may use it, written out by hand from the issue rather than
# derived from roles.py, so that a wrong permission mapping fails here.
MEMBERS = {"admin", "lead", "coder", "reviewer"}
STUDY_URLS = {
    "study_dashboard": ("get", MEMBERS),
    "study_edit": ("get", {"admin"}),
    "members": ("get", {"admin"}),
    "member_add": ("post", {"admin"}),
    "member_invite": ("post", {"admin"}),
    "member_roles": ("get", {"admin"}),
    "design": ("get", MEMBERS),
    "design_item": ("get", MEMBERS),
    "design_item_create": ("post", {"lead"}),
    "dimension_value_create": ("post", {"lead"}),
    "design_item_edit": ("get", {"lead"}),
    "design_item_delete": ("post", {"lead"}),
    "design_item_move": ("post", {"lead"}),
    "audit_trail": ("get", {"admin", "lead"}),
    "audit_csv": ("get", {"admin", "lead"}),
}


def _study_url_names():
    names = set()

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and "study_slug" in str(
                get_resolver().reverse_dict.getlist(pattern.name)
            ):
                names.add(pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_study_url_is_in_the_matrix():
    assert _study_url_names() == set(STUDY_URLS)


def _kwargs(name, study, design, users):
    kwargs = {"study_slug": study.slug}
    if name in {"design_item", "design_item_edit", "design_item_delete", "design_item_move"}:
        kwargs |= {"kind": "rq", "pk": design["rq1"].pk}
    if name == "design_item_create":
        kwargs["kind"] = "rq"
    if name == "dimension_value_create":
        kwargs["parent_id"] = design["dimension"].pk
    if name == "member_roles":
        kwargs["user_id"] = users["coder"].pk
    return kwargs


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
@pytest.mark.parametrize("name", sorted(STUDY_URLS))
def test_role_matrix(client, study, design, role_users, name, htmx):
    method, allowed = STUDY_URLS[name]
    url = reverse(name, kwargs=_kwargs(name, study, design, role_users))
    headers = {"HX-Request": "true"} if htmx else {}
    for role, user in role_users.items():
        client.force_login(user)
        response = getattr(client, method)(url, headers=headers)
        if role == "outsider":
            expected = 404
            assert response.status_code == expected, (role, url)
        elif role in allowed:
            assert response.status_code in {200, 204, 302}, (role, url, response.status_code)
        else:
            assert response.status_code == 403, (role, url, response.status_code)
        client.logout()


@pytest.mark.parametrize("name", sorted(STUDY_URLS))
def test_anonymous_is_sent_to_login(client, study, design, role_users, name):
    method, _ = STUDY_URLS[name]
    url = reverse(name, kwargs=_kwargs(name, study, design, role_users))
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", sorted(STUDY_URLS))
def test_wrong_method_is_refused(client, study, design, role_users, name):
    method, allowed = STUDY_URLS[name]
    url = reverse(name, kwargs=_kwargs(name, study, design, role_users))
    client.force_login(role_users[sorted(allowed)[0]])
    wrong = client.delete if method == "post" else client.put
    assert wrong(url).status_code == 405


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

    from workbench import roles, services

    request = type("R", (), {"user": coder})()
    assert not study_for(request, study.slug).can("view_audit")
    widened = dict(roles.ROLE_PERMISSIONS)
    widened[roles.Role.CODER] = widened[roles.Role.CODER] | {"view_audit"}
    monkeypatch.setattr(roles, "ROLE_PERMISSIONS", widened)
    call_command("migrate", verbosity=0)
    assert study_for(request, study.slug).can("view_audit")
    # ...and nothing changes when run again.
    assert services.permissions_sync_all() == 0
