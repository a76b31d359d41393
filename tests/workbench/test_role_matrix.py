"""The role matrix: every study URL of every app, every role, pages and htmx fragments alike.

Who may use what is written out here by hand from the issues rather than derived from
workbench/roles.py, so that a wrong permission mapping fails here. A new study URL fails
``test_every_study_url_is_in_the_matrix`` until it is added.
"""

import copy
import functools
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from coding.models import Disagreement, Reconciliation
from coding.services.assignments import assignment_set
from coding.services.codebook import code_create
from coding.services.codings import coding_create
from tests.factories import (
    STUDY_NAME,
    USERNAMES,
    UserFactory,
    consented_participant,
    imported_transcript,
    outsider_user,
    research_design,
    study_member,
)
from transcripts.models import Attribute, AttributeKind, AttributeTarget, Case, PseudonymRule
from transcripts.services import attributes as attribute_services
from transcripts.services import cases as case_services
from transcripts.services import transcripts as transcript_services
from transcripts.services.pseudonyms import pseudonym_rule_create
from workbench.roles import Role
from workbench.services.studies import study_create

MEMBERS = {"admin", "lead", "coder", "reviewer"}
ADMIN_LEAD = {"admin", "lead"}
STUDY_URLS = {
    # workbench
    "study_dashboard": ("get", MEMBERS),
    "study_edit": ("get", {"admin"}),
    "members": ("get", {"admin"}),
    "member_invite": ("post", {"admin"}),
    "invitation_resend": ("post", {"admin"}),
    "invitation_withdraw": ("post", {"admin"}),
    "member_roles": ("get", {"admin"}),
    "member_link_resend": ("post", {"admin"}),
    "design": ("get", MEMBERS),
    "design_item": ("get", MEMBERS),
    "design_item_create": ("post", {"lead"}),
    "dimension_value_create": ("post", {"lead"}),
    "design_item_edit": ("get", {"lead"}),
    "design_item_delete": ("post", {"lead"}),
    "design_item_move": ("post", {"lead"}),
    "audit_trail": ("get", ADMIN_LEAD),
    "audit_csv": ("get", ADMIN_LEAD),
    # participants and consent
    "participant_list": ("get", MEMBERS),
    "participant_create": ("post", ADMIN_LEAD),
    "participant_detail": ("get", MEMBERS),
    "participant_edit": ("get", ADMIN_LEAD),
    "consent_record": ("post", {"admin"}),
    "consent_withdraw": ("post", {"admin"}),
    # transcripts
    "transcript_list": ("get", MEMBERS),
    "transcript_import": ("get", ADMIN_LEAD),
    "transcript_import_confirm": ("post", ADMIN_LEAD),
    "transcript_import_cancel": ("post", ADMIN_LEAD),
    "transcript_detail": ("get", MEMBERS),
    "transcript_edit": ("get", ADMIN_LEAD),
    "transcript_purge": ("post", {"admin"}),
    "stewardship": ("get", {"admin"}),
    # cases and attributes
    "case_table": ("get", MEMBERS),
    "case_table_csv": ("get", MEMBERS),
    "case_table_xlsx": ("get", MEMBERS),
    "case_row": ("get", MEMBERS),
    "case_create": ("post", ADMIN_LEAD),
    "case_edit": ("get", ADMIN_LEAD),
    "case_delete": ("post", ADMIN_LEAD),
    "attribute_list": ("get", ADMIN_LEAD),
    "attribute_create": ("post", ADMIN_LEAD),
    "attribute_row": ("get", ADMIN_LEAD),
    "attribute_edit": ("get", ADMIN_LEAD),
    "attribute_delete": ("post", ADMIN_LEAD),
    # codebook
    "codebook": ("get", MEMBERS),
    "code_row": ("get", MEMBERS),
    "code_history": ("get", MEMBERS),
    "codebook_csv": ("get", MEMBERS),
    "codebook_qdc": ("get", MEMBERS),
    "code_create": ("post", {"admin"}),
    "code_edit": ("get", {"admin"}),
    "code_retire": ("post", {"admin"}),
    "code_reactivate": ("post", {"admin"}),
    "code_approve": ("post", {"admin"}),
    "codebook_settings": ("post", {"admin"}),
    "codebook_seed_guide": ("get", {"admin"}),
    "codebook_seed_dimensions": ("get", {"admin"}),
    "codebook_import": ("get", {"admin"}),
    "code_merge": ("get", {"admin"}),
    "code_split": ("get", {"admin"}),
    "code_operation": ("get", {"admin"}),
    "code_operation_undo": ("post", {"admin"}),
    # retrieval and search (what each reads is narrowed by blindness, tests/coding/test_retrieval)
    "retrieval": ("get", MEMBERS),
    "retrieval_csv": ("get", MEMBERS),
    "retrieval_xlsx": ("get", MEMBERS),
    "retrieval_exemplar": ("post", {"lead", "coder", "reviewer"}),
    "search": ("get", MEMBERS),
    # assignments
    "assignments": ("get", {"lead"}),
    "assignment_set": ("post", {"lead"}),
    "layer_reopen": ("post", {"lead"}),
    # coding view (the world assigns the coder as primary, the reviewer as second coder);
    # a third entry lists roles for whom the object is invisible (404, blind coding)
    "coding_view": ("get", {"coder", "reviewer", "lead"}),
    "coding_apply": ("post", {"coder", "reviewer"}),
    "coding_undo": ("post", {"coder", "reviewer"}),
    "coding_redo": ("post", {"coder", "reviewer"}),
    "coding_submit": ("post", {"coder", "reviewer"}),
    "coding_delete": ("post", {"coder"}, {"reviewer"}),
    "coding_editor": ("get", {"coder", "lead"}, {"reviewer"}),
    "coding_edit": ("post", {"coder"}, {"reviewer"}),
    "coding_new_code": ("post", {"coder", "reviewer"}),
    "coding_pin": ("post", {"coder", "reviewer"}),
    "coding_review": ("post", {"coder"}, {"reviewer"}),
    # agreement and reconciliation (the reviewer coded this transcript: only the lead settles)
    "agreement": ("get", {"lead", "reviewer"}),
    "reconcile": ("get", {"coder", "reviewer", "lead"}),
    "reconcile_start": ("post", {"lead"}),
    "disagreement_resolve": ("post", {"lead"}, {"coder", "reviewer"}),
    "disagreement_reopen": ("post", {"lead"}, {"coder", "reviewer"}),
    # pseudonymisation
    "pseudonym_list": ("get", ADMIN_LEAD),
    "pseudonym_create": ("post", ADMIN_LEAD),
    "pseudonym_delete": ("post", ADMIN_LEAD),
    "pseudonym_preview": ("get", ADMIN_LEAD),
    "pseudonym_apply": ("post", ADMIN_LEAD),
    # text corrections
    "transcript_correct": ("get", ADMIN_LEAD),
    "transcript_correct_turn": ("post", ADMIN_LEAD),
    "transcript_replace_all": ("post", ADMIN_LEAD),
    # notes, memos and agreement rounds (the note is the lead's, the memo the coder's)
    "notes": ("get", MEMBERS),
    "notes_debrief_create": ("post", {"lead", "reviewer"}),
    "notes_debrief_row": ("get", MEMBERS),
    "notes_debrief_edit": ("get", {"lead", "reviewer"}),
    "notes_debrief_delete": ("post", {"lead"}),
    "notes_memo_create": ("post", {"lead", "reviewer", "coder"}),
    "notes_memo_row": ("get", MEMBERS),
    "notes_memo_edit": ("get", {"lead", "coder"}),
    "notes_memo_delete": ("post", {"lead", "coder"}),
    "agreement_round_record": ("post", {"lead"}),
    # the theme board: every member reads it, leads and admins arrange it
    "themes": ("get", MEMBERS),
    "theme_create": ("post", ADMIN_LEAD),
    "theme_undo": ("post", ADMIN_LEAD),
    "theme_menu": ("get", ADMIN_LEAD),
    "theme_move": ("post", ADMIN_LEAD),
    "theme_promote": ("post", ADMIN_LEAD),
    "theme_demote": ("post", ADMIN_LEAD),
    "theme_status": ("post", ADMIN_LEAD),
    "theme_links": ("post", ADMIN_LEAD),
    "theme_edit": ("get", ADMIN_LEAD),
    # matrices: every member reads them (blindness narrows what a coder's matrices count);
    # leads write the cell notes
    "matrices": ("get", MEMBERS),
    "matrix_cases": ("get", MEMBERS),
    "matrix_dimensions": ("get", MEMBERS),
    "matrix_cell_note": ("get", MEMBERS),
    "matrix_cell_note_edit": ("get", {"lead"}),
    # saturation: every member reads it and the decisions' evidence (blindness narrows what a
    # coder's page counts); leads record decisions and set the interview order
    "saturation": ("get", MEMBERS),
    "saturation_decision": ("get", MEMBERS),
    "saturation_decision_record": ("post", {"lead"}),
    "saturation_order": ("post", {"lead"}),
}

