"""Blindness, proved by crawling: coder A fetches every URL of the study, coder B works, A fetches
again, and A's responses must be identical.

In independent mode a person who holds a layer of a transcript must learn nothing of the other
layer until both are submitted: not from a page, a fragment, a count, a message or a download.
The URLs come from the resolver (a new study URL is crawled without being listed here) and are
filled with real ids. Run for coder A alone, and for coder A who also holds every other role.
"""

import datetime
import io
import re
import zipfile

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from coding.models import CodingMode
from coding.selectors.saturation import SaturationParams
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services import notes as notes_services
from coding.services import saturation as saturation_services
from coding.services.codebook import code_create
from tests.factories import (
    UserFactory,
    consented_participant,
    give_roles,
    imported_transcript,
    reconciled_interview,
)
from transcripts.services import attributes as attribute_services
from transcripts.services import cases as case_services
from transcripts.services import pseudonyms as pseudonym_services
from transcripts.services import transcripts as transcript_services
from workbench.roles import Role
from workbench.services import invitations as invitation_services

TEXT = (
    "Interviewer: What got in the way?\n\n"
    "I1: Compute, first. Nobody outside the sponsored cluster can run an ablation, so we waited "
    "weeks.\n\n"
    "Interviewer: And what keeps people going?\n\n"
    "I1: Seeing their language in the model. Students posted screenshots at two in the morning.\n"
)


def _span(phrase):
    start = TEXT.index(phrase)
    return start, start + len(phrase)


def _study_urls() -> dict[str, list[str]]:
    found = {}

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                for possibilities, *_ in get_resolver().reverse_dict.getlist(pattern.name):
                    for _, params in possibilities:
                        if "study_slug" in params:
                            found[pattern.name] = params

    walk(get_resolver().url_patterns)
    return found


# Which object of the world a URL's ``pk`` names (default: the first word of the URL name).
PK_OF = {
    "design_item": "rq",
    "design_item_edit": "rq",
    "design_item_delete": "rq",
    "design_item_move": "rq",
    "consent_record": "participant",
    "consent_withdraw": "participant",
    "pseudonym_preview": "transcript",
    "pseudonym_apply": "transcript",
    "coding_view": "transcript",
    "coding_apply": "transcript",
    "coding_undo": "transcript",
    "coding_redo": "transcript",
    "coding_submit": "transcript",
    "coding_new_code": "transcript",
    "coding_pin": "transcript",
    "pseudonym_delete": "rule",
    "assignment_set": "transcript",
    "layer_reopen": "layer",
    "reconcile": "transcript",
    "reconcile_start": "transcript",
    "disagreement_resolve": "transcript",
    "disagreement_reopen": "transcript",
    "notes_debrief_row": "note",
    "notes_debrief_edit": "note",
    "notes_debrief_delete": "note",
    "notes_memo_row": "memo",
    "notes_memo_edit": "memo",
    "notes_memo_delete": "memo",
    "theme_menu": "code",
    "theme_move": "code",
    "theme_promote": "code",
    "theme_demote": "code",
    "theme_status": "code",
    "theme_links": "code",
    "theme_edit": "code",
    "matrix_cell_note": "code",
    "matrix_cell_note_edit": "code",
    "retrieval": "code",
    "retrieval_csv": "code",
    "retrieval_xlsx": "code",
    "saturation_decision": "decision",
}
# Query strings worth a fetch of their own: filters and views that read codings differently.
VARIANTS = {
    "coding_view": ["", "?mine=1", "?recheck=1", "?code={code}"],
    "codebook": ["", "?status=pending", "?origin=inductive", "?q=a"],
    "notes": ["", "?code={code}"],
    "audit_trail": ["", "?verb=coding.create"],
    "agreement": ["", "?transcript={transcript}"],
    "transcript_detail": ["", "?q=Compute"],
    "themes": ["", "?status=tentative"],
    "theme_menu": ["", "?status=tentative"],
    "matrices": ["", "?by=turn&measure=jaccard", "?format=csv", "?source=consensus"],
    "matrix_cases": ["", "?rows=themes", "?format=xlsx"],
    "retrieval": ["", "?layer={b}", "?transcript={transcript}", "?exemplar=1", "?sort=code"],
    "retrieval_csv": ["", "?layer={b}"],
    "retrieval_xlsx": ["", "?layer={b}"],
    "search": ["", "?q=Compute", "?q=language"],
    "saturation": [
        "",
        "?layer={b_name}",
        "?information=codes",
        "?information=both&base=1&run=1",
        "?format=csv",
        "?format=csv&table=runs",
        "?format=csv&table=meaning&layer={b_name}",
        "?format=json",
    ],
    "saturation_decision": ["", "?format=json", "?format=csv&table=meaning"],
}


