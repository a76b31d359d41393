"""Agreement as the app shows it: which transcripts are compared, the figures behind the page,
its CSV and ``manage.py agreement`` — the same numbers everywhere."""

import csv
import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coding.models import CodingMode, LayerRole
from coding.selectors import agreement as agreement_report
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services.codebook import code_create
from tests.factories import consented_participant, imported_transcript
from transcripts.services import consent as consent_services
from transcripts.services import transcripts as transcript_services

TEXT = (
    "Interviewer: What got in the way?\n\n"
    "I1: Compute, first. We had no GPUs at all and waited for weeks.\n\n"
    "Interviewer: And the team?\n\n"
    "I1: Small but stubborn. Everyone helped with everything.\n"
)


@pytest.fixture
def two_codes(study, admin_user):
    return [
        code_create(actor=admin_user, study=study, name="Compute as a gate"),
        code_create(actor=admin_user, study=study, name="Small team"),
    ]


def make_transcript(study, lead, coder, coder2, code_name="I1"):
    participant = consented_participant(study, code_name)
    t = imported_transcript(study, participant, TEXT.replace("I1:", f"{code_name}:"))
    t = transcript_services.transcript_update(actor=lead, transcript=t, version=1, status="ready")
    assignment_services.assignment_set(
        actor=lead, transcript=t, primary=coder, second=coder2, mode=CodingMode.INDEPENDENT
    )
    return t, {layer.role: layer for layer in t.layers.all()}


def code(user, layer, code, text, phrase, trim=0):
    start = text.index(phrase)
    return coding_services.coding_create(
        actor=user, layer=layer, code=code, start=start, end=start + len(phrase) - trim
    )


@pytest.fixture
def coded(study, lead, coder, coder2, two_codes):
    """One transcript, both layers submitted: A and B agree on one code, B trims the end."""
    t, layers = make_transcript(study, lead, coder, coder2)
    a, b = layers[LayerRole.PRIMARY], layers[LayerRole.SECOND]
    code(coder, a, two_codes[0], t.text, "We had no GPUs at all")
    code(coder2, b, two_codes[0], t.text, "We had no GPUs at all", trim=4)
    code(coder, a, two_codes[1], t.text, "Small but stubborn.")
    assignment_services.layer_submit(actor=coder, layer=a)
    assignment_services.layer_submit(actor=coder2, layer=b)
    return t


def test_kappa_and_percent_are_nvivo_s_on_the_transcript_s_characters(study, coded, two_codes):
    report = agreement_report.build(study)
    rows = {row["code"]: row for row in agreement_report.code_rows(report)}
    n = len(coded.text)
    a, b, both = 21, 17, 17  # "We had no GPUs at all", B four characters shorter
    assert (rows["Compute as a gate"]["coded_a"], rows["Compute as a gate"]["coded_b"]) == (a, b)
    agree = both + (n - a - b + both)
    assert rows["Compute as a gate"]["agreement_proportion"] == round(agree / n, 4)
    pe = (a * b + (n - a) * (n - b)) / n**2
    assert rows["Compute as a gate"]["kappa"] == round((agree / n - pe) / (1 - pe), 3)
    # "Small team": only A applied it — kappa 0, alpha unreliable.
    assert rows["Small team"]["kappa"] == 0.0
    assert rows["Small team"]["alpha_u_verdict"] == "unreliable"
    assert rows["Small team"]["utterances_a"] == 1 and rows["Small team"]["utterances_b"] == 0


def test_only_transcripts_with_both_layers_submitted_are_compared(
    study, lead, coder, coder2, two_codes, coded, admin_user
):
    open_one, layers = make_transcript(study, lead, coder, coder2, "I2")
    code(coder, layers[LayerRole.PRIMARY], two_codes[0], open_one.text, "Compute, first.")
    assignment_services.layer_submit(
        actor=coder, layer=layers[LayerRole.PRIMARY]
    )  # the other is still open
    report = agreement_report.build(study)
    assert [t.pk for t in report.transcripts] == [coded.pk]
    assert report.pending == 1
    # A withdrawn participant's transcript leaves the figures altogether.
    consent_services.consent_withdraw(
        actor=admin_user,
        participant=coded.participant,
        reason="asked",
        effective_on=datetime.date(2026, 3, 1),
    )
    report = agreement_report.build(study)
    assert report.empty and report.pending == 1


def test_speaker_aware_agreement_counts_only_what_participants_said(study, coded):
    whole = agreement_report.overall(agreement_report.build(study))
    aware = agreement_report.overall(agreement_report.build(study, speaker_aware=True))
    participant_chars = sum(
        u.end - u.start for u in coded.utterances.all() if u.role != "interviewer"
    )
    assert aware["characters"] == participant_chars < whole["characters"]
    # Fewer uncoded characters: percent agreement falls, as it should.
    assert aware["agreement_proportion"] < whole["agreement_proportion"]


