"""The merge, split and undo pages: admins only, blind layers never shown, pinned queries."""

import pytest
from django.urls import reverse

from coding.models import CodebookOperation, CodeStatus, Coding, CodingMode, LayerRole
from coding.services import assignments as assignment_services
from coding.services.codebook import code_create
from tests.coding.test_codebook_evolution import TEXT, make_coding
from tests.factories import give_roles, ready_transcript
from workbench.roles import Role


@pytest.fixture
def transcript(study, lead):
    return ready_transcript(study, lead, TEXT)


@pytest.fixture
def codes(study, admin_user):
    return [
        code_create(actor=admin_user, study=study, name=name, definition=f"About {name}.")
        for name in ("Compute", "Hardware")
    ]


@pytest.fixture
def blind_admin(study, admin_user, transcript, lead, coder2):
    """The admin codes this transcript too, blind to the second coder's layer."""
    give_roles(study, admin_user, Role.ADMIN, Role.CODER)
    assignment_services.assignment_set(
        actor=lead, transcript=transcript, primary=admin_user, second=coder2,
        mode=CodingMode.INDEPENDENT,
    )  # fmt: skip
    return {layer.role: layer for layer in transcript.layers.all()}


def _merge_url(study, code, **query):
    url = reverse("code_merge", args=[study.slug, code.public_id])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_preview_shows_the_admins_layer_only_and_the_merge_moves_the_blind_one_too(
    client_for, study, admin_user, coder2, codes, blind_admin, django_assert_num_queries
):
    a, b = codes
    make_coding(blind_admin[LayerRole.PRIMARY], a, 10, 20, memo="mine")
    make_coding(blind_admin[LayerRole.SECOND], a, 30, 40, memo="theirs")
    client = client_for(admin_user)
    url = _merge_url(study, a, into=b.public_id)
    response = client.get(url)
    page = response.content.decode()
    assert "About Hardware.\n\nFrom “Compute”: About Compute." in page
    assert coder2.username not in page
    assert "not shown or counted here" in page
    rows = response.context["rows"]
    assert [(row.who, row.after) for row in rows] == [(admin_user.username, 1)]
    response = client.post(
        url, {"definition": "Compute and hardware.", f"v-{a.public_id}": a.version}
    )
    op = CodebookOperation.objects.get()
    assert response.status_code == 302 and op.public_id in response.url
    assert set(Coding.objects.values_list("code_id", flat=True)) == {b.pk}
    page = client.get(response.url).content.decode()
    assert coder2.username not in page and "Undo this merge" in page
    codebook = client.get(reverse("codebook", args=[study.slug])).content.decode()
    assert "merged into “Hardware”" in codebook  # the retired code points at its heir
    response = client.post(reverse("code_operation_undo", args=[study.slug, op.public_id]))
    assert set(Coding.objects.values_list("code_id", flat=True)) == {a.pk}
    a.refresh_from_db()
    assert a.status == CodeStatus.ACTIVE


def test_the_preview_query_count_does_not_grow_with_codings(
    client_for, study, admin_user, codes, blind_admin, django_assert_num_queries
):
    a, b = codes
    client = client_for(admin_user)
    url = _merge_url(study, a, into=b.public_id)
    client.get(url)
    with django_assert_num_queries(12):
        client.get(url)
    for start in range(0, 60, 3):
        make_coding(blind_admin[LayerRole.PRIMARY], a, start, start + 5)
        make_coding(blind_admin[LayerRole.SECOND], b, start, start + 4)
    with django_assert_num_queries(12):
        client.get(url)


def test_a_stale_merge_is_refused_with_a_message(client_for, study, admin_user, codes):
    a, b = codes
    client = client_for(admin_user)
    response = client.post(
        _merge_url(study, a, into=b.public_id),
        {"definition": "x", f"v-{a.public_id}": a.version - 1},
        follow=True,
    )  # fmt: skip
    assert "changed by someone else" in response.content.decode()
    assert not CodebookOperation.objects.exists()


def test_splitting_a_whole_transcript_moves_blind_layers_without_listing_them(
    client_for, study, admin_user, coder2, codes, blind_admin, transcript
):
    a = codes[0]
    make_coding(blind_admin[LayerRole.PRIMARY], a, 10, 20)
    make_coding(blind_admin[LayerRole.SECOND], a, 30, 40, memo="theirs")
    client = client_for(admin_user)
    url = reverse("code_split", args=[study.slug, a.public_id])
    page = client.get(url).content.decode()
    assert TEXT[10:20] in page and TEXT[30:40] not in page and "theirs" not in page
    response = client.post(
        url, {"name": "Waiting for compute", "version": a.version, "transcript": transcript.pk}
    )
    assert response.status_code == 302
    assert set(Coding.objects.values_list("code__name", flat=True)) == {"Waiting for compute"}


def test_a_coding_of_a_blind_layer_cannot_be_picked_by_its_id(
    client_for, study, admin_user, codes, blind_admin
):
    a = codes[0]
    theirs = make_coding(blind_admin[LayerRole.SECOND], a, 30, 40)
    client = client_for(admin_user)
    url = reverse("code_split", args=[study.slug, a.public_id])
    response = client.post(
        url, {"name": "Peek", "version": a.version, "coding": theirs.public_id}, follow=True
    )
    assert "no longer there" in response.content.decode()
    assert Coding.objects.get(pk=theirs.pk).code == a
