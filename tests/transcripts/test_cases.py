"""The case table and its downloads, case editing, and attribute definitions."""

import csv
import io
import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from transcripts.models import Attribute, AttributeKind, AttributeTarget, Case
from transcripts.services import attributes as attribute_services
from transcripts.services import cases as case_services
from transcripts.services import participants as participant_services
from workbench.models import AuditEvent, Study

HTMX = {"HX-Request": "true"}
CONTACT = {
    "contact_name": "Jane Realname",
    "contact_email": "jane.realname@example.org",
    "contact_notes": "Prefers Signal, call after 6pm",
}


def url(name, study, **kwargs):
    return reverse(name, kwargs={"study_slug": study.slug, **kwargs})


@pytest.fixture
def attrs(study, admin_user):
    """Case attributes of every kind, plus a participant attribute."""

    def make(name, kind, options=(), target=AttributeTarget.CASE):
        return attribute_services.attribute_create(
            actor=admin_user, study=study, target=target, name=name, kind=kind, options=options
        )

    return {
        "type": make("Organisation type", AttributeKind.CHOICE, ["Grassroots", "Corporation"]),
        "datasets": make("Open datasets", AttributeKind.NUMBER),
        "founded": make("Founded", AttributeKind.DATE),
        "platforms": make("Platforms", AttributeKind.MULTI, ["HF", "GitHub", "Discord"]),
        "models": make("Base models", AttributeKind.TEXT),
        "role": make("Job role", AttributeKind.TEXT, target=AttributeTarget.PARTICIPANT),
    }


def values(attrs, **named):
    return {str(attrs[key].pk): value for key, value in named.items()}


@pytest.fixture
def cases(study, admin_user, attrs):
    """Three cases in the spirit of the paper's Table 1; I1, I2 and I10 belong to them."""

    def make(name, **named):
        return case_services.case_create(
            actor=admin_user, study=study, name=name, attributes=values(attrs, **named)
        )

    eleuther = make(
        "EleutherAI",
        type="Grassroots",
        datasets=226,
        founded="2020-07-01",
        platforms=["GitHub", "Discord"],
        models="Pythia",
    )
    meta = make("Meta", type="Corporation", datasets=11, founded="2004-02-04", models="Llama")
    bigscience = make("BigScience", datasets=10, platforms=["HF"])
    for code, case in [("I10", eleuther), ("I2", bigscience), ("I1", bigscience)]:
        participant_services.participant_create(
            actor=admin_user, study=study, code=code, case=case, **CONTACT
        )
    return {"eleuther": eleuther, "meta": meta, "bigscience": bigscience}


def case_names(body: str, names=("EleutherAI", "Meta", "BigScience")) -> list[str]:
    """The case names in the order they appear in the page."""
    return sorted(names, key=body.index)


def edit_data(case, attrs, **overrides):
    prefix = f"case-{case.pk}-"
    data = {"name": case.name, "description": case.description, "version": case.version}
    for attribute in attrs.values():
        if attribute.target == AttributeTarget.CASE:
            data[f"attr_{attribute.pk}"] = case.attributes.get(str(attribute.pk), "")
    data |= overrides
    return {prefix + key: value for key, value in data.items() if value is not None}


# --- who may do what -----------------------------------------------------------------------

READ = {"admin", "lead", "coder", "reviewer"}
MANAGE = {"admin", "lead"}
# name: (method, who may, needs a case/attribute pk)
CASE_URLS = {
    "case_table": ("get", READ, None),
    "case_table_csv": ("get", READ, None),
    "case_table_xlsx": ("get", READ, None),
    "case_row": ("get", READ, "case"),
    "case_create": ("post", MANAGE, None),
    "case_edit": ("get", MANAGE, "case"),
    "case_delete": ("post", MANAGE, "case"),
    "attribute_list": ("get", MANAGE, None),
    "attribute_create": ("post", MANAGE, None),
    "attribute_row": ("get", MANAGE, "attribute"),
    "attribute_edit": ("get", MANAGE, "attribute"),
    "attribute_delete": ("post", MANAGE, "attribute"),
}


def _role_url(name, study, cases, attrs):
    needs = CASE_URLS[name][2]
    if needs == "case":
        return url(name, study, pk=cases["meta"].pk)
    if needs == "attribute":
        return url(name, study, pk=attrs["models"].pk)
    return url(name, study)


@pytest.mark.parametrize("name", sorted(CASE_URLS))
def test_it_lets_only_the_right_roles_in(client, study, role_users, cases, attrs, name):
    method, allowed, _ = CASE_URLS[name]
    target = _role_url(name, study, cases, attrs)
    # Anonymous: to the login page.
    response = getattr(client, method)(target)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    for role, user in role_users.items():
        client.force_login(user)
        response = getattr(client, method)(target, headers=HTMX)
        if role == "outsider":
            assert response.status_code == 404, role
        elif role in allowed:
            assert response.status_code in {200, 302}, role
        else:
            assert response.status_code == 403, role
    # Nothing changed by the refused writes; the allowed ones ran last (admin, lead) with an
    # empty form or no version, which changes nothing either.
    assert Case.objects.filter(pk=cases["meta"].pk).exists()
    assert Attribute.objects.filter(pk=attrs["models"].pk).exists()


