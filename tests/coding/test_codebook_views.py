import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from coding.models import Code, CodebookSettings, CodeKind
from coding.services import codebook as codebook_services
from workbench.models import AuditEvent

HTMX = {"HX-Request": "true"}
MEMBERS = {"admin", "lead", "coder", "reviewer"}
# name: (method, who may use it); the lead engineer copies these into tests/test_role_matrix.py.
CODEBOOK_URLS = {
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
}
WITH_PK = {
    "code_row",
    "code_history",
    "code_edit",
    "code_retire",
    "code_reactivate",
    "code_approve",
}


def url(name, study, **kwargs):
    return reverse(name, kwargs={"study_slug": study.slug, **kwargs})


def code_url(name, study, code):
    return url(name, study, ref=code.public_id) if name in WITH_PK else url(name, study)


@pytest.fixture
def as_admin(client, admin_user):
    client.force_login(admin_user)
    return client


def test_every_codebook_url_is_listed():
    from coding.urls import urlpatterns
    from coding.views import codebook as views

    codebook_views = {p.name for p in urlpatterns if p.callback.__module__ == views.__name__}
    assert codebook_views == set(CODEBOOK_URLS)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
@pytest.mark.parametrize("name", sorted(CODEBOOK_URLS))
def test_roles(client, study, code, role_users, name, htmx):
    method, allowed = CODEBOOK_URLS[name]
    headers = HTMX if htmx else {}
    for role, user in role_users.items():
        client.force_login(user)
        response = getattr(client, method)(code_url(name, study, code), headers=headers)
        if role == "outsider":
            assert response.status_code == 404, (role, name)
        elif role in allowed:
            assert response.status_code in {200, 302}, (role, name, response.status_code)
        else:
            assert response.status_code == 403, (role, name, response.status_code)
        client.logout()


@pytest.mark.parametrize("name", sorted(CODEBOOK_URLS))
def test_anonymous_is_sent_to_login(client, study, code, name):
    method, _ = CODEBOOK_URLS[name]
    response = getattr(client, method)(code_url(name, study, code))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", sorted(CODEBOOK_URLS))
def test_wrong_method_is_refused(as_admin, study, code, name):
    method, _ = CODEBOOK_URLS[name]
    if name in {"code_edit", "codebook_seed_guide", "codebook_seed_dimensions", "codebook_import"}:
        wrong = "put"
    else:
        wrong = "post" if method == "get" else "get"
    assert getattr(as_admin, wrong)(code_url(name, study, code)).status_code == 405


def test_a_code_of_another_study_is_404(as_admin, study, code, outsider):
    from workbench.models import Study

    other = Study.objects.get(name="Someone else's study")
    foreign = codebook_services.code_create(actor=outsider, study=other, name="Secret")
    assert as_admin.get(url("code_edit", study, ref=foreign.public_id)).status_code == 404
    assert as_admin.get(url("code_history", study, ref=foreign.public_id)).status_code == 404