# Which object a URL's ``pk`` names.
PK_OF = {
    "design_item": "rq1",
    "design_item_edit": "rq1",
    "design_item_delete": "rq1",
    "design_item_move": "rq1",
    "participant_detail": "participant",
    "participant_edit": "participant",
    "consent_record": "participant",
    "consent_withdraw": "participant",
    "transcript_detail": "transcript",
    "transcript_edit": "transcript",
    "transcript_purge": "transcript",
    "pseudonym_preview": "transcript",
    "assignment_set": "transcript",
    "coding_view": "transcript",
    "coding_apply": "transcript",
    "coding_undo": "transcript",
    "coding_redo": "transcript",
    "coding_submit": "transcript",
    "coding_editor": "coding",
    "retrieval": "code",
    "retrieval_csv": "code",
    "retrieval_xlsx": "code",
    "coding_edit": "coding",
    "coding_review": "coding",
    "coding_new_code": "transcript",
    "coding_pin": "transcript",
    "reconcile": "transcript",
    "reconcile_start": "transcript",
    "disagreement_resolve": lambda world: _disagreement(world),
    "disagreement_reopen": lambda world: _disagreement(world),
    "coding_delete": lambda world: coding_create(
        actor=world["users"]["coder"], layer=world["layer"], code=world["code"], start=0, end=5
    ),
    "pseudonym_apply": "transcript",
    # Deleting: each role gets an object of its own, or the first allowed role would leave
    # the next one a 404.
    "case_delete": lambda world: case_services.case_create(
        actor=world["users"]["admin"],
        study=world["case"].study,
        name=f"Doomed {Case.objects.count()}",
    ),
    "attribute_delete": lambda world: attribute_services.attribute_create(
        actor=world["users"]["admin"],
        study=world["case"].study,
        target="case",
        name=f"Doomed {Attribute.objects.count()}",
        kind="text",
    ),
    "pseudonym_delete": lambda world: pseudonym_rule_create(
        actor=world["users"]["admin"],
        study=world["transcript"].study,
        find=f"Name{PseudonymRule.objects.count()}",
        replace_with="[X]",
    ),
    # Codebook changes: a fresh split of the world's code for each role (undo ends one).
    "code_operation": lambda world: _split(world),
    "code_operation_undo": lambda world: _split(world),
    # Notes: a fresh note (by the lead) or memo (by the coder) for each role.
    "notes_debrief_row": lambda world: _debrief_note(world),
    "notes_debrief_edit": lambda world: _debrief_note(world),
    "notes_debrief_delete": lambda world: _debrief_note(world),
    "notes_memo_row": lambda world: _memo(world),
    "notes_memo_edit": lambda world: _memo(world),
    "notes_memo_delete": lambda world: _memo(world),
    # the theme board: a code, or a theme in a category
    "theme_menu": "code",
    "theme_move": "code",
    "theme_promote": "code",
    "theme_links": "code",
    "theme_demote": "theme",
    "theme_status": "theme",
    "theme_edit": "theme",
    "matrix_cell_note": "code",
    "matrix_cell_note_edit": "code",
    "saturation_decision": lambda world: _saturation_decision(world),
}