def test_a_pair_of_coders_orients_every_transcript_the_same_way(study, coded, coder, coder2):
    forward = agreement_report.build(study, coders=(coder, coder2))
    backward = agreement_report.build(study, coders=(coder2, coder))
    f = {r["code"]: r for r in agreement_report.code_rows(forward)}
    b = {r["code"]: r for r in agreement_report.code_rows(backward)}
    assert (f["Compute as a gate"]["coded_a"], f["Compute as a gate"]["coded_b"]) == (21, 17)
    assert (b["Compute as a gate"]["coded_a"], b["Compute as a gate"]["coded_b"]) == (17, 21)
    assert f["Compute as a gate"]["kappa"] == b["Compute as a gate"]["kappa"]
    assert agreement_report.transcript_rows(backward)[0]["coder_a"] == coder2.username


def page(client, study, query=""):
    return client.get(reverse("agreement", kwargs={"study_slug": study.slug}) + query)


class TestPage:
    def test_overseers_see_the_figures_with_their_counts_and_thresholds(
        self, client_for, study, coded, lead, reviewer
    ):
        for user in (lead, reviewer):
            html = page(client_for(user), study).content.decode()
            overall = agreement_report.overall(agreement_report.build(study))
            assert f"{overall['alpha_u']:.3f}" in html
            assert "reliable" in html and "0.667" in html
            assert "Compute as a gate" in html and "21 / 17 / 17" in html

    def test_coders_and_admins_are_refused_outsiders_get_404(
        self, client_for, study, coded, coder, admin_user, outsider
    ):
        assert page(client_for(coder), study).status_code == 403
        assert page(client_for(admin_user), study).status_code == 403
        assert page(client_for(outsider), study).status_code == 404

    def test_nothing_to_compare_says_so(self, client_for, study, lead, coder, coder2, two_codes):
        make_transcript(study, lead, coder, coder2)
        html = page(client_for(lead), study).content.decode()
        assert "nothing to compare" in html
        assert "1 transcript not compared yet" in html

    def test_htmx_gets_the_figures_only(self, client_for, study, coded, lead):
        response = page(client_for(lead), study, "?speaker=aware")
        html = (
            client_for(lead)
            .get(
                reverse("agreement", kwargs={"study_slug": study.slug}) + "?speaker=aware",
                headers={"HX-Request": "true"},
            )
            .content.decode()
        )
        assert response.status_code == 200
        assert html.lstrip().startswith('<div id="figures">')
        assert "interviewer turns left out" in html

    def test_csv_and_command_print_the_page_s_numbers(self, client_for, study, coded, lead):
        response = page(client_for(lead), study, "?format=csv")
        assert response["Content-Disposition"].endswith('-agreement.csv"')
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        out = io.StringIO()
        call_command("agreement", "--study", study.slug, "--format", "csv", stdout=out)
        assert list(csv.DictReader(io.StringIO(out.getvalue()))) == rows
        out = io.StringIO()
        call_command("agreement", "--study", study.slug, stdout=out)
        data = json.loads(out.getvalue())
        overall = next(r for r in rows if r["level"] == "overall")
        assert str(data["overall"]["alpha_u"]) == overall["alpha_u"]
        assert [c["code"] for c in data["codes"]] == [
            r["name"] for r in rows if r["level"] == "code"
        ]

    def test_the_command_refuses_unknown_studies_and_uncompared_transcripts(
        self, study, coded, lead, coder, coder2
    ):
        with pytest.raises(CommandError, match="No study"):
            call_command("agreement", "--study", "nope", stdout=io.StringIO())
        other, _ = make_transcript(study, lead, coder, coder2, "I2")
        with pytest.raises(CommandError, match="both layers submitted"):
            call_command(
                "agreement",
                "--study",
                study.slug,
                "--transcript",
                str(other.pk),
                stdout=io.StringIO(),
            )

    def test_queries_do_not_grow_with_transcripts(
        self, client_for, study, coded, lead, coder, coder2, two_codes, django_assert_num_queries
    ):
        c = client_for(lead)
        with CaptureQueriesContext(connection) as first:
            assert page(c, study).status_code == 200
        for n in range(2, 5):
            t, layers = make_transcript(study, lead, coder, coder2, f"I{n}")
            code(coder, layers[LayerRole.PRIMARY], two_codes[1], t.text, "Small but stubborn.")
            for user, role in ((coder, LayerRole.PRIMARY), (coder2, LayerRole.SECOND)):
                assignment_services.layer_submit(actor=user, layer=layers[role])
        with django_assert_num_queries(len(first.captured_queries)):
            html = page(c, study).content.decode()
        assert "4 transcripts" in html