@pytest.mark.parametrize(
    "name, method",
    [
        ("case_table", "post"),
        ("case_table_csv", "post"),
        ("case_table_xlsx", "post"),
        ("case_create", "get"),
        ("attribute_list", "post"),
        ("attribute_create", "get"),
    ],
)
def test_it_refuses_the_wrong_method(as_lead, study, name, method):
    assert getattr(as_lead, method)(url(name, study)).status_code == 405


def test_it_refuses_the_wrong_method_on_item_urls(as_lead, study, cases, attrs):
    assert as_lead.get(url("case_delete", study, pk=cases["meta"].pk)).status_code == 405
    assert as_lead.post(url("case_row", study, pk=cases["meta"].pk)).status_code == 405
    assert as_lead.get(url("attribute_delete", study, pk=attrs["models"].pk)).status_code == 405
    assert as_lead.post(url("attribute_row", study, pk=attrs["models"].pk)).status_code == 405


def test_another_studys_case_and_attribute_are_404(as_lead, study, outsider):
    other = Study.objects.get(name="Someone else's study")
    case = case_services.case_create(actor=outsider, study=other, name="Theirs")
    attribute = attribute_services.attribute_create(
        actor=outsider, study=other, target="case", name="Theirs", kind="text"
    )
    assert as_lead.get(url("case_edit", study, pk=case.pk)).status_code == 404
    assert as_lead.post(url("case_delete", study, pk=case.pk), {"version": 1}).status_code == 404
    assert as_lead.get(url("attribute_edit", study, pk=attribute.pk)).status_code == 404
    response = as_lead.post(url("attribute_delete", study, pk=attribute.pk), {"version": 1})
    assert response.status_code == 404
    assert Case.objects.filter(pk=case.pk).exists()
    assert Attribute.objects.filter(pk=attribute.pk).exists()


def test_a_coder_sees_the_table_without_edit_controls(client, study, cases, coder):
    client.force_login(coder)
    body = client.get(url("case_table", study)).content.decode()
    assert "EleutherAI" in body
    assert "Add a case" not in body and ">Edit<" not in body and ">Attributes<" not in body


# --- the table -----------------------------------------------------------------------------