def _saturation_decision(world):
    """A decision as the service stores one: the world has no consensus to decide on, so its
    (empty) evidence is written directly."""
    from coding.models import SaturationDecision
    from coding.selectors.saturation import SaturationParams, StudyWide, analyse

    study = world["transcript"].study
    return SaturationDecision.objects.create(
        study=study,
        verdict="continue",
        rationale="Keep sampling.",
        interviews=0,
        evidence=analyse(StudyWide(study), SaturationParams()).evidence(),
        decided_by=world["users"]["lead"],
    )


def _split(world):
    from coding.models import Code, Coding
    from coding.services.codebook_evolution import code_split

    code = Coding.objects.get(pk=world["coding"].pk).code  # moved on by the previous split
    return code_split(
        actor=world["users"]["admin"],
        code=code,
        version=code.version,
        name=f"Split {Code.objects.count()}",
        transcripts=[world["transcript"].pk],
    )


def _debrief_note(world):
    from coding.models import DebriefNote

    return DebriefNote.objects.create(
        study=world["transcript"].study,
        held_on="2026-03-12",
        title="Debrief",
        written_by=world["users"]["lead"],
    )


def _memo(world):
    from coding.models import AnalyticMemo

    return AnalyticMemo.objects.create(
        study=world["transcript"].study,
        title="Memo",
        body="Thoughts.",
        written_by=world["users"]["coder"],
    )