def _kwargs(name, params, world):
    kwargs = {"study_slug": world["study"].slug}
    for param in params:
        if param == "study_slug":
            continue
        if param == "kind":
            kwargs["kind"] = "rq"
        elif param in ("pk", "ref"):
            row = world[PK_OF.get(name, name.split("_")[0])]
            kwargs[param] = row.pk if param == "pk" else row.public_id
        elif param == "parent_id":
            kwargs["parent_id"] = world["dimension"].pk
        elif param == "case_id":
            kwargs["case_id"] = world["case"].pk
        elif param == "user_id":
            kwargs["user_id"] = world["b"].pk
        elif param == "token":
            kwargs["token"] = "0" * 32
        elif param == "invitation_id":
            kwargs["invitation_id"] = world["invitation"].public_id
        else:
            raise AssertionError(f"the crawl does not know how to fill {param} of {name}")
    return kwargs


def _urls(world) -> list[str]:
    urls = []
    for name, params in sorted(_study_urls().items()):
        base = reverse(name, kwargs=_kwargs(name, params, world))
        for query in VARIANTS.get(name, [""]):
            urls.append(
                base
                + query.format(
                    code=world["code"].public_id,
                    transcript=world["transcript"].pk,
                    b=world["b"].pk,
                    b_name=world["b"].username,
                )
            )
    return urls


CSRF = re.compile(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ?"|csrf_token" content=")[^"]+')
TIMES = re.compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:?\d\d|Z)?"  # ISO
    r"|\b\d{1,2} [A-Z][a-z]{2}(,? \d{4})?,? \d\d:\d\d\b"  # 1 Dec, 15:40 / 1 Dec 2026, 15:40
    r"|\b\d\d:\d\d\b"
)


def _normalised(response) -> tuple:
    content_type = response.get("Content-Type", "")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if "spreadsheetml" in content_type:
        # An XLSX is a zip with a creation time in it: compare the sheets and strings only.
        with zipfile.ZipFile(io.BytesIO(body)) as book:
            parts = sorted(n for n in book.namelist() if n.startswith("xl/") and "styles" not in n)
            body = b"".join(book.read(n) for n in parts)
    text = body.decode("utf-8", errors="replace")
    text = TIMES.sub("<time>", CSRF.sub(r"\1<csrf>", text))
    return response.status_code, response.get("Location", ""), text


def _crawl(client, urls) -> dict:
    seen = {}
    for url in urls:
        for htmx in (False, True):
            headers = {"HX-Request": "true"} if htmx else {}
            seen[(url, htmx)] = _normalised(client.get(url, headers=headers))
    return seen


@pytest.fixture
def world(study, design, admin_user, lead, reviewer):
    a = UserFactory(username="chen", first_name="Chen")
    b = UserFactory(username="kofi", first_name="Kofi")
    give_roles(study, a, Role.CODER)
    give_roles(study, b, Role.CODER)
    participant = consented_participant(study, "I1")
    transcript = imported_transcript(study, participant, TEXT)
    transcript = transcript_services.transcript_update(
        actor=lead, transcript=transcript, version=transcript.version, status="ready"
    )
    assignment_services.assignment_set(
        actor=lead, transcript=transcript, primary=a, second=b, mode=CodingMode.INDEPENDENT
    )
    layers = {layer.coder_id: layer for layer in transcript.layers.all()}
    code = code_create(actor=admin_user, study=study, name="Compute as a gate")
    other = code_create(actor=admin_user, study=study, name="Belonging")
    start, end = _span("Compute, first.")
    coding = coding_services.coding_create(
        actor=a, layer=layers[a.pk], code=code, start=start, end=end, memo="A's thought"
    )
    memo = notes_services.memo_create(
        actor=a, study=study, title="A's memo", body="On compute.", code=code
    )
    note = notes_services.debrief_note_create(
        actor=lead, study=study, held_on=datetime.date(2026, 3, 12), title="Debrief after I1"
    )
    case = case_services.case_create(actor=lead, study=study, name="Project A")
    attribute = attribute_services.attribute_create(
        actor=lead, study=study, target="case", name="Region", kind="text"
    )
    rule = pseudonym_services.pseudonym_rule_create(
        actor=lead, study=study, find="Kwame", replace_with="[P1]"
    )
    # A saturation decision on an earlier, reconciled interview: its evidence must read the
    # same before and after B works.
    pair = [UserFactory(username=name) for name in ("dana", "emil")]
    for person in pair:
        give_roles(study, person, Role.CODER)
    earlier = reconciled_interview(study, lead, pair, [(code, "Compute, first.")], code="I0")
    decision = saturation_services.saturation_decision_record(
        actor=lead,
        study=study,
        verdict="continue",
        rationale="Keep sampling.",
        params=SaturationParams(),
    )
    invitation = invitation_services.invitation_create(
        actor=admin_user, study=study, identifier="newcomer@example.org", roles={Role.CODER}
    ).invitation
    return {
        "study": study,
        "a": a,
        "b": b,
        "layer": layers[a.pk],
        "b_layer": layers[b.pk],
        "transcript": transcript,
        "participant": participant,
        "code": code,
        "other": other,
        "coding": coding,
        "memo": memo,
        "note": note,
        "case": case,
        "attribute": attribute,
        "rule": rule,
        "invitation": invitation,
        "decision": decision,
        "earlier": earlier,
        "rq": design["rq1"],
        "dimension": design["dimension"],
    }


