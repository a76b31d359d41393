"""A coding made while a merge or a split runs ends up on the target, is refused or keeps its
code, never lost (PostgreSQL, two connections; the harness is tests/coding/test_codings_races.py).
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from coding.models import Code, Coding, LayerRole
from coding.services import codings as coding_services
from coding.services.codebook_evolution import code_split, codes_merge
from tests.coding.test_codings import (  # noqa: F401 (fixtures shared with the view tests)
    code,
    code2,
    layers,
    span,
    transcript,
)
from tests.coding.test_codings_races import race

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="races need two connections writing at once; SQLite locks the whole file",
    ),
    pytest.mark.django_db(transaction=True),
]


def _apply(coder, layer, code, transcript):
    start, end = span(transcript.text, "so we waited")
    return lambda: coding_services.coding_apply(
        actor=coder, layer=layer, code=Code.objects.get(pk=code.pk), start=start, end=end
    )[0]


def _merge(admin, a, b):
    return lambda: codes_merge(
        actor=admin, sources=[Code.objects.get(pk=a.pk)], target=Code.objects.get(pk=b.pk)
    )


def test_a_coding_applied_while_a_merge_runs_waits_and_is_refused(
    admin_user, coder, transcript, layers, code, code2
):
    layer = layers[LayerRole.PRIMARY]
    merged, applied, waited = race(
        _merge(admin_user, code, code2), _apply(coder, layer, code, transcript)
    )
    assert waited
    assert isinstance(applied, ValidationError) and "retired" in applied.messages[0]
    assert not Coding.objects.filter(code=code).exists()


def test_a_coding_applied_before_the_merge_commits_moves_to_the_target(
    admin_user, coder, transcript, layers, code, code2
):
    layer = layers[LayerRole.PRIMARY]
    applied, merged, waited = race(
        _apply(coder, layer, code, transcript), _merge(admin_user, code, code2)
    )
    assert waited
    assert not isinstance(merged, ValidationError)
    assert Coding.objects.get(pk=applied.pk).code_id == code2.pk
    assert not Coding.objects.filter(code=code).exists()


def _split(admin, a, transcript):
    return lambda: code_split(
        actor=admin,
        code=Code.objects.get(pk=a.pk),
        version=None,
        name="Split off",
        transcripts=[transcript.pk],
    )


def test_a_coding_applied_while_a_split_of_its_transcript_runs_waits_and_keeps_its_code(
    admin_user, coder, transcript, layers, code
):
    layer = layers[LayerRole.PRIMARY]
    start, end = span(transcript.text, "Compute")
    before = coding_services.coding_create(
        actor=coder, layer=layer, code=code, start=start, end=end
    )
    split, applied, waited = race(
        _split(admin_user, code, transcript), _apply(coder, layer, code, transcript)
    )
    assert waited and not isinstance(split, Exception) and not isinstance(applied, Exception)
    # The split moved what was there when it ran; the coding made after it is kept, on the
    # code it was applied with: nothing lost, nothing moved behind the coder's back.
    new = Code.objects.get(name="Split off")
    assert Coding.objects.get(pk=before.pk).code_id == new.pk
    assert Coding.objects.get(pk=applied.pk).code_id == code.pk