def _invitation(world):
    """A fresh invitation for each role (withdrawing one deletes it)."""
    from workbench.models import Invitation
    from workbench.services.invitations import invitation_create

    return invitation_create(
        actor=world["users"]["admin"],
        study=world["transcript"].study,
        identifier=f"guest{Invitation.objects.count()}@example.org",
        roles=["coder"],
    ).invitation


def _disagreement(world):
    """A disagreement on the world's transcript, its layers still open: the coders (coding
    blind) must not learn that it exists."""
    reconciliation, _ = Reconciliation.objects.get_or_create(
        transcript=world["transcript"], defaults={"started_by": world["users"]["lead"]}
    )
    disagreement, _ = Disagreement.objects.get_or_create(
        reconciliation=reconciliation,
        number=1,
        defaults={"kind": "missing_in_b", "start": 0, "end": 5},
    )
    return disagreement


@functools.cache
def _study_urls():
    found = {}

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                # Namespaced URLs (the Django admin) are not in the root reverse map.
                for possibilities, *_ in get_resolver().reverse_dict.getlist(pattern.name):
                    for _, params in possibilities:
                        if "study_slug" in params:
                            found[pattern.name] = params

    walk(get_resolver().url_patterns)
    return found


def test_every_study_url_is_in_the_matrix():
    assert set(_study_urls()) == set(STUDY_URLS)


def _build_world():
    """One study with a person per role, a design, a coded transcript, a case and an attribute.

    Built once for the module (see tests/module_data.py): the tests only read it, and what
    the views they call write is undone by each test's savepoint.
    """
    admin = UserFactory(username=USERNAMES["admin"])
    study = study_create(actor=admin, name=STUDY_NAME)
    design = research_design(study)
    users = {
        "admin": admin,
        "lead": study_member(study, Role.LEAD),
        "coder": study_member(study, Role.CODER),
        "reviewer": study_member(study, Role.REVIEWER),
        "outsider": outsider_user(),
    }
    lead = users["lead"]
    participant = consented_participant(study, "I1")
    transcript = imported_transcript(study, participant, "Interviewer: Hi?\n\nI1: Hello.\n")
    case = case_services.case_create(actor=lead, study=study, name="Project A")
    attribute = attribute_services.attribute_create(
        actor=lead,
        study=study,
        target=AttributeTarget.CASE,
        name="Region",
        kind=AttributeKind.TEXT,
    )
    code = code_create(actor=study.created_by, study=study, name="Compute as an on-ramp")
    category = code_create(actor=admin, study=study, name="Lifecycle", kind="category")
    theme = code_create(
        actor=admin, study=study, name="Shared logs lower costs", kind="theme", parent=category
    )
    transcript = transcript_services.transcript_update(
        actor=lead, transcript=transcript, version=transcript.version, status="ready"
    )
    assignment_set(
        actor=lead,
        transcript=transcript,
        primary=users["coder"],
        second=users["reviewer"],
        mode="independent",
    )
    layer = transcript.layers.get(role="primary")
    coding = coding_create(actor=users["coder"], layer=layer, code=code, start=0, end=5)
    # One signed-in session per person, for all the module's tests (see ``signed_in``).
    sessions = {}
    for role, user in users.items():
        session_client = Client()
        session_client.force_login(user)
        sessions[role] = session_client.cookies[settings.SESSION_COOKIE_NAME].value
    return design | {
        "study": study,
        "code": code,
        "theme": theme,
        "layer": layer,
        "coding": coding,
        "participant": participant,
        "transcript": transcript,
        "case": case,
        "attribute": attribute,
        "users": users,
        "sessions": sessions,
    }


