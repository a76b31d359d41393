"""Role fixtures: one person per role in one study, plus an outsider with a study of their own."""

import copy
import itertools

import pytest
from django.conf import settings as django_settings
from django.test import override_settings

from tests.factories import (
    STUDY_NAME,
    USERNAMES,
    UserFactory,
    create_study,
    give_roles,
    outsider_user,
    research_design,
    study_member,
)
from tests.module_data import module_db  # noqa: F401 (a fixture for every test module)
from workbench.roles import Role

PASSWORD = "correct horse battery"


@pytest.fixture
def admin_user(db):
    return UserFactory(username=USERNAMES["admin"])


@pytest.fixture
def study(admin_user):
    return create_study(admin_user, STUDY_NAME)


@pytest.fixture
def lead(study):
    return study_member(study, Role.LEAD)


@pytest.fixture
def coder(study):
    return study_member(study, Role.CODER)


@pytest.fixture
def reviewer(study):
    return study_member(study, Role.REVIEWER)


@pytest.fixture
def coder2(study):
    """A second coder, for transcripts coded twice."""
    user = UserFactory(username=USERNAMES["coder2"])
    give_roles(study, user, Role.CODER)
    return user


@pytest.fixture
def outsider(db):
    """Has an account and a study of their own, but no role in ``study``."""
    return outsider_user()


@pytest.fixture
def role_users(admin_user, lead, coder, reviewer, outsider):
    return {
        "admin": admin_user,
        "lead": lead,
        "coder": coder,
        "reviewer": reviewer,
        "outsider": outsider,
    }


@pytest.fixture
def design(study):
    """A small research design: two RQs, a guide question, a dimension with two values."""
    return research_design(study)


@pytest.fixture
def client_for(client):
    """Log the test client in as ``user`` (force_login: no password hashing per test)."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def as_lead(client, lead):
    client.force_login(lead)
    return client


@pytest.fixture(autouse=True, scope="session")
def static_files_looked_up_per_request():
    """WhiteNoise finds a static file when it is asked for, as under ``runserver``.

    The test runner turns DEBUG off, so WhiteNoise would otherwise read every static file of
    every app (admin's included) into its table each time a test client makes its first
    request: about 25 ms for each of the suite's ~800 clients. Test clients still get static
    files (tests/workbench/test_project.py checks one).
    """
    with override_settings(WHITENOISE_AUTOREFRESH=True):
        yield


def _production_template_loaders(templates):
    """TEMPLATES with the cached loader inside template_partials', as settings.py has it
    when DEBUG is off."""
    templates = copy.deepcopy(templates)
    for engine in templates:
        loaders = engine.get("OPTIONS", {}).get("loaders", [])
        for i, loader in enumerate(loaders):
            if isinstance(loader, tuple) and loader[0] == "template_partials.loader.Loader":
                inner = loader[1]
                if not (len(inner) == 1 and inner[0][0] == "django.template.loaders.cached.Loader"):
                    loaders[i] = (loader[0], [("django.template.loaders.cached.Loader", inner)])
    return templates


@pytest.fixture(autouse=True, scope="session")
def templates_compiled_once():
    """Templates are compiled once and then cached, as in production (DEBUG off).

    settings.py reads DEBUG from the environment, where it defaults to on, and then leaves
    the cached loader out so that ``runserver`` picks up edited templates; the suite would
    otherwise parse every template again on every render.
    """
    with override_settings(TEMPLATES=_production_template_loaders(django_settings.TEMPLATES)):
        yield


@pytest.fixture(scope="session")
def _staging_dirs(tmp_path_factory):
    return tmp_path_factory.mktemp("staging"), itertools.count()


@pytest.fixture(autouse=True)
def staging_in_tmp(settings, _staging_dirs):
    # Uploads waiting for confirmation never land in the working tree during tests. Each test
    # has a folder of its own, made when something is staged (transcripts/staging.py).
    root, numbers = _staging_dirs
    settings.IMPORT_STAGING_DIR = root / f"test-{next(numbers)}"


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    # Argon2 is the production hasher (tested in test_settings); tests need speed, not strength.
    # For the whole session, so that data built once per module is hashed quickly too.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield
