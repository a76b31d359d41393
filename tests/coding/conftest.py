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


@pytest.fixture
def codes(study, admin_user):
    """Four codes by name, for transcripts coded twice and reconciled."""
    names = ["Compute as a gate", "Small team", "Waiting", "Mutual help"]
    return {n: codebook_services.code_create(actor=admin_user, study=study, name=n) for n in names}