class TestCaseTable:
    def test_it_shows_cases_codes_and_attribute_columns(self, client, study, cases, coder):
        client.force_login(coder)
        response = client.get(url("case_table", study))
        body = response.content.decode()
        assert response.status_code == 200 and "<html" in body
        headers = re.findall(r'<a id="sort-[^"]+"[^>]*>([^<]+)<', body)
        assert headers == [
            "Participants",
            "Case",
            "Organisation type",
            "Open datasets",
            "Founded",
            "Platforms",
            "Base models",
            "Description",
        ]
        assert "Job role" not in body  # a participant attribute is no column here
        # BigScience's participants in natural order: I1 before I2.
        row = body[body.index(f'id="case-{cases["bigscience"].pk}"') :]
        assert row.index(">I1<") < row.index(">I2<")
        assert "GitHub, Discord" in body and "226" in body and "2020-07-01" in body

    def test_default_order_is_by_participant_codes_then_cases_without_any(
        self, as_lead, study, cases
    ):
        body = as_lead.get(url("case_table", study)).content.decode()
        # I1 (BigScience) < I10 (EleutherAI); Meta has no participants: last.
        assert case_names(body) == ["BigScience", "EleutherAI", "Meta"]

    @pytest.mark.parametrize(
        "key, direction, expected",
        [
            # 10 < 11 < 226: numbers, not text ("10" < "11" < "226" would agree, so see below)
            ("datasets", "asc", ["BigScience", "Meta", "EleutherAI"]),
            ("datasets", "desc", ["EleutherAI", "Meta", "BigScience"]),
            # Dates as dates; BigScience has none: last in both directions.
            ("founded", "asc", ["Meta", "EleutherAI", "BigScience"]),
            ("founded", "desc", ["EleutherAI", "Meta", "BigScience"]),
            # Single choice in the attribute's own option order; empty last.
            ("type", "asc", ["EleutherAI", "Meta", "BigScience"]),
            ("type", "desc", ["Meta", "EleutherAI", "BigScience"]),
            ("models", "asc", ["Meta", "EleutherAI", "BigScience"]),
            ("models", "desc", ["EleutherAI", "Meta", "BigScience"]),
        ],
    )
    def test_it_sorts_by_any_column_with_empty_values_last(
        self, as_lead, study, cases, attrs, key, direction, expected
    ):
        sort = f"attr_{attrs[key].pk}"
        response = as_lead.get(url("case_table", study), {"sort": sort, "dir": direction})
        body = response.content.decode()
        assert case_names(body) == expected
        aria = "ascending" if direction == "asc" else "descending"
        assert f'aria-sort="{aria}"' in body

    def test_numbers_sort_as_numbers_not_text(self, as_lead, study, attrs, admin_user):
        for name, datasets in [("A", 9), ("B", 100), ("C", 25), ("D", -3), ("E", 2.5)]:
            case_services.case_create(
                actor=admin_user,
                study=study,
                name=name,
                attributes=values(attrs, datasets=datasets),
            )
        case_services.case_create(actor=admin_user, study=study, name="F")
        sort = {"sort": f"attr_{attrs['datasets'].pk}"}
        body = as_lead.get(url("case_table", study), sort).content.decode()
        names = ("A", "B", "C", "D", "E", "F")
        rows = sorted(names, key=lambda n: body.index(f'<th scope="row">{n}</th>'))
        assert rows == ["D", "E", "A", "C", "B", "F"]
        body = as_lead.get(url("case_table", study), sort | {"dir": "desc"}).content.decode()
        rows = sorted(names, key=lambda n: body.index(f'<th scope="row">{n}</th>'))
        assert rows == ["B", "C", "A", "E", "D", "F"]

    def test_dates_sort_as_dates(self, as_lead, study, attrs, admin_user):
        # Whatever form a date came in (text, a date, compact ISO), it sorts as a date.
        for name, founded in [("A", "2024-10-01"), ("B", "09990101"), ("C", date(2024, 9, 30))]:
            case_services.case_create(
                actor=admin_user, study=study, name=name, attributes=values(attrs, founded=founded)
            )
        case_services.case_create(actor=admin_user, study=study, name="D")
        sort = {"sort": f"attr_{attrs['founded'].pk}", "dir": "desc"}
        body = as_lead.get(url("case_table", study), sort).content.decode()
        rows = sorted("ABCD", key=lambda n: body.index(f'<th scope="row">{n}</th>'))
        assert rows == ["A", "C", "B", "D"]

    def test_case_names_sort_naturally(self, as_lead, study, admin_user):
        for name in ["Project 10", "project 9", "Project 1"]:
            case_services.case_create(actor=admin_user, study=study, name=name)
        body = as_lead.get(url("case_table", study), {"sort": "name"}).content.decode()
        assert sorted(["Project 10", "project 9", "Project 1"], key=body.index) == [
            "Project 1",
            "project 9",
            "Project 10",
        ]

    def test_an_unknown_sort_falls_back_to_the_default(self, as_lead, study, cases):
        response = as_lead.get(url("case_table", study), {"sort": "contact_email", "dir": "x"})
        assert response.status_code == 200
        assert case_names(response.content.decode()) == ["BigScience", "EleutherAI", "Meta"]

    def test_header_links_flip_the_direction_of_the_current_column(self, as_lead, study, cases):
        body = as_lead.get(url("case_table", study), {"sort": "name"}).content.decode()
        assert "?sort=name&amp;dir=desc" in body and "?sort=participants&amp;dir=asc" in body
        assert 'hx-push-url="true"' in body

    def test_htmx_sort_returns_just_the_table(self, as_lead, study, cases):
        response = as_lead.get(url("case_table", study), {"sort": "name"}, headers=HTMX)
        body = response.content.decode()
        assert "<html" not in body and body.strip().startswith('<div id="case-table"')
        assert 'data-focus="sort-name"' in body
        assert "Add a case" not in body  # the half-typed add form is left alone
        assert "HX-Request" in response["Vary"]

    def test_a_history_restore_gets_the_whole_page(self, as_lead, study, cases):
        headers = HTMX | {"HX-History-Restore-Request": "true"}
        body = as_lead.get(url("case_table", study), headers=headers).content.decode()
        assert "<html" in body

    def test_empty_study(self, as_lead, study):
        body = as_lead.get(url("case_table", study)).content.decode()
        assert "No cases yet." in body and "0 cases" in body