class TestCodebookPage:
    def test_full_page_and_filter_fragment(self, as_admin, study, code):
        page = as_admin.get(url("codebook", study)).content.decode()
        assert "<html" in page and "Onboarding" in page and 'id="code-table"' in page
        assert "Q1" in page and "pre-training" in page
        fragment = as_admin.get(url("codebook", study) + "?q=newcomers", headers=HTMX)
        body = fragment.content.decode()
        assert "<html" not in body and body.lstrip().startswith('<div id="code-table"')
        assert "Onboarding" in body

    @pytest.mark.parametrize(
        "query, found",
        [
            ("q=NEWCOMERS", True),
            ("q=nothing-like-it", False),
            ("origin=inductive", False),
            ("origin=deductive", True),
            ("status=retired", False),
            ("kind=theme", False),
        ],
    )
    def test_search_and_filters(self, as_admin, study, code, query, found):
        body = as_admin.get(url("codebook", study) + "?" + query).content.decode()
        assert (f'id="code-{code.public_id}"' in body) is found

    def test_filter_by_dimension_value(self, as_admin, study, code, design, admin_user):
        codebook_services.code_create(actor=admin_user, study=study, name="Other")
        body = as_admin.get(
            url("codebook", study) + f"?dimension_value={design['value'].pk}"
        ).content.decode()
        assert "Onboarding" in body and ">Other<" not in body

    def test_coder_reads_without_controls(self, client, study, code, coder):
        client.force_login(coder)
        body = client.get(url("codebook", study)).content.decode()
        assert "Onboarding" in body
        assert url("code_edit", study, ref=code.public_id) not in body
        assert "Add a code" not in body and "Seed from guide" not in body

    def test_user_text_is_escaped(self, as_admin, study, admin_user):
        codebook_services.code_create(actor=admin_user, study=study, name="<script>x</script>")
        body = as_admin.get(url("codebook", study)).content.decode()
        assert "<script>x</script>" not in body and "&lt;script&gt;" in body

    def test_query_count_does_not_grow(
        self, client, study, admin_user, design, django_assert_num_queries
    ):
        client.force_login(admin_user)

        def make(n):
            for i in range(n):
                codebook_services.code_create(
                    actor=admin_user,
                    study=study,
                    name=f"Code {Code.objects.count()} {i}",
                    guide_questions=[design["gq"]],
                    dimension_values=[design["value"]],
                )

        make(2)
        client.get(url("codebook", study))  # warm caches (content types)
        # session, user, study, permissions, codes (+ parent, author, transcript, usage),
        # their dimension values, their guide questions, guide numbering, settings, the
        # filter's dimension values, and the add form's guide questions, dimension values
        # and parents.
        with django_assert_num_queries(14):
            client.get(url("codebook", study))
        make(20)
        with django_assert_num_queries(14):
            client.get(url("codebook", study))

    def test_coder_query_count(self, client, study, coder, code, django_assert_num_queries):
        client.force_login(coder)
        client.get(url("codebook", study))
        with django_assert_num_queries(9):
            client.get(url("codebook", study))


