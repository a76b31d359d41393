"""The audit trail, its CSV and the dashboard say what happened in sentences (who did what to
which transcript), not internal verbs and ids; hidden events stay hidden; queries stay flat."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coding.models import CodingMode, Decision, DisagreementKind, LayerRole
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services import reconciliation as rec
from coding.services.codebook import code_create
from tests.coding.test_reconciliation import TEXT, code_crafted_layers
from tests.factories import give_roles, ready_transcript
from workbench.roles import Role


def url(name, study):
    return reverse(name, kwargs={"study_slug": study.slug})


@pytest.fixture
def named(coder, coder2, lead):
    for user, first, last in (
        (coder, "Kofi", "Mensah"),
        (coder2, "Ana", "Lima"),
        (lead, "Li", "Wei"),
    ):
        user.first_name, user.last_name = first, last
        user.save()


@pytest.fixture
def reconciled(study, lead, coder, coder2, reviewer, codes, named):
    transcript = ready_transcript(study, lead, TEXT)
    transcript.title = "Interview with the data lead"
    transcript.save()
    assignment_services.assignment_set(
        actor=lead, transcript=transcript, primary=coder, second=coder2, mode=CodingMode.INDEPENDENT
    )
    code_crafted_layers(transcript, coder, coder2, codes)
    for user, role in ((coder, LayerRole.PRIMARY), (coder2, LayerRole.SECOND)):
        assignment_services.layer_submit(actor=user, layer=transcript.layers.get(role=role))
    r = rec.reconciliation_start(
        actor=reviewer, transcript=transcript, tolerance="characters", tolerance_chars=3
    )
    d = r.disagreements.get(kind=DisagreementKind.DIFFERENT_CODE)
    rec.disagreement_resolve(
        actor=reviewer, disagreement=d, version=d.version, decision=Decision.A, rationale="Size."
    )
    return transcript


def test_the_trail_reads_as_sentences(client, study, lead, reconciled):
    client.force_login(lead)
    page = client.get(url("audit_trail", study) + "?actor=").content.decode()
    title = "Interview with the data lead"
    assert f"Coded a passage of {title} as Compute as a gate" in page
    assert f"Assigned {title} to Kofi Mensah and Ana Lima, independent" in page
    assert f"Submitted Kofi Mensah&#x27;s coding of {title} (4 codings)" in page
    assert f"Started reconciling {title} (" in page
    assert "Accepted A&#x27;s coding in disagreement" in page and "(consensus: Small team)" in page
    assert "Kofi Mensah" in page  # the actor by name
    assert "transcript " + str(reconciled.pk) not in page.replace("data-", "")
    assert "decided “a”" not in page


def test_the_csv_has_a_description_beside_the_raw_verb(client, study, lead, reconciled):
    client.force_login(lead)
    response = client.get(url("audit_csv", study))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    resolve = next(row for row in rows if row["verb"] == "disagreement.resolve")
    assert (
        resolve["description"].startswith("reviewer")
        or "accepted A's coding" in resolve["description"]
    )
    assert "accepted A's coding in disagreement" in resolve["description"]
    coded = next(row for row in rows if row["verb"] == "coding.create")
    assert coded["description"].startswith(("Kofi Mensah coded", "Ana Lima coded"))
    assert "Interview with the data lead" in coded["description"]


def test_the_dashboard_activity_reads_as_sentences(client, study, lead, reconciled):
    client.force_login(lead)
    page = client.get(url("study_dashboard", study)).content.decode()
    assert "accepted A&#x27;s coding in disagreement" in page
    assert "disagreement.resolve" not in page and "reconciliation.start" not in page


def test_a_lead_who_codes_blind_reads_nothing_of_the_other_layer(
    client, study, lead, coder, admin_user, named
):
    """The lead codes the second layer: the primary coder's events, and their hidden inductive
    code, appear neither as rows nor inside any description."""
    transcript = ready_transcript(study, lead, TEXT)
    give_roles(study, lead, Role.LEAD, Role.CODER)
    assignment_services.assignment_set(
        actor=lead, transcript=transcript, primary=coder, second=lead, mode=CodingMode.INDEPENDENT
    )
    start = transcript.text.index("Compute")
    coding_services.coding_create_with_new_code(
        actor=coder,
        layer=transcript.layers.get(role=LayerRole.PRIMARY),
        name="Secret hunch",
        definition="Only Kofi knows.",
        start=start,
        end=start + 7,
    )
    visible = code_create(actor=admin_user, study=study, name="Shared code")
    coding_services.coding_create(
        actor=lead,
        layer=transcript.layers.get(role=LayerRole.SECOND),
        code=visible,
        start=start,
        end=start + 7,
    )
    client.force_login(lead)
    page = client.get(url("audit_trail", study)).content.decode()
    assert f"Coded a passage of {transcript.title} as Shared code" in page
    assert "Secret hunch" not in page
    rows = b"".join(client.get(url("audit_csv", study)).streaming_content).decode()
    assert "Secret hunch" not in rows and "Shared code" in rows
    dashboard = client.get(url("study_dashboard", study)).content.decode()
    assert "Secret hunch" not in dashboard


def test_query_count_is_flat_for_mixed_events(
    client, study, lead, coder, coder2, reviewer, codes, named, django_assert_num_queries
):
    client.force_login(lead)

    def one_more_transcript(n):
        transcript = ready_transcript(study, lead, TEXT, code=f"P{n}")
        assignment_services.assignment_set(
            actor=lead,
            transcript=transcript,
            primary=coder,
            second=coder2,
            mode=CodingMode.INDEPENDENT,
        )
        code_crafted_layers(transcript, coder, coder2, codes)
        for user, role in ((coder, LayerRole.PRIMARY), (coder2, LayerRole.SECOND)):
            assignment_services.layer_submit(actor=user, layer=transcript.layers.get(role=role))
        r = rec.reconciliation_start(
            actor=reviewer, transcript=transcript, tolerance="characters", tolerance_chars=3
        )
        d = r.disagreements.get(kind=DisagreementKind.DIFFERENT_CODE)
        rec.disagreement_resolve(
            actor=reviewer, disagreement=d, version=d.version, decision=Decision.B, rationale="x"
        )

    one_more_transcript(1)
    client.get(url("audit_trail", study))
    with CaptureQueriesContext(connection) as counted:
        client.get(url("audit_trail", study))
    few = len(counted)
    for n in range(2, 5):
        one_more_transcript(n)
    with django_assert_num_queries(few):
        page = client.get(url("audit_trail", study)).content.decode()
    assert page.count("Accepted B&#x27;s coding in disagreement") >= 3
    with CaptureQueriesContext(connection) as counted:
        client.get(url("study_dashboard", study))
    assert len(counted) <= 21  # the dashboard's own count is pinned in test_project
