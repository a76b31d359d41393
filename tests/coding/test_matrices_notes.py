"""Matrix cell notes (who writes them, the audit trail, stale edits), the pages and their
CSV/XLSX downloads (no cell runs as a formula), and who may open them."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from coding.models import MatrixCellNote
from coding.services.codebook import code_create
from coding.services.matrices import matrix_cell_note_save
from tests.coding.test_matrices import build_world
from workbench.locking import StaleEdit
from workbench.models import AuditEvent


@pytest.fixture
def world(study, admin_user, lead):
    return build_world(study, admin_user, lead)


def _url(name, study, **kwargs):
    return reverse(name, kwargs={"study_slug": study.slug, **kwargs})


class TestCellNotes:
    def test_lead_writes_changes_and_removes_a_note_each_audited(self, lead, world):
        note = matrix_cell_note_save(
            actor=lead, code=world["A"], case=world["alpha"], text="Scarce compute.", version=None
        )
        assert note.version == 1
        note = matrix_cell_note_save(
            actor=lead, code=world["A"], case=world["alpha"], text="Waiting for GPUs.", version=1
        )
        assert note.text == "Waiting for GPUs." and note.version == 2
        matrix_cell_note_save(
            actor=lead, code=world["A"], case=world["alpha"], text="  ", version=2
        )
        assert not MatrixCellNote.objects.exists()
        events = list(
            AuditEvent.objects.filter(object_type="matrix_cell_note").order_by("at", "pk")
        )
        assert [e.verb for e in events] == [
            "matrix_note.create",
            "matrix_note.update",
            "matrix_note.delete",
        ]
        # The wording may quote a participant: the trail keeps its length and digest only.
        assert events[1].after["text_chars"] == len("Waiting for GPUs.")
        assert "GPUs" not in str(events[1].after) and "compute" not in str(events[0].after)

    def test_stale_version_is_refused_and_changes_nothing(self, lead, world):
        matrix_cell_note_save(
            actor=lead, code=world["A"], case=world["alpha"], text="First.", version=None
        )
        matrix_cell_note_save(
            actor=lead, code=world["A"], case=world["alpha"], text="Second.", version=1
        )
        with pytest.raises(StaleEdit):
            matrix_cell_note_save(
                actor=lead, code=world["A"], case=world["alpha"], text="From v1.", version=1
            )
        # Two leads adding the first note at once: the second is told, not overwritten.
        with pytest.raises(StaleEdit):
            matrix_cell_note_save(
                actor=lead, code=world["A"], case=world["alpha"], text="Also new.", version=None
            )
        assert MatrixCellNote.objects.get().text == "Second."
        assert AuditEvent.objects.filter(object_type="matrix_cell_note").count() == 2

    def test_only_leads_write_notes(self, coder, admin_user, world):
        for person in (coder, admin_user):
            with pytest.raises(ValidationError):
                matrix_cell_note_save(
                    actor=person, code=world["A"], case=world["alpha"], text="x", version=None
                )
        assert not MatrixCellNote.objects.exists()

    def test_a_note_on_another_studys_case_is_refused(self, lead, world, outsider):
        from transcripts.models import Case

        elsewhere = Case.objects.create(study=outsider.memberships.first().study, name="Far")
        with pytest.raises(ValidationError):
            matrix_cell_note_save(
                actor=lead, code=world["A"], case=elsewhere, text="x", version=None
            )

    def test_htmx_edit_swaps_one_cell(self, client_for, study, lead, world):
        client = client_for(lead)
        url = _url(
            "matrix_cell_note_edit", study, ref=world["A"].public_id, case_id=world["alpha"].pk
        )
        form = client.get(url, headers={"HX-Request": "true"})
        assert b'name="text"' in form.content and b"<html" not in form.content
        saved = client.post(url, {"text": "Compute, again.", "version": ""}, HTTP_HX_REQUEST="true")
        assert b"Compute, again." in saved.content and b"Edit note" in saved.content
        page = client.get(_url("matrix_cases", study))
        assert b"Compute, again." in page.content
        stale = client.post(url, {"text": "Old.", "version": "0"}, HTTP_HX_REQUEST="true")
        assert b"changed by someone else" in stale.content
        assert MatrixCellNote.objects.get().text == "Compute, again."

    def test_plain_post_redirects_back_to_the_matrix(self, client_for, study, lead, world):
        url = _url(
            "matrix_cell_note_edit", study, ref=world["Th1"].public_id, case_id=world["beta"].pk
        )
        response = client_for(lead).post(url + "?rows=themes", {"text": "Both teams."})
        assert response.status_code == 302
        assert response.url.startswith(_url("matrix_cases", study) + "?rows=themes")

    def test_notes_of_hidden_or_unknown_cells_are_404(self, client_for, study, lead, world):
        client = client_for(lead)
        url = _url("matrix_cell_note_edit", study, ref="nope", case_id=world["alpha"].pk)
        assert client.get(url).status_code == 404
        url = _url(
            "matrix_cell_note_edit",
            study,
            ref=world["category"].public_id,
            case_id=world["alpha"].pk,
        )
        assert client.get(url).status_code == 404


class TestExports:
    @pytest.fixture
    def hostile(self, study, admin_user, world, lead):
        """A code and a case named like formulas, with codings in the consensus."""
        from tests.coding.test_matrices import _consensus

        code = code_create(actor=admin_user, study=study, name="=HYPERLINK(1)", parent=world["Th1"])
        _consensus(world["transcripts"][0], code, 1, 0, 4, lead)
        world["alpha"].name = "+Alpha"
        world["alpha"].save()
        matrix_cell_note_save(
            actor=lead, code=code, case=world["alpha"], text="-1 says it all", version=None
        )
        return code

    @pytest.mark.parametrize(
        "name,params",
        [
            ("matrices", {}),
            ("matrices", {"measure": "jaccard", "by": "turn"}),
            ("matrix_cases", {}),
            ("matrix_dimensions", {}),
        ],
    )
    def test_csv_cells_never_start_a_formula(self, client_for, study, lead, hostile, name, params):
        response = client_for(lead).get(_url(name, study), params | {"format": "csv"})
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows
        for row in rows:
            for value in row:
                assert not value or value[0] not in "=+-@" or _number(value), value

    def test_csv_of_codes_by_case_carries_counts_and_notes(self, client_for, study, lead, hostile):
        response = client_for(lead).get(_url("matrix_cases", study), {"format": "csv"})
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        header = rows[0]
        assert header[:4] == ["Code", "'+Alpha: codings", "'+Alpha: participants", "'+Alpha: note"]
        by_code = {row[0]: row for row in rows[1:]}
        assert by_code["A"][1:3] == ["2", "1"]
        assert by_code["'=HYPERLINK(1)"][3] == "'-1 says it all"

    def test_xlsx_keeps_text_as_text_and_numbers_as_numbers(self, client_for, study, lead, hostile):
        response = client_for(lead).get(_url("matrix_cases", study), {"format": "xlsx"})
        sheet = load_workbook(io.BytesIO(response.content)).active
        cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
        assert all(c.data_type in {"s", "n"} for c in cells)  # never "f" (a formula)
        values = {c.value for c in cells}
        assert "'=HYPERLINK(1)" in values and "'+Alpha: codings" in values
        assert any(c.data_type == "n" and c.value == 2 for c in cells)


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


class TestPages:
    def test_every_tab_renders_as_accessible_tables(self, client_for, study, lead, world):
        client = client_for(lead)
        for name in ("matrices", "matrix_cases"):
            page = client.get(_url(name, study)).content.decode()
            assert "<caption>" in page and 'scope="col"' in page and 'scope="row"' in page
            assert "heat-4" in page
            assert " style=" not in page  # the CSP forbids inline styles
        page = client.get(_url("matrix_dimensions", study)).content.decode()
        assert "two dimensions" in page  # the fixed study has none yet

    def test_codes_by_case_shows_counts_and_participants_as_text(
        self, client_for, study, lead, world
    ):
        page = client_for(lead).get(_url("matrix_cases", study)).content.decode()
        assert "2 codings" in page and "2 participants" in page

    def test_matrices_is_in_the_study_navigation(self, client_for, study, coder, world):
        page = client_for(coder).get(_url("study_dashboard", study)).content.decode()
        assert f'href="{_url("matrices", study)}"' in page

    def test_outsiders_do_not_learn_the_study_exists(self, client_for, study, outsider, world):
        client = client_for(outsider)
        for name in ("matrices", "matrix_cases", "matrix_dimensions"):
            assert client.get(_url(name, study), {"format": "csv"}).status_code == 404