def _b_works(world):
    """Coder B codes, memos, creates an inductive code, edits, deletes, pins."""
    b, layer, study = world["b"], world["b_layer"], world["study"]
    start, end = _span("waited weeks")
    kept = coding_services.coding_create(
        actor=b, layer=layer, code=world["code"], start=start, end=end, memo="B's thought"
    )
    start, end = _span("Seeing their language")
    gone = coding_services.coding_create(
        actor=b, layer=layer, code=world["other"], start=start, end=end
    )
    created = coding_services.coding_create_with_new_code(
        actor=b,
        layer=layer,
        name="Night-time enthusiasm",
        definition="Contributors staying up to see results.",
        start=_span("two in the morning")[0],
        end=_span("two in the morning")[1],
    )
    coding_services.coding_update(
        actor=b, coding=kept, version=kept.version, memo="B changed their mind", exemplar=True
    )
    coding_services.coding_delete(actor=b, coding=gone)
    coding_services.code_pin_toggle(actor=b, code=world["code"])
    notes_services.memo_create(
        actor=b,
        study=study,
        title="B's memo on the new code",
        body="Seen in I1.",
        code=created[0].code,
        transcripts=[world["transcript"]],
    )


@pytest.mark.parametrize("also", [(), (Role.LEAD, Role.ADMIN, Role.REVIEWER)], ids=["coder", "all"])
def test_coder_a_learns_nothing_of_coder_b_s_layer(client, world, also):
    a = world["a"]
    if also:
        give_roles(world["study"], a, Role.CODER, *also)
    client.force_login(a)
    urls = _urls(world)
    before = _crawl(client, urls)
    assert sum(status == 200 for status, _, _ in before.values()) > 40  # the crawl sees pages
    _b_works(world)
    after = _crawl(client, urls)
    changed = [key for key in before if before[key] != after[key]]
    assert not changed, "\n".join(f"{url} (htmx={htmx})" for url, htmx in changed)


def test_the_crawl_would_see_a_leak(client, world):
    """A guard on the guard: once both layers are submitted, B's work shows, and the crawl
    notices it (on the coding view and the codebook at least)."""
    client.force_login(world["a"])
    urls = _urls(world)
    before = _crawl(client, urls)
    _b_works(world)
    for layer in (world["layer"], world["b_layer"]):
        assignment_services.layer_submit(actor=layer.coder, layer=layer)
    after = _crawl(client, urls)
    changed = {url for (url, _), seen in before.items() if after[(url, _)] != seen}
    coding_view = reverse("coding_view", args=[world["study"].slug, world["transcript"].pk])
    assert coding_view in changed
    assert reverse("codebook", args=[world["study"].slug]) in changed


def test_creating_the_name_of_a_hidden_code_tells_nothing(client, world):
    """Coder B's inductive code does not exist for coder A: A creating the same name gets a
    code of their own, as if B had never thought of it; both are there once both can see."""
    _b_works(world)
    a, layer = world["a"], world["layer"]
    start, end = _span("Students posted")
    created = coding_services.coding_create_with_new_code(
        actor=a,
        layer=layer,
        name="night-time ENTHUSIASM",
        definition="People up late to see the model.",
        start=start,
        end=end,
    )
    mine = created[0].code
    assert mine.created_by == a and mine.definition == "People up late to see the model."
    study = world["study"]
    client.force_login(a)
    page = client.get(reverse("codebook", args=[study.slug])).content.decode()
    assert page.count("night-time ENTHUSIASM") >= 1 and "Night-time enthusiasm" not in page
    for layer in (world["layer"], world["b_layer"]):
        assignment_services.layer_submit(actor=layer.coder, layer=layer)
    page = client.get(reverse("codebook", args=[study.slug])).content.decode()
    assert "Night-time enthusiasm" in page and "night-time ENTHUSIASM" in page


def test_a_refused_correction_names_only_the_codes_its_author_may_see(world):
    """Coder A, also a lead, corrects text that both coders coded: the refusal counts B's
    coding but names only A's code."""
    from django.core.exceptions import ValidationError

    from transcripts.services.corrections import transcript_correct

    a, b, study = world["a"], world["b"], world["study"]
    give_roles(study, a, Role.CODER, Role.LEAD)
    start, end = _span("Seeing their language")
    coding_services.coding_create(
        actor=b, layer=world["b_layer"], code=world["other"], start=start, end=end
    )
    coding_services.coding_create(
        actor=a, layer=world["layer"], code=world["code"], start=start, end=end
    )
    transcript = world["transcript"]
    transcript.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        transcript_correct(
            actor=a,
            transcript=transcript,
            version=transcript.version,
            edits=[(start, end, "")],
            reason="typo",
        )
    message = " ".join(refused.value.messages)
    assert "2 codings" in message and "Compute as a gate" in message
    assert "Belonging" not in message and "1 in a layer you cannot see" in message