class TestInlineEditing:
    def test_create_without_javascript(self, as_admin, study, design):
        response = as_admin.post(
            url("code_create", study),
            {
                "new-code-name": "Licensing",
                "new-code-definition": "Talk about licences.",
                "new-code-kind": "code",
                "new-code-origin": "deductive",
                "new-code-colour": "#336699",
                "new-code-dimension_values": [design["value"].pk],
            },
        )
        code = Code.objects.get(name="Licensing")
        assert response.status_code == 302
        assert response.url == url("codebook", study) + f"#code-{code.public_id}"
        assert code.colour == "#336699" and list(code.dimension_values.all()) == [design["value"]]

    def test_htmx_create_returns_the_codebook_fragment(self, as_admin, study):
        response = as_admin.post(
            url("code_create", study),
            {"new-code-name": "Licensing", "new-code-kind": "code", "new-code-origin": "deductive"},
            headers=HTMX,
        )
        body = response.content.decode()
        assert "<html" not in body and 'id="codebook"' in body and "Licensing" in body
        assert 'hx-swap-oob="true"' in body  # messages

    def test_duplicate_name_shows_an_error_and_writes_nothing(self, as_admin, study, code):
        response = as_admin.post(
            url("code_create", study),
            {
                "new-code-name": "ONBOARDING",
                "new-code-kind": "code",
                "new-code-origin": "deductive",
            },
        )
        assert response.status_code == 200
        assert "already has a code" in response.content.decode()
        assert Code.objects.count() == 1

    def test_edit_form_fragment_and_cancel_row(self, as_admin, study, code):
        form = as_admin.get(
            url("code_edit", study, ref=code.public_id), headers=HTMX
        ).content.decode()
        assert form.lstrip().startswith(f'<tr id="code-{code.public_id}" class="editing">')
        assert f'name="code-{code.public_id}-flag_codings"' in form
        assert f'value="{code.version}"' in form
        row = as_admin.get(url("code_row", study, ref=code.public_id), headers=HTMX)
        assert row["HX-Retarget"] == f"#code-{code.public_id}"
        assert row.content.decode().lstrip().startswith(f'<tr id="code-{code.public_id}"')
        assert "<html" not in row.content.decode()

    def test_edit_without_javascript_shows_the_form_in_the_page(self, as_admin, study, code):
        body = as_admin.get(url("code_edit", study, ref=code.public_id)).content.decode()
        assert "<html" in body and 'class="editing"' in body
        assert as_admin.get(url("code_row", study, ref=code.public_id)).status_code == 302

    def _post_edit(self, client, study, code, version, **changes):
        data = {
            "name": code.name,
            "definition": code.definition,
            "when_to_use": "",
            "when_not_to_use": "",
            "example": "",
            "colour": code.colour,
            "version": version,
        } | changes
        return client.post(
            url("code_edit", study, ref=code.public_id),
            {f"code-{code.public_id}-{k}": v for k, v in data.items()},
        )

    def test_edit_saves_and_flags(self, as_admin, study, code):
        response = self._post_edit(
            as_admin, study, code, code.version, definition="Narrower.", flag_codings="on"
        )
        assert response.status_code == 302
        latest = code.versions.order_by("-number").first()
        assert latest.changes == ["redefine", "relink"] or latest.changes == ["redefine"]
        assert latest.flag_codings

    def test_a_redefinition_names_the_interview_that_prompted_it(
        self, as_admin, study, code, lead, admin_user
    ):
        from tests.factories import create_study, ready_transcript

        interview = ready_transcript(study, lead, "Interviewer: Hi.\nI1: Hello.\n")
        elsewhere = ready_transcript(
            create_study(admin_user, "Other study"), admin_user, "Interviewer: Hi.\n", code="X"
        )
        refused = self._post_edit(
            as_admin, study, code, code.version, definition="Broader.", during=elsewhere.pk
        )
        assert refused.status_code == 200  # the form again, with the choice refused
        assert code.versions.count() == 1
        self._post_edit(
            as_admin, study, code, code.version, definition="Broader.", during=interview.pk
        )
        assert code.versions.order_by("-number").first().during == interview

    def test_stale_edit_is_refused_with_a_message(self, as_admin, study, code, admin_user):
        old = code.version
        self._post_edit(as_admin, study, code, old, name="First")
        response = self._post_edit(as_admin, study, code, old, name="Second")
        assert response.status_code == 200
        assert "changed by someone else" in response.content.decode()
        code.refresh_from_db()
        assert code.name == "First"

    def test_retire_and_reactivate(self, as_admin, study, code):
        response = as_admin.post(
            url("code_retire", study, ref=code.public_id), {"version": code.version}
        )
        assert response.status_code == 302
        code.refresh_from_db()
        assert code.status == "retired"
        body = as_admin.post(
            url("code_reactivate", study, ref=code.public_id),
            {"version": code.version},
            headers=HTMX,
        ).content.decode()
        assert "reactivated" in body
        code.refresh_from_db()
        assert code.status == "active"

    def test_stale_retire_changes_nothing(self, as_admin, study, code):
        as_admin.post(url("code_retire", study, ref=code.public_id), {"version": code.version + 5})
        code.refresh_from_db()
        assert code.status == "active"

    def test_settings_toggle(self, as_admin, study):
        response = as_admin.post(
            url("codebook_settings", study), {"inductive_codes": "pending", "version": ""}
        )
        assert response.status_code == 302
        assert CodebookSettings.objects.get(study=study).inductive_codes == "pending"


