"""Agreement figures agree with each other (issue 11): one transcript has one number wherever it
appears, a code nobody agreed on never looks reliable, and every figure is on one scale."""

import csv
import importlib
import io
import json

import krippendorff
import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.urls import reverse

from coding.models import AgreementRound, Code, CodingMode, LayerRole, RoundKind
from coding.selectors import agreement as agreement_report
from coding.services import agreement as agreement_services
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services.codebook import code_create
from tests.factories import consented_participant, imported_transcript
from transcripts.services import transcripts as transcript_services

TEXT = (
    "Interviewer: What got in the way when you started?\n\n"
    "P: Compute, first. We had no GPUs at all and waited for weeks.\n\n"
    "Interviewer: And the people around you?\n\n"
    "P: Small but stubborn. Everyone helped with everything, nobody was paid.\n\n"
    "Interviewer: How did you pay for it?\n\n"
    "P: A small grant, then our own money. The grant ran out in spring.\n\n"
    "Interviewer: Would you do it again?\n\n"
    "P: Yes, but with a plan for the compute and for the people.\n"
)
FIGURES = ("alpha_nominal", "kappa", "alpha_u", "agreement_proportion")


@pytest.fixture
def codes(study, admin_user):
    names = ("Compute as a gate", "Small team", "Money", "Second thoughts")
    return {name: code_create(actor=admin_user, study=study, name=name) for name in names}


def transcript(study, lead, coder, coder2, label):
    participant = consented_participant(study, label)
    t = imported_transcript(study, participant, TEXT.replace("P:", f"{label}:"))
    t = transcript_services.transcript_update(actor=lead, transcript=t, version=1, status="ready")
    assignment_services.assignment_set(
        actor=lead, transcript=t, primary=coder, second=coder2, mode=CodingMode.INDEPENDENT
    )
    return t, {layer.role: layer for layer in t.layers.all()}


def apply(user, layer, code, t, phrase, trim=0):
    start = t.text.index(phrase)
    coding_services.coding_create(
        actor=user, layer=layer, code=code, start=start, end=start + len(phrase) - trim
    )


def submit(layers, coder, coder2):
    assignment_services.layer_submit(actor=coder, layer=layers[LayerRole.PRIMARY])
    assignment_services.layer_submit(actor=coder2, layer=layers[LayerRole.SECOND])


def record(lead, study, label):
    return agreement_services.agreement_round_record(
        actor=lead, study=study, label=label, kind=RoundKind.BEFORE_RECONCILIATION
    )


# --- independent computations, from the database rows, without coding.agreement -------------


def _codings(t):
    return {
        layer.role: [(c.code_id, c.start, c.end) for c in layer.codings.all()]
        for layer in t.layers.all()
    }


def krippendorff_alpha(t):
    """Nominal alpha with the `krippendorff` package: units are the transcript's turns × the
    codes either coder applied in it; a value is 1 when the coder's coding overlaps the turn."""
    layers = _codings(t)
    used = sorted({code for rows in layers.values() for code, _, _ in rows})
    turns = list(t.utterances.order_by("start").values_list("start", "end"))
    data = [
        [
            int(any(c == code and s < end and e > start for c, s, e in layers[role]))
            for start, end in turns
            for code in used
        ]
        for role in (LayerRole.PRIMARY, LayerRole.SECOND)
    ]
    return krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")


def pooled_kappas(transcripts):
    """Per code: Cohen's kappa of the characters of all transcripts pooled, and the characters
    either coder coded (the weight across codes), with plain Python sets."""
    tables = {}
    for t in transcripts:
        layers = _codings(t)
        for code in {c for rows in layers.values() for c, _, _ in rows}:
            a = {i for c, s, e in layers[LayerRole.PRIMARY] if c == code for i in range(s, e)}
            b = {i for c, s, e in layers[LayerRole.SECOND] if c == code for i in range(s, e)}
            n, na, nb, nab = tables.get(code, (0, 0, 0, 0))
            tables[code] = (n, na + len(a), nb + len(b), nab + len(a & b))
    out = {}
    for code in tables:
        n = sum(len(t.text) for t in transcripts)
        _, na, nb, nab = tables[code]
        po = (nab + (n - na - nb + nab)) / n
        pe = (na * nb + (n - na) * (n - nb)) / n**2
        out[code] = ((po - pe) / (1 - pe), na + nb - nab, po)
    return out


def weighted_kappa(transcripts):
    per = pooled_kappas(transcripts).values()
    total = sum(w for _, w, _ in per)
    return sum(k * w for k, w, _ in per) / total, sum(p * w for _, w, p in per) / total


