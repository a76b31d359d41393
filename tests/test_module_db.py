"""``module_db``: data built once for a module is shared, but no test's changes reach the next.

The tests run in file order (as with ``-p no:randomly``); each one also holds on its own.
What the module built is gone after it: ``module_db``'s teardown compares every table's row
count with the count before the module, on every run of every module that uses it.
"""

import copy

import pytest
from django.db import connection

from tests.factories import USERNAMES, UserFactory
from workbench.models import Study
from workbench.services import studies as study_services

BUILT = []


@pytest.fixture(scope="module")
def built_study(module_db, django_db_blocker):
    with django_db_blocker.unblock():
        BUILT.append(1)
        owner = UserFactory(username=USERNAMES["admin"])
        return study_services.study_create(actor=owner, name="Shared study")


@pytest.fixture
def shared_study(db, built_study):
    return copy.deepcopy(built_study)


def test_a_test_may_delete_and_change_what_the_module_built(shared_study):
    shared_study.name = "Renamed in memory only"
    Study.objects.filter(pk=shared_study.pk).update(name="Renamed in the database")
    Study.objects.create(name="Extra", slug="extra", created_by=shared_study.created_by)
    assert Study.objects.filter(pk=shared_study.pk, name="Renamed in the database").exists()


def test_the_next_test_sees_it_as_built(shared_study):
    assert shared_study.name == "Shared study"
    assert list(Study.objects.values_list("name", flat=True)) == ["Shared study"]


def test_it_was_built_once(shared_study):
    assert BUILT == [1]


def test_each_test_is_a_savepoint_inside_the_module_transaction(shared_study):
    # The module's transaction plus the test's own (django.test.TestCase's atomic).
    assert connection.in_atomic_block
    assert len(connection.atomic_blocks) == 2
