"""Data that a whole test module reads: built once per module, rolled back after it.

``module_db`` (a fixture, offered to every test module by tests/conftest.py) wraps a module in
one transaction. A module uses it with a pair of fixtures::

    @pytest.fixture(scope="module")
    def built_world(module_db, django_db_blocker):
        with django_db_blocker.unblock():
            return build_the_world()

    @pytest.fixture
    def world(db, built_world):
        return copy.deepcopy(built_world)

Each test gets a deep copy of the built objects (as Django's ``setUpTestData`` does), so a
test that changes an object in memory never hands the change to the next test; what a test
changes in the database is undone by the test's own savepoint.
"""

import pytest
from django.apps import apps
from django.db import connection, transaction


def _row_counts():
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


@pytest.fixture(scope="module")
def module_db(django_db_setup, django_db_blocker):
    """A transaction around one test module, rolled back after the module's last test.

    A module-scoped fixture that requests this builds its rows inside
    ``with django_db_blocker.unblock():`` (see above). Each test's own ``db``
    transaction is a savepoint inside this one, so what a test writes is gone before the next
    test, and what the module built is gone before the next module: every table must have
    exactly as many rows afterwards as before, or the module's teardown fails.

    Only for plain ``db`` tests: a ``transaction=True`` test flushes the database, so it must
    not use data built here (pytest-django runs those after all other database tests anyway).
    """
    with django_db_blocker.unblock():
        before = _row_counts()
        # Marked like django.test.TestCase's own class-level atomics, so that a durable
        # atomic block in the code under test behaves as it does under TestCase.
        outer = transaction.atomic()
        outer._from_testcase = True
        outer.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            assert not connection.in_atomic_block, "a test left a transaction open"
            after = _row_counts()
        leaked = {label: (before[label], n) for label, n in after.items() if n != before[label]}
        assert not leaked, f"rows built for the module outlived it (before, after): {leaked}"