# --- one transcript, one number ----------------------------------------------------------


@pytest.fixture
def three(study, lead, coder, coder2, codes):
    """Three transcripts submitted one after the other, a round recorded after the first and
    after the last; the third brings a code nobody used before."""
    gate, team, money, second = (codes[n] for n in codes)
    t1, l1 = transcript(study, lead, coder, coder2, "I1")
    apply(coder, l1[LayerRole.PRIMARY], gate, t1, "We had no GPUs at all")
    apply(coder2, l1[LayerRole.SECOND], gate, t1, "We had no GPUs at all", trim=4)
    apply(coder, l1[LayerRole.PRIMARY], team, t1, "Small but stubborn.")
    apply(coder2, l1[LayerRole.SECOND], team, t1, "with a plan for the compute")
    submit(l1, coder, coder2)
    first = record(lead, study, "After I1")
    t2, l2 = transcript(study, lead, coder, coder2, "I2")
    apply(coder, l2[LayerRole.PRIMARY], gate, t2, "Compute, first.")
    apply(coder2, l2[LayerRole.SECOND], gate, t2, "Compute, first.")
    apply(coder2, l2[LayerRole.SECOND], money, t2, "A small grant, then our own money.")
    submit(l2, coder, coder2)
    t3, l3 = transcript(study, lead, coder, coder2, "I3")
    apply(coder, l3[LayerRole.PRIMARY], second, t3, "Yes, but with a plan")
    apply(coder2, l3[LayerRole.SECOND], second, t3, "Yes, but with a plan", trim=2)
    apply(coder, l3[LayerRole.PRIMARY], money, t3, "The grant ran out in spring.")
    apply(coder2, l3[LayerRole.SECOND], money, t3, "A small grant, then our own money.")
    submit(l3, coder, coder2)
    last = record(lead, study, "After I3")
    return [t1, t2, t3], first, last


def page(client, study, query=""):
    return client.get(reverse("agreement", kwargs={"study_slug": study.slug}) + query)


def test_a_transcript_has_one_figure_on_its_page_in_its_round_and_in_the_study_table(
    client_for, study, lead, three
):
    transcripts, first, last = three
    c = client_for(lead)
    table = {row["transcript"]: row for row in page(c, study).context["transcript_rows"]}
    study_html = page(c, study).content.decode()
    for t in transcripts:
        own = page(c, study, f"?transcript={t.pk}").context["overall"]
        for figure in FIGURES:
            assert own[figure] == table[t.pk][figure], (t.participant.code, figure)
            assert last.figures["transcripts"][str(t.pk)][figure] == own[figure], figure
        # ... and the same as independent computations of the coefficients.
        assert own["alpha_nominal"] == round(krippendorff_alpha(t), 3)
        kappa, agreement = weighted_kappa([t])
        assert own["kappa"] == round(kappa, 3)
        assert own["agreement_proportion"] == round(agreement, 4)
        assert f"{table[t.pk]['alpha_nominal']:.3f}" in study_html
    # The round recorded when I1 was the only transcript compared gave I1's own figures.
    i1 = transcripts[0]
    for figure in FIGURES:
        assert first.figures["overall"][figure] == table[i1.pk][figure], figure


def test_the_study_s_nominal_alpha_pools_the_transcripts_own_units(study, three):
    transcripts, _, _ = three
    overall = agreement_report.overall(agreement_report.build(study))
    data = [[], []]
    for t in transcripts:
        layers = _codings(t)
        used = sorted({code for rows in layers.values() for code, _, _ in rows})
        turns = list(t.utterances.order_by("start").values_list("start", "end"))
        for i, role in enumerate((LayerRole.PRIMARY, LayerRole.SECOND)):
            data[i] += [
                int(any(c == code and s < end and e > start for c, s, e in layers[role]))
                for start, end in turns
                for code in used
            ]
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert overall["alpha_nominal"] == round(expected, 3)


# --- a code nobody agreed on never looks reliable ------------------------------------------


@pytest.fixture
def one_sided(study, lead, coder, coder2, codes):
    """'Compute as a gate' applied by coder A in one of four transcripts, by B never; both
    agree on 'Small team' everywhere."""
    gate, team = codes["Compute as a gate"], codes["Small team"]
    out = []
    for n in range(1, 5):
        t, layers = transcript(study, lead, coder, coder2, f"I{n}")
        if n == 1:
            apply(coder, layers[LayerRole.PRIMARY], gate, t, "We had no GPUs at all")
        apply(coder, layers[LayerRole.PRIMARY], team, t, "Small but stubborn.")
        apply(coder2, layers[LayerRole.SECOND], team, t, "Small but stubborn.", trim=1)
        submit(layers, coder, coder2)
        out.append(t)
    return out