class TestDownloads:
    def test_csv_has_the_same_rows_columns_and_sort(self, client, study, cases, attrs, coder):
        client.force_login(coder)
        sort = {"sort": f"attr_{attrs['datasets'].pk}", "dir": "desc"}
        response = client.get(url("case_table_csv", study), sort)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert f'filename="{study.slug}-cases.csv"' in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0] == [
            "Participants",
            "Case",
            "Organisation type",
            "Open datasets",
            "Founded",
            "Platforms",
            "Base models",
            "Description",
        ]
        assert rows[1] == [
            "I10",
            "EleutherAI",
            "Grassroots",
            "226",
            "2020-07-01",
            "GitHub, Discord",
            "Pythia",
            "",
        ]
        assert [row[1] for row in rows[1:]] == ["EleutherAI", "Meta", "BigScience"]
        assert rows[3][0] == "I1, I2"

    def test_xlsx_has_the_same_rows_typed_cells_and_a_frozen_bold_header(
        self, client, study, cases, attrs, coder
    ):
        client.force_login(coder)
        sort = {"sort": f"attr_{attrs['founded'].pk}"}
        response = client.get(url("case_table_xlsx", study), sort)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        assert f'filename="{study.slug}-cases.xlsx"' in response["Content-Disposition"]
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
        assert rows[0][:4] == ["Participants", "Case", "Organisation type", "Open datasets"]
        assert [row[1] for row in rows[1:]] == ["Meta", "EleutherAI", "BigScience"]
        eleuther = rows[2]
        assert eleuther[0] == "I10" and eleuther[3] == 226
        assert eleuther[4].date() == date(2020, 7, 1)  # a real date, not text
        assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
        assert sheet.column_dimensions["B"].width >= len("EleutherAI")
        assert all(sheet.column_dimensions[c].width <= 62 for c in "ABCDEFGH")

    def test_formulas_are_neutralised(self, client, study, attrs, admin_user, coder):
        case_services.case_create(
            actor=admin_user,
            study=study,
            name='=HYPERLINK("http://evil","x")',
            description="+cmd|' /C calc'!A0",
            attributes=values(attrs, models="@SUM(1+1)", datasets=-5),
        )
        participant_services.participant_create(
            actor=admin_user, study=study, code="-I3", case=Case.objects.get()
        )
        client.force_login(coder)
        rows = list(
            csv.reader(io.StringIO(client.get(url("case_table_csv", study)).content.decode()))
        )
        row = rows[1]
        assert row[0] == "'-I3"
        assert row[1] == '\'=HYPERLINK("http://evil","x")'
        assert row[6] == "'@SUM(1+1)" and row[7] == "'+cmd|' /C calc'!A0"
        assert row[3] == "-5"  # a validated number is data, not a formula
        sheet = load_workbook(io.BytesIO(client.get(url("case_table_xlsx", study)).content)).active
        assert sheet["B2"].data_type == "s" and sheet["B2"].value.startswith("=HYPERLINK")
        assert sheet["D2"].value == -5

    def test_contact_details_appear_nowhere(self, client, study, cases, admin_user):
        # Even the admin, who may see contact details elsewhere, gets none here.
        client.force_login(admin_user)
        outputs = [
            client.get(url("case_table", study)).content.decode(),
            client.get(url("case_table", study), headers=HTMX).content.decode(),
            client.get(
                url("case_row", study, pk=cases["eleuther"].pk), headers=HTMX
            ).content.decode(),
            client.get(url("case_edit", study, pk=cases["eleuther"].pk)).content.decode(),
            client.get(url("case_table_csv", study)).content.decode(),
        ]
        sheet = load_workbook(io.BytesIO(client.get(url("case_table_xlsx", study)).content)).active
        outputs.append(repr([[cell.value for cell in row] for row in sheet.iter_rows()]))
        for output in outputs:
            assert "I10" in output or "EleutherAI" in output
            for secret in CONTACT.values():
                assert secret not in output
            assert "Realname" not in output

    def test_the_table_never_loads_contact_details(self, as_lead, study, cases):
        with CaptureQueriesContext(connection) as ctx:
            as_lead.get(url("case_table", study))
        participant_queries = [q["sql"] for q in ctx if "transcripts_participant" in q["sql"]]
        assert participant_queries
        assert not any("contact_" in sql for sql in participant_queries)


def test_case_table_query_count_does_not_grow(
    client, study, lead, admin_user, attrs, django_assert_num_queries
):
    client.force_login(lead)

    def grow(start, stop):
        for n in range(start, stop):
            case = case_services.case_create(
                actor=admin_user,
                study=study,
                name=f"Project {n}",
                attributes=values(attrs, datasets=n, type="Grassroots", platforms=["HF"]),
            )
            for m in range(2):
                participant_services.participant_create(
                    actor=admin_user, study=study, code=f"I{n}-{m}", case=case, **CONTACT
                )

    def count(name):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url(name, study)).status_code == 200
        return len(ctx.captured_queries)

    grow(0, 2)
    small = {name: count(name) for name in ["case_table", "case_table_csv", "case_table_xlsx"]}
    grow(2, 40)
    for n in range(5):
        attribute_services.attribute_create(
            actor=admin_user, study=study, target="case", name=f"Extra {n}", kind="text"
        )
    # session, user, study, permissions, case attributes, cases, their participants' codes
    assert small == {"case_table": 7, "case_table_csv": 7, "case_table_xlsx": 7}
    for name in small:
        with django_assert_num_queries(7):
            client.get(url(name, study))


# --- case writes ---------------------------------------------------------------------------


