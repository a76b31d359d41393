"""Role fixtures: one person per role in one study, plus an outsider with a study of their own."""

import pytest

from tests.factories import (
    DimensionFactory,
    DimensionValueFactory,
    GuideQuestionFactory,
    ResearchQuestionFactory,
    UserFactory,
    give_roles,
)
from workbench.roles import Role
from workbench.services import studies as study_services

PASSWORD = "correct horse battery"


@pytest.fixture
def admin_user(db):
    return UserFactory(username="alice")


@pytest.fixture
def study(admin_user):
    return study_services.study_create(actor=admin_user, name="Open LLM interviews")


@pytest.fixture
def lead(study):
    user = UserFactory(username="lena")
    give_roles(study, user, Role.LEAD)
    return user


@pytest.fixture
def coder(study):
    user = UserFactory(username="chen")
    give_roles(study, user, Role.CODER)
    return user


@pytest.fixture
def reviewer(study):
    user = UserFactory(username="rosa")
    give_roles(study, user, Role.REVIEWER)
    return user


@pytest.fixture
def outsider(db):
    """Has an account and a study of their own, but no role in ``study``."""
    user = UserFactory(username="oscar")
    study_services.study_create(actor=user, name="Someone else's study")
    return user


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
    rq1 = ResearchQuestionFactory(study=study, label="RQ1", position=1)
    rq2 = ResearchQuestionFactory(study=study, label="RQ2", position=2)
    gq = GuideQuestionFactory(study=study, position=1)
    gq.research_questions.set([rq1])
    dimension = DimensionFactory(study=study, name="Lifecycle stage", position=1)
    value = DimensionValueFactory(dimension=dimension, label="pre-training", position=1)
    DimensionValueFactory(dimension=dimension, label="post-release", position=2)
    return {"rq1": rq1, "rq2": rq2, "gq": gq, "dimension": dimension, "value": value}


@pytest.fixture
def client_for(client):
    """Log the test client in as ``user`` (force_login: no password hashing per test)."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture(autouse=True)
def staging_in_tmp(settings, tmp_path_factory):
    # Uploads waiting for confirmation never land in the working tree during tests.
    settings.IMPORT_STAGING_DIR = tmp_path_factory.mktemp("staging")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Argon2 is the production hasher (tested in test_settings); tests need speed, not strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
