"""A coding made while a merge runs ends up on the target or is refused, never lost
(PostgreSQL, two connections; the harness is that of tests/coding/test_codings_races.py)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from coding.models import Code, Coding, LayerRole
from coding.services import codings as coding_services
from coding.services.codebook_evolution import codes_merge
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