class TestCaseWrites:
    def test_lead_adds_a_case_without_javascript(self, as_lead, study, attrs):
        response = as_lead.post(
            url("case_create", study) + "?sort=name&dir=desc",
            {
                "new-case-name": " Hugging Face ",
                "new-case-description": "SmolLM",
                f"new-case-attr_{attrs['type'].pk}": "Corporation",
                f"new-case-attr_{attrs['datasets'].pk}": "49",
                f"new-case-attr_{attrs['founded'].pk}": "2016-01-01",
                f"new-case-attr_{attrs['platforms'].pk}": ["Discord", "HF"],
                f"new-case-attr_{attrs['models'].pk}": "",
            },
        )
        case = Case.objects.get(study=study, name="Hugging Face")
        assert response.status_code == 302
        assert response.url == url("case_table", study) + f"?sort=name&dir=desc#case-{case.pk}"
        assert case.attributes == values(
            attrs,
            type="Corporation",
            datasets=49,
            founded="2016-01-01",
            platforms=["HF", "Discord"],
        )
        event = AuditEvent.objects.get(verb="case.create")
        assert event.actor.username == "lena"
        assert event.after["attributes"] == {
            "Organisation type": "Corporation",
            "Open datasets": 49,
            "Founded": "2016-01-01",
            "Platforms": ["HF", "Discord"],
        }
        page = as_lead.get(response.url).content.decode()
        assert "Case “Hugging Face” added." in page

    def test_htmx_add_returns_the_cases_fragment_focused_on_the_new_row(
        self, as_lead, study, attrs
    ):
        response = as_lead.post(url("case_create", study), {"new-case-name": "Ai2"}, headers=HTMX)
        body = response.content.decode()
        case = Case.objects.get(name="Ai2")
        assert response.status_code == 200 and response["HX-Retarget"] == "#cases"
        assert "<html" not in body and 'id="cases"' in body
        assert f'data-focus="case-{case.pk}"' in body
        assert 'hx-swap-oob="true"' in body and "Case “Ai2” added." in body

    @pytest.mark.parametrize(
        "key, raw, message",
        [
            ("datasets", "lots", "Open datasets: “lots” is not a number."),
            ("datasets", "NaN", "is not a number"),
            # Would become an int of a billion digits (or a 500 from json.dumps at 1e5000).
            ("datasets", "1e999999999", "Open datasets: “1e999999999” is too large a number."),
            ("founded", "2024-02-30", "Founded: “2024-02-30” is not a date (use YYYY-MM-DD)."),
            ("founded", "next week", "is not a date"),
            ("type", "Startup", "Organisation type: “Startup” is not one of its options."),
            ("platforms", ["HF", "Slack"], "Platforms: “Slack” is not one of its options."),
            ("models", "x" * 1001, "Ensure this value has at most 1000 characters"),
        ],
    )
    def test_a_bad_value_is_refused_next_to_its_field(
        self, as_lead, study, attrs, key, raw, message
    ):
        field = f"new-case-attr_{attrs[key].pk}"
        response = as_lead.post(
            url("case_create", study), {"new-case-name": "Ai2", field: raw}, headers=HTMX
        )
        body = response.content.decode()
        assert response.status_code == 200 and "HX-Retarget" not in response
        assert message.replace("“", "&ldquo;") in body or message in body
        # The error sits in the field's own group, just before its input(s).
        group = body[body.index(f'for="id_{field}') if f'for="id_{field}"' in body else 0 :]
        assert group.index("errorlist") < group.index(f'name="{field}"')
        assert 'aria-invalid="true"' in body
        assert '<details class="add" open>' in body
        assert not Case.objects.filter(name="Ai2").exists()
        assert not AuditEvent.objects.filter(verb="case.create").exists()

    def test_all_errors_at_once(self, as_lead, study, attrs):
        response = as_lead.post(
            url("case_create", study),
            {
                "new-case-name": "Ai2",
                f"new-case-attr_{attrs['datasets'].pk}": "lots",
                f"new-case-attr_{attrs['founded'].pk}": "soon",
            },
        )
        body = response.content.decode()
        assert "is not a number" in body and "is not a date" in body

    def test_duplicate_name_is_refused(self, as_lead, study, cases):
        response = as_lead.post(url("case_create", study), {"new-case-name": "meta"})
        assert "This study already has a case named meta." in response.content.decode()
        assert Case.objects.filter(study=study).count() == 3

    def test_the_form_is_typed_by_kind(self, as_lead, study, cases, attrs):
        case = cases["eleuther"]
        response = as_lead.get(url("case_edit", study, pk=case.pk), headers=HTMX)
        body = response.content.decode()
        prefix = f"case-{case.pk}-attr_"
        assert f'type="number" name="{prefix}{attrs["datasets"].pk}" value="226"' in body
        assert f'type="date" name="{prefix}{attrs["founded"].pk}" value="2020-07-01"' in body
        assert f'<select name="{prefix}{attrs["type"].pk}"' in body
        assert '<option value="Grassroots" selected>' in body
        assert body.count(f'type="checkbox" name="{prefix}{attrs["platforms"].pk}"') == 3
        assert f'name="case-{case.pk}-version" value="1"' in body
        assert f'name="{prefix}{attrs["role"].pk}"' not in body  # a participant attribute

    def test_inline_edit_form_is_a_table_row(self, as_lead, study, cases):
        case = cases["meta"]
        response = as_lead.get(
            url("case_edit", study, pk=case.pk) + "?sort=name&dir=desc", headers=HTMX
        )
        body = response.content.decode()
        assert "<html" not in body and body.strip().startswith(f'<tr id="case-{case.pk}"')
        assert 'colspan="9"' in body  # 8 columns and the actions
        assert f'action="{url("case_edit", study, pk=case.pk)}?sort=name&amp;dir=desc"' in body
        assert "autofocus" in body and "data-cancel" in body

    def test_edit_page_without_javascript_shows_the_form_in_the_table(self, as_lead, study, cases):
        case = cases["meta"]
        body = as_lead.get(url("case_edit", study, pk=case.pk)).content.decode()
        assert "<html" in body and f'name="case-{case.pk}-name"' in body
        assert "EleutherAI" in body  # the rest of the table is still there

    def test_inline_edit_saves_and_records_what_changed(self, as_lead, study, cases, attrs):
        case = cases["meta"]
        data = edit_data(
            case, attrs, description="Llama models", **{f"attr_{attrs['datasets'].pk}": "12"}
        )
        response = as_lead.post(url("case_edit", study, pk=case.pk), data, headers=HTMX)
        body = response.content.decode()
        assert response.status_code == 200 and response["HX-Retarget"] == "#cases"
        assert f'data-focus="case-{case.pk}"' in body and "Llama models" in body
        case.refresh_from_db()
        assert case.version == 2 and case.attributes[str(attrs["datasets"].pk)] == 12
        event = AuditEvent.objects.get(verb="case.update")
        assert event.before == {"description": "", "attributes": event.before["attributes"]}
        assert event.before["attributes"]["Open datasets"] == 11
        assert event.after["attributes"]["Open datasets"] == 12

    def test_edit_without_javascript_redirects_keeping_the_sort(self, as_lead, study, cases, attrs):
        case = cases["meta"]
        response = as_lead.post(
            url("case_edit", study, pk=case.pk) + "?sort=name&dir=desc",
            edit_data(case, attrs, name="Meta AI"),
        )
        assert response.status_code == 302
        assert response.url == url("case_table", study) + f"?sort=name&dir=desc#case-{case.pk}"

    def test_clearing_a_value_removes_it(self, as_lead, study, cases, attrs):
        case = cases["eleuther"]
        data = edit_data(case, attrs, **{f"attr_{attrs['platforms'].pk}": None})
        as_lead.post(url("case_edit", study, pk=case.pk), data)
        case.refresh_from_db()
        assert str(attrs["platforms"].pk) not in case.attributes

    def test_bad_edit_shows_the_error_in_the_row_and_changes_nothing(
        self, as_lead, study, cases, attrs
    ):
        case = cases["meta"]
        data = edit_data(case, attrs, **{f"attr_{attrs['founded'].pk}": "2024-13-01"})
        response = as_lead.post(url("case_edit", study, pk=case.pk), data, headers=HTMX)
        body = response.content.decode()
        assert "HX-Retarget" not in response and body.strip().startswith("<tr")
        assert "is not a date" in body
        # The field in error takes the focus, not the name.
        founded = body[body.index(f'name="case-{case.pk}-attr_{attrs["founded"].pk}"') :]
        assert founded.index("autofocus") < founded.index(">")
        case.refresh_from_db()
        assert case.version == 1

    def test_stale_edit_is_refused_and_changes_nothing(
        self, as_lead, study, cases, attrs, admin_user
    ):
        case = cases["meta"]
        data = edit_data(case, attrs, name="Second")
        case_services.case_update(
            actor=admin_user,
            case=case,
            version=1,
            name="First",
            description="",
            attributes=case.attributes,
        )
        response = as_lead.post(url("case_edit", study, pk=case.pk), data, headers=HTMX)
        body = response.content.decode()
        assert "changed by someone else" in body and "HX-Retarget" not in response
        case.refresh_from_db()
        assert case.name == "First" and case.version == 2
        assert AuditEvent.objects.filter(verb="case.update").count() == 1

    def test_cancel_puts_the_row_back(self, as_lead, study, cases):
        case = cases["meta"]
        response = as_lead.get(url("case_row", study, pk=case.pk), headers=HTMX)
        body = response.content.decode()
        assert response["HX-Retarget"] == f"#case-{case.pk}"
        assert body.strip().startswith(f'<tr id="case-{case.pk}"') and body.count("<tr") == 1
        assert f'data-focus="case-{case.pk}"' in body and ">Edit<" in body
        response = as_lead.get(url("case_row", study, pk=case.pk) + "?sort=name")
        assert response.url == url("case_table", study) + f"?sort=name#case-{case.pk}"

    def test_delete(self, as_lead, study, cases):
        case = cases["meta"]
        response = as_lead.post(url("case_delete", study, pk=case.pk), {"version": 1}, headers=HTMX)
        assert response["HX-Retarget"] == "#cases"
        assert "Deleted case “Meta”." in response.content.decode()
        assert not Case.objects.filter(pk=case.pk).exists()
        assert AuditEvent.objects.get(verb="case.delete").before == {"name": "Meta"}

    def test_a_case_with_participants_cannot_be_deleted(self, as_lead, study, cases):
        case = cases["bigscience"]
        body = as_lead.get(url("case_table", study)).content.decode()
        assert f'action="{url("case_delete", study, pk=case.pk)}' not in body  # no button
        response = as_lead.post(url("case_delete", study, pk=case.pk), {"version": 1}, follow=True)
        assert "Not deleted: Participants still belong to this case" in response.content.decode()
        assert Case.objects.filter(pk=case.pk).exists()
        assert not AuditEvent.objects.filter(verb="case.delete").exists()

    def test_stale_delete_is_refused(self, as_lead, study, cases, attrs, admin_user):
        case = cases["meta"]
        case_services.case_update(
            actor=admin_user, case=case, version=1, name="Meta", description="x", attributes={}
        )
        response = as_lead.post(url("case_delete", study, pk=case.pk), {"version": 1}, follow=True)
        assert "changed by someone else" in response.content.decode()
        assert Case.objects.filter(pk=case.pk).exists()

    def test_delete_without_a_version_is_refused(self, as_lead, study, cases):
        case = cases["meta"]
        response = as_lead.post(url("case_delete", study, pk=case.pk), follow=True)
        assert "Not deleted: Reload and retry." in response.content.decode()
        assert Case.objects.filter(pk=case.pk).exists()


