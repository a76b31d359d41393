"""The codebook's usage counts: an admin deciding what to retire or merge sees how often each
code was used in submitted work, and never a number that a blind layer would give away."""

import re

import pytest
from django.urls import reverse

from coding.models import CodingMode, LayerRole
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services.codebook import code_create
from tests.factories import UserFactory, give_roles, ready_transcript
from workbench.roles import Role

TEXT = "I1: Compute, first. We had no GPUs and waited for weeks. Small team, stubborn.\n"


def usage(client, study, code) -> int:
    page = client.get(reverse("codebook", kwargs={"study_slug": study.slug})).content.decode()
    row = re.search(rf'<tr id="code-{code.public_id}".*?</tr>', page, re.S).group(0)
    return int(re.search(r'<td class="number">(\d+)</td>', row).group(1))


def coded(transcript, user, role, code, *phrases, submit=False):
    layer = transcript.layers.get(role=role)
    for phrase in phrases:
        start = transcript.text.index(phrase)
        coding_services.coding_create(
            actor=user, layer=layer, code=code, start=start, end=start + len(phrase)
        )
    if submit:
        assignment_services.layer_submit(actor=user, layer=layer)


@pytest.fixture
def gate(study, admin_user):
    return code_create(actor=admin_user, study=study, name="Compute as a gate")


def assign(study, lead, primary, second, code="I1"):
    transcript = ready_transcript(study, lead, TEXT, code=code)
    assignment_services.assignment_set(
        actor=lead,
        transcript=transcript,
        primary=primary,
        second=second,
        mode=CodingMode.INDEPENDENT,
    )
    return transcript


def test_an_admin_who_codes_nothing_counts_submitted_layers(
    client, study, admin_user, lead, coder, coder2, gate
):
    done = assign(study, lead, coder, coder2, "I1")
    coded(done, coder, LayerRole.PRIMARY, gate, "Compute", "waited", submit=True)
    coded(done, coder2, LayerRole.SECOND, gate, "Compute", submit=True)
    in_progress = assign(study, lead, coder, coder2, "I2")
    coded(in_progress, coder, LayerRole.PRIMARY, gate, "Small team")
    client.force_login(admin_user)
    # 2 + 1 submitted; the unsubmitted layer of I2 is work in progress and not counted.
    assert usage(client, study, gate) == 3


def test_an_admin_who_codes_a_transcript_counts_no_blind_layer_there(
    client, study, admin_user, lead, coder, gate
):
    give_roles(study, admin_user, Role.ADMIN, Role.CODER)
    transcript = assign(study, lead, coder, admin_user)
    coded(transcript, coder, LayerRole.PRIMARY, gate, "Compute", "waited", submit=True)
    coded(transcript, admin_user, LayerRole.SECOND, gate, "Small team")
    client.force_login(admin_user)
    # The other coder's submitted layer is hidden from the admin until the admin submits:
    # counting it would tell them how that coder coded.
    assert usage(client, study, gate) == 1
    assignment_services.layer_submit(
        actor=admin_user, layer=transcript.layers.get(role=LayerRole.SECOND)
    )
    assert usage(client, study, gate) == 3


def test_a_coder_still_counts_only_what_they_see(client, study, lead, coder, coder2, gate):
    transcript = assign(study, lead, coder, coder2)
    coded(transcript, coder2, LayerRole.SECOND, gate, "Compute", submit=True)
    coded(transcript, coder, LayerRole.PRIMARY, gate, "waited")
    client.force_login(coder)
    assert usage(client, study, gate) == 1


def test_admin_counts_cost_a_fixed_number_of_queries(
    client, study, admin_user, lead, gate, django_assert_num_queries
):
    client.force_login(admin_user)
    client.get(reverse("codebook", kwargs={"study_slug": study.slug}))
    with django_assert_num_queries(14):
        client.get(reverse("codebook", kwargs={"study_slug": study.slug}))
    for n in range(3):
        a, b = UserFactory(username=f"a{n}"), UserFactory(username=f"b{n}")
        give_roles(study, a, Role.CODER)
        give_roles(study, b, Role.CODER)
        transcript = assign(study, lead, a, b, f"P{n}")
        coded(transcript, a, LayerRole.PRIMARY, gate, "Compute", submit=True)
    with django_assert_num_queries(14):
        assert usage(client, study, gate) == 3