class TestHistory:
    def test_history_shows_word_diff_escaped(self, as_admin, study, code, admin_user):
        codebook_services.code_update(
            actor=admin_user,
            code=code,
            version=code.version,
            name=code.name,
            definition="How <b>new</b> people join the project.",
            when_to_use="",
            when_not_to_use="",
            example="",
            colour=code.colour,
            parent=None,
            guide_questions=list(code.guide_questions.all()),
            dimension_values=list(code.dimension_values.all()),
        )
        body = as_admin.get(
            url("code_history", study, ref=code.public_id), headers=HTMX
        ).content.decode()
        assert body.lstrip().startswith(f'<tr id="code-{code.public_id}-history"')
        assert "<del>newcomers </del>" in body
        assert "<ins>&lt;b&gt;new&lt;/b&gt; people </ins>" in body
        assert "by alice" in body
        page = as_admin.get(url("code_history", study, ref=code.public_id)).content.decode()
        assert "<html" in page and "v2" in page
        closed = as_admin.get(
            url("code_history", study, ref=code.public_id) + "?close", headers=HTMX
        )
        assert "hidden" in closed.content.decode()

    def test_history_query_count(
        self, as_admin, study, code, admin_user, django_assert_num_queries
    ):
        as_admin.get(url("code_history", study, ref=code.public_id))
        # session, user, study, permissions, the code, its dimension values, its guide
        # questions, guide numbering, the versions with their authors.
        with django_assert_num_queries(9):
            as_admin.get(url("code_history", study, ref=code.public_id), headers=HTMX)
        for _ in range(5):
            code = codebook_services.code_retire(actor=admin_user, code=code, version=code.version)
            code = codebook_services.code_reactivate(
                actor=admin_user, code=code, version=code.version
            )
        with django_assert_num_queries(9):
            as_admin.get(url("code_history", study, ref=code.public_id), headers=HTMX)


class TestSeeding:
    def test_guide_suggestions_are_an_editable_formset(self, as_admin, study, design):
        body = as_admin.get(url("codebook_seed_guide", study)).content.decode()
        assert 'name="form-0-name"' in body and 'name="form-TOTAL_FORMS"' in body
        response = as_admin.post(
            url("codebook_seed_guide", study),
            {
                "form-TOTAL_FORMS": "1",
                "form-INITIAL_FORMS": "1",
                "form-0-include": "on",
                "form-0-name": "Getting involved",
                "form-0-definition": "Edited.",
                "form-0-guide_questions": str(design["gq"].pk),
            },
        )
        assert response.status_code == 302
        code = Code.objects.get(name="Getting involved")
        assert list(code.guide_questions.all()) == [design["gq"]]
        assert code.definition == "Edited."

    def test_dimension_picker_and_combinations(self, as_admin, study, design):
        query = f"?dimensions={design['dimension'].pk}"
        body = as_admin.get(url("codebook_seed_dimensions", study) + query).content.decode()
        assert 'value="pre-training"' in body and 'value="post-release"' in body
        response = as_admin.post(
            url("codebook_seed_dimensions", study) + query,
            {
                "form-TOTAL_FORMS": "2",
                "form-INITIAL_FORMS": "2",
                "form-0-include": "on",
                "form-0-name": "pre-training",
                "form-0-dimension_values": str(design["value"].pk),
                "form-1-name": "post-release",
            },
        )
        assert response.status_code == 302
        assert list(Code.objects.values_list("name", flat=True)) == ["pre-training"]


class TestImportExport:
    def test_csv_upload_report(self, as_admin, study):
        upload = SimpleUploadedFile("codes.csv", b"name,definition,parent\nA,x,T\nT,group,\n")
        body = as_admin.post(url("codebook_import", study), {"file": upload}).content.decode()
        assert "2 created" in body
        assert Code.objects.get(name="T").kind == CodeKind.THEME

    def test_invalid_csv_reports_rows_and_writes_nothing(self, as_admin, study):
        upload = SimpleUploadedFile("codes.csv", b"name,colour\nA,#zzz\nB,\n")
        body = as_admin.post(url("codebook_import", study), {"file": upload}).content.decode()
        assert "Nothing was imported" in body and "not #rrggbb" in body
        assert not Code.objects.exists()
        assert not AuditEvent.objects.filter(verb="codebook.import").exists()

    def test_downloads(self, as_admin, study, code):
        csv_response = as_admin.get(url("codebook_csv", study))
        assert csv_response["Content-Disposition"].endswith('-codebook.csv"')
        assert "Onboarding" in csv_response.content.decode()
        qdc = as_admin.get(url("codebook_qdc", study))
        assert qdc.content.startswith(b"<?xml") and str(code.guid).encode() in qdc.content

    def test_export_query_count(self, as_admin, study, code, django_assert_num_queries):
        as_admin.get(url("codebook_qdc", study))
        with django_assert_num_queries(7):
            as_admin.get(url("codebook_qdc", study))