# --- attribute definitions -----------------------------------------------------------------


class TestAttributes:
    def test_page_lists_both_kinds_of_attribute(self, as_lead, study, attrs):
        response = as_lead.get(url("attribute_list", study))
        body = response.content.decode()
        assert response.status_code == 200
        cases_part, participants_part = body.split('id="participant-attributes"')
        assert "Organisation type" in cases_part and "Job role" not in cases_part
        assert "Job role" in participants_part
        assert ">Grassroots<" in cases_part and ">Single choice<" in cases_part

    def test_lead_adds_a_choice_attribute_without_javascript(self, as_lead, study):
        response = as_lead.post(
            url("attribute_create", study),
            {
                "target": "case",
                "name": "Region",
                "kind": "choice",
                "options": "Asia\n\n Europe \nAfrica\n",
            },
        )
        attribute = Attribute.objects.get(study=study, name="Region")
        assert response.status_code == 302
        assert response.url == url("attribute_list", study) + f"#attribute-{attribute.pk}"
        assert attribute.options == ["Asia", "Europe", "Africa"]
        assert attribute.target == "case" and attribute.kind == "choice"
        event = AuditEvent.objects.get(verb="attribute.create")
        assert event.after["options"] == ["Asia", "Europe", "Africa"]

    def test_htmx_add_of_a_participant_attribute(self, as_lead, study):
        response = as_lead.post(
            url("attribute_create", study),
            {"target": "participant", "name": "Years active", "kind": "number"},
            headers=HTMX,
        )
        attribute = Attribute.objects.get(name="Years active")
        body = response.content.decode()
        assert response["HX-Retarget"] == "#attributes" and "<html" not in body
        assert f'data-focus="attribute-{attribute.pk}"' in body
        assert attribute.target == "participant" and attribute.options == []

    @pytest.mark.parametrize(
        "data, message",
        [
            ({"kind": "choice", "options": ""}, "A choice attribute needs at least one option."),
            ({"kind": "multi", "options": "a\nA"}, "A is listed twice."),
            ({"kind": "sparkle"}, "Select a valid choice."),
            ({"kind": "text", "name": "organisation TYPE"}, "already exists for cases"),
            ({"kind": "text", "name": ""}, "This field is required."),
        ],
    )
    def test_bad_attribute_is_refused(self, as_lead, study, attrs, data, message):
        post = {"target": "case", "name": "Region"} | data
        response = as_lead.post(url("attribute_create", study), post, headers=HTMX)
        body = response.content.decode()
        assert message in body
        assert "HX-Retarget" not in response
        # The form that failed is the one that opens: the case section's.
        assert body.index('<details class="add" open>') < body.index('id="participant-attributes"')
        assert Attribute.objects.filter(study=study).count() == 6

    def test_the_same_name_may_describe_cases_and_participants(self, as_lead, study, attrs):
        as_lead.post(
            url("attribute_create", study),
            {"target": "participant", "name": "Organisation type", "kind": "text"},
        )
        assert Attribute.objects.filter(name="Organisation type").count() == 2

    def test_edit_form_fragment_has_name_and_options_but_not_kind(self, as_lead, study, attrs):
        attribute = attrs["type"]
        response = as_lead.get(url("attribute_edit", study, pk=attribute.pk), headers=HTMX)
        body = response.content.decode()
        assert "<html" not in body and f'id="attribute-{attribute.pk}"' in body
        assert f'name="attribute-{attribute.pk}-name"' in body
        assert "Grassroots\nCorporation</textarea>" in body
        assert f'name="attribute-{attribute.pk}-kind"' not in body
        text = as_lead.get(url("attribute_edit", study, pk=attrs["models"].pk)).content.decode()
        assert f'name="attribute-{attrs["models"].pk}-options"' not in text
        assert "<html" in text  # without htmx: the whole page, form in place

    def test_edit_renames_and_adds_an_option(self, as_lead, study, attrs):
        attribute = attrs["type"]
        prefix = f"attribute-{attribute.pk}-"
        response = as_lead.post(
            url("attribute_edit", study, pk=attribute.pk),
            {
                prefix + "name": "Org type",
                prefix + "options": "Grassroots\nCorporation\nStartup",
                prefix + "version": 1,
                prefix + "kind": "text",  # ignored: the kind never changes
            },
            headers=HTMX,
        )
        assert response["HX-Retarget"] == "#attributes"
        attribute.refresh_from_db()
        assert attribute.name == "Org type" and attribute.kind == "choice"
        assert attribute.options == ["Grassroots", "Corporation", "Startup"]
        event = AuditEvent.objects.get(verb="attribute.update")
        assert event.before == {
            "name": "Organisation type",
            "options": ["Grassroots", "Corporation"],
        }

    def test_removing_an_option_in_use_is_refused(self, as_lead, study, cases, attrs):
        attribute = attrs["platforms"]  # EleutherAI uses GitHub and Discord; HF by BigScience
        prefix = f"attribute-{attribute.pk}-"
        response = as_lead.post(
            url("attribute_edit", study, pk=attribute.pk),
            {prefix + "name": "Platforms", prefix + "options": "HF", prefix + "version": 1},
            headers=HTMX,
        )
        body = response.content.decode()
        assert "Still used, so it cannot go: Discord, GitHub." in body
        assert "HX-Retarget" not in response and body.strip().startswith("<form")
        attribute.refresh_from_db()
        assert attribute.options == ["HF", "GitHub", "Discord"]
        assert not AuditEvent.objects.filter(verb="attribute.update").exists()

    def test_removing_an_unused_option_is_fine(self, as_lead, study, cases, attrs):
        attribute = attrs["platforms"]
        case_services.case_update(
            actor=attrs["type"].study.created_by,
            case=cases["eleuther"],
            version=1,
            name="EleutherAI",
            description="",
            attributes=values(attrs, platforms=["GitHub"]),
        )
        prefix = f"attribute-{attribute.pk}-"
        as_lead.post(
            url("attribute_edit", study, pk=attribute.pk),
            {prefix + "name": "Platforms", prefix + "options": "HF\nGitHub", prefix + "version": 1},
        )
        attribute.refresh_from_db()
        assert attribute.options == ["HF", "GitHub"]

    def test_stale_attribute_edit_is_refused(self, as_lead, study, attrs, admin_user):
        attribute = attrs["models"]
        attribute_services.attribute_update(
            actor=admin_user, attribute=attribute, version=1, name="Models"
        )
        prefix = f"attribute-{attribute.pk}-"
        response = as_lead.post(
            url("attribute_edit", study, pk=attribute.pk),
            {prefix + "name": "Base LLMs", prefix + "version": 1},
        )
        assert "changed by someone else" in response.content.decode()
        attribute.refresh_from_db()
        assert attribute.name == "Models"

    def test_cancel_puts_the_attribute_back(self, as_lead, study, attrs):
        attribute = attrs["models"]
        body = as_lead.get(url("attribute_row", study, pk=attribute.pk), headers=HTMX)
        assert f'data-focus="attribute-{attribute.pk}"' in body.content.decode()
        response = as_lead.get(url("attribute_row", study, pk=attribute.pk))
        assert response.url == url("attribute_list", study) + f"#attribute-{attribute.pk}"

    def test_delete_clears_its_values_and_says_how_many(self, as_lead, study, cases, attrs):
        attribute = attrs["datasets"]
        response = as_lead.post(
            url("attribute_delete", study, pk=attribute.pk), {"version": 1}, headers=HTMX
        )
        assert response["HX-Retarget"] == "#attributes"
        assert "Deleted attribute “Open datasets” and its values." in response.content.decode()
        assert not Attribute.objects.filter(pk=attribute.pk).exists()
        for case in Case.objects.all():
            assert str(attribute.pk) not in case.attributes
        event = AuditEvent.objects.get(verb="attribute.delete")
        assert event.before["values_cleared"] == 3 and event.before["name"] == "Open datasets"
        # The column is gone from the table.
        assert "Open datasets" not in as_lead.get(url("case_table", study)).content.decode()

    def test_delete_asks_first_and_carries_the_version(self, as_lead, study, attrs):
        body = as_lead.get(url("attribute_list", study)).content.decode()
        assert 'hx-confirm="Delete the attribute Open datasets?' in body
        assert 'name="version" value="1"' in body

    def test_stale_attribute_delete_is_refused(self, as_lead, study, attrs, admin_user):
        attribute = attrs["models"]
        attribute_services.attribute_update(
            actor=admin_user, attribute=attribute, version=1, name="Models"
        )
        response = as_lead.post(
            url("attribute_delete", study, pk=attribute.pk), {"version": 1}, follow=True
        )
        assert "changed by someone else" in response.content.decode()
        assert Attribute.objects.filter(pk=attribute.pk).exists()