def signed_in(client, world, role):
    """The client as ``role``, through the session made for them with the world: as
    ``force_login`` then ``logout`` around each request did, but without a new session row
    each time. The tests check that each response was made for that person."""
    client.cookies = SimpleCookie({settings.SESSION_COOKIE_NAME: world["sessions"][role]})
    return client


@pytest.fixture(scope="module")
def built_world(module_db, django_db_blocker):
    with django_db_blocker.unblock():
        return _build_world()


@pytest.fixture
def world(db, built_world):
    return copy.deepcopy(built_world)


@pytest.fixture
def study(world):
    return world["study"]


@pytest.fixture
def role_users(world):
    return world["users"]


def _kwargs(name, params, study, world):
    kwargs = {"study_slug": study.slug}
    for param in params:
        if param == "kind":
            kwargs["kind"] = "rq"
        elif param in ("pk", "ref"):
            source = PK_OF.get(name, name.split("_")[0])
            row = source(world) if callable(source) else world[source]
            kwargs[param] = row.pk if param == "pk" else row.public_id
        elif param == "parent_id":
            kwargs["parent_id"] = world["dimension"].pk
        elif param == "case_id":
            kwargs["case_id"] = world["case"].pk
        elif param == "user_id":
            kwargs["user_id"] = world["users"]["coder"].pk
        elif param == "token":
            kwargs["token"] = "0" * 32
        elif param == "invitation_id":
            kwargs["invitation_id"] = _invitation(world).public_id
    return kwargs


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
@pytest.mark.parametrize("name", sorted(STUDY_URLS))
def test_role_matrix(client, study, world, role_users, name, htmx):
    method, allowed, *hidden = STUDY_URLS[name]
    hidden = hidden[0] if hidden else set()
    headers = {"HX-Request": "true"} if htmx else {}
    for role, user in role_users.items():
        url = reverse(name, kwargs=_kwargs(name, _study_urls()[name], study, world))
        response = getattr(signed_in(client, world, role), method)(url, headers=headers)
        assert response.wsgi_request.user == user, (role, url)
        if role == "outsider" or role in hidden:
            assert response.status_code == 404, (role, url)
        elif role in allowed:
            assert response.status_code in {200, 204, 302}, (role, url, response.status_code)
        else:
            assert response.status_code == 403, (role, url, response.status_code)


@pytest.mark.parametrize("name", sorted(STUDY_URLS))
def test_anonymous_is_sent_to_login(client, study, world, name):
    method = STUDY_URLS[name][0]
    url = reverse(name, kwargs=_kwargs(name, _study_urls()[name], study, world))
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", sorted(STUDY_URLS))
def test_wrong_method_is_refused(client, study, world, role_users, name):
    method, allowed = STUDY_URLS[name][:2]
    url = reverse(name, kwargs=_kwargs(name, _study_urls()[name], study, world))
    role = sorted(allowed)[0]
    signed_in(client, world, role)
    response = (client.delete if method == "post" else client.put)(url)
    assert response.wsgi_request.user == role_users[role]
    assert response.status_code == 405