def test_a_code_the_coders_never_agreed_on_fails_whatever_nvivo_s_mean_says(
    client_for, study, lead, one_sided
):
    rows = {r["code"]: r for r in agreement_report.code_rows(agreement_report.build(study))}
    gate = rows["Compute as a gate"]
    assert (gate["coded_a"], gate["coded_b"], gate["coded_both"]) == (21, 0, 0)
    assert gate["kappa"] <= 0
    assert gate["kappa_verdict"] == "no-agreement"
    # NVivo's mean, still computed as NVivo documents it: the per-transcript kappas (0 where A
    # alone coded, 1 where neither did) weighted by transcript size.
    sizes = [len(t.text) for t in one_sided]
    nvivo = sum(size * (0.0 if i == 0 else 1.0) for i, size in enumerate(sizes)) / sum(sizes)
    assert gate["kappa_nvivo_mean"] == round(nvivo, 3) > 0.7
    team = rows["Small team"]
    assert team["kappa"] == round(pooled_kappas(one_sided)[team_id(study)][0], 3)
    assert team["kappa_verdict"] == "reliable"
    overall = agreement_report.overall(agreement_report.build(study))
    assert overall["kappa"] == round(weighted_kappa(one_sided)[0], 3)
    # The page: pooled kappa with its verdict, NVivo's mean labelled beside it.
    html = page(client_for(lead), study).content.decode()
    row = html[html.index('<th scope="row">Compute as a gate</th>') :]
    row = row[: row.index("</tr>")]
    assert '<span class="badge">no agreement</span>' in row
    assert '<span class="badge">reliable</span>' not in row
    assert f"NVivo mean {nvivo:.3f}" in row
    assert "κ pooled" in html
    assert f"NVivo's mean: {overall['kappa_nvivo_mean']:.3f}" in html


def team_id(study):
    return Code.objects.get(study=study, name="Small team").pk


# --- one scale ------------------------------------------------------------------------------


def test_json_and_csv_give_every_figure_on_0_to_1(client_for, study, lead, three):
    out = io.StringIO()
    call_command("agreement", "--study", study.slug, stdout=out)
    data = json.loads(out.getvalue())
    rows = [data["overall"], *data["codes"], *data["transcripts"]]
    assert not [key for row in rows for key in row if "percent" in key]
    for row in rows:
        assert 0 <= row["agreement_proportion"] <= 1
        for key in ("kappa", "alpha_nominal", "alpha_u"):
            assert row[key] is None or -1 <= row[key] <= 1
    assert "0-1" in data["scale"]
    # The page prints the same proportion as a percentage.
    html = page(client_for(lead), study).content.decode()
    assert f"{data['overall']['agreement_proportion'] * 100:.2f} %" in html
    out = io.StringIO()
    call_command("agreement", "--study", study.slug, "--format", "csv", stdout=out)
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert "percent_agreement" not in table[0]
    assert [float(r["agreement_proportion"]) for r in table] == [
        r["agreement_proportion"] for r in rows
    ]
    helptext = load_command_class(get_commands()["agreement"], "agreement").help
    assert "0-1" in helptext and "agreement_proportion" in helptext


def test_rounds_recorded_before_are_converted_to_the_same_scale(study, lead, three):
    migration = importlib.import_module("coding.migrations.0011_round_figures_one_scale")
    old = {
        "overall": {"transcripts": 3, "percent_agreement": 98.47, "kappa": 0.773},
        "codes": {"7": {"name": "Gate", "percent_agreement": 96.24, "kappa": 0.9}},
    }
    new = migration.forward_figures(json.loads(json.dumps(old)))
    assert new["overall"] == {
        "transcripts": 3,
        "agreement_proportion": 0.9847,
        "kappa_nvivo_mean": 0.773,
        "kappa": None,  # over several transcripts the pooled kappa was not kept
    }
    assert new["codes"]["7"]["agreement_proportion"] == 0.9624
    single = migration.forward_figures({"overall": {"transcripts": 1, "kappa": 0.7}, "codes": {}})
    assert single["overall"] == {"transcripts": 1, "kappa": 0.7, "kappa_nvivo_mean": 0.7}
    assert migration.backward_figures(json.loads(json.dumps(new))) == old
    # Rounds recorded now already have that shape.
    assert set(AgreementRound.objects.get(study=study, number=2).figures["overall"]) >= {
        "agreement_proportion",
        "kappa_nvivo_mean",
    }
