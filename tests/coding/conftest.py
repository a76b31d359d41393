import pytest

from coding.services import codebook as codebook_services


@pytest.fixture
def code(study, admin_user, design):
    return codebook_services.code_create(
        actor=admin_user,
        study=study,
        name="Onboarding",
        definition="How newcomers join the project.",
        guide_questions=[design["gq"]],
        dimension_values=[design["value"]],
    )
