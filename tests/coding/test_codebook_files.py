import io
import uuid
from pathlib import Path

import pytest
from lxml import etree

from coding.formats import codebook as interchange
from coding.models import Code, CodeKind
from coding.services import codebook as codebook_services
from workbench.models import AuditEvent, Study

INTEROP = Path(__file__).resolve().parents[2].parent / "shared" / "interop" / "refi-qda"
needs_interop = pytest.mark.skipif(
    not INTEROP.is_dir(), reason="the shared REFI-QDA samples (../shared/interop) are absent"
)
SPEC_QDC = INTEROP / "spec-examples" / "REFI-QDA-1.5-annexA1-codebook.qdc"
XSD = INTEROP / "schema" / "Codebook-v1.0.from-REFI-QDA-1.5-spec.xsd"


def _csv(text: str) -> bytes:
    return text.encode("utf-8")


@pytest.fixture
def tree(study, admin_user, code):
    category = codebook_services.code_create(
        actor=admin_user, study=study, name="On-ramps", kind=CodeKind.CATEGORY, colour="#123456"
    )
    theme = codebook_services.code_create(
        actor=admin_user,
        study=study,
        name="Joining",
        kind=CodeKind.THEME,
        parent=category,
        definition="=SUM(A1) looks like a formula",
    )
    codebook_services.code_update(
        actor=admin_user,
        code=code,
        version=code.version,
        name=code.name,
        definition=code.definition,
        when_to_use="When someone describes their first contribution.",
        when_not_to_use="Not for leaving.",
        example="“I started by fixing typos.”",
        colour="#ff0000",
        parent=theme,
    )
    return {"category": category, "theme": theme, "code": code}


class TestCsv:
    def test_round_trip_into_another_study(self, study, tree, outsider):
        out = io.StringIO()
        codes = list(Code.objects.filter(study=study).select_related("parent"))
        interchange.write_csv(codes, out)
        text = out.getvalue()
        assert "'=SUM(A1)" in text  # formulas neutralised
        other = Study.objects.get(name="Someone else's study")
        parsed = interchange.parse_csv(text.encode(), other)
        assert parsed.valid, [r.errors for r in parsed.rows]
        report = codebook_services.codes_import(
            actor=outsider, study=other, parsed=parsed, source="x.csv"
        )
        assert len(report.created) == 3
        onboarding = Code.objects.get(study=other, name="Onboarding")
        assert onboarding.parent.name == "Joining" and onboarding.parent.parent.name == "On-ramps"
        assert onboarding.when_not_to_use == "Not for leaving."
        assert onboarding.colour == "#ff0000"
        assert onboarding.guid == tree["code"].guid
        assert onboarding.versions.get().note == "imported from x.csv"

    def test_reimport_into_the_same_study_skips_everything(self, study, tree, admin_user):
        out = io.StringIO()
        interchange.write_csv(Code.objects.filter(study=study).select_related("parent"), out)
        parsed = interchange.parse_csv(out.getvalue().encode(), study)
        assert parsed.valid and parsed.to_create == 0
        assert {row.skip for row in parsed.rows} == {"already in the codebook"}

    def test_kinds_are_inferred_from_parents(self, study):
        parsed = interchange.parse_csv(_csv("name,parent\nLeaf,Mid\nMid,Top\nTop,\n"), study)
        assert parsed.valid
        assert [(r.name, r.kind) for r in parsed.rows] == [
            ("Top", "category"),
            ("Mid", "theme"),
            ("Leaf", "code"),
        ]

    def test_any_invalid_row_means_nothing_is_written(self, study, admin_user):
        parsed = interchange.parse_csv(
            _csv(
                "name,definition,colour,origin,parent\n"
                "Good,fine,#00ff00,deductive,\n"
                "Bad colour,x,blue,deductive,\n"
                "Good,dup,,,\n"
                ",no name,,,\n"
                "Orphan,,,inductive,Nowhere\n"
                "Odd,,,abductive,\n"
            ),
            study,
        )
        assert not parsed.valid
        errors = {row.line: row.errors for row in parsed.rows}
        assert "not #rrggbb" in errors[3][0]
        assert "also on line 2" in errors[4][0]
        assert errors[5] == ["The name is empty."]
        assert "neither in the file" in errors[6][0]
        assert "not deductive or inductive" in errors[7][0]
        assert errors[2] == []
        with pytest.raises(Exception, match="nothing was imported"):
            codebook_services.codes_import(
                actor=admin_user, study=study, parsed=parsed, source="x.csv"
            )
        assert not Code.objects.exists()

    @pytest.mark.parametrize(
        "data, message",
        [
            (b"\xff\xfe\x00bad", "not UTF-8"),
            (b"title,definition\nX,y\n", "“name” is required"),
            (b"name,colour,flavour\nX,,\n", "Unknown column"),
            (b"name\n", "no codes"),
        ],
    )
    def test_broken_files_get_a_clear_message(self, study, data, message):
        parsed = interchange.parse_csv(data, study)
        assert not parsed.valid and message in " ".join(parsed.errors)

    def test_semicolon_separated_excel_csv(self, study):
        parsed = interchange.parse_csv("\ufeffname;definition\nÉtat;définition\n".encode(), study)
        assert parsed.valid and parsed.rows[0].name == "État"


@needs_interop
class TestRefiQda:
    def test_spec_example_imports(self, study, admin_user):
        parsed = interchange.parse_qdc(SPEC_QDC.read_bytes(), study)
        assert parsed.valid, parsed.errors
        rows = {row.name: row for row in parsed.rows}
        assert set(rows) == {
            "Topics",
            "Economy",
            "Health care",
            "Values",
            "Conservatives",
            "Liberals",
        }
        # isCodable="false" → a grouping code; GUIDs with braces, mixed forms, all parsed.
        assert rows["Topics"].kind == CodeKind.THEME and rows["Economy"].kind == CodeKind.CODE
        assert rows["Topics"].guid == uuid.UUID("5215cc69-b628-4e02-afb9-9beeaee55808")
        assert rows["Values"].guid == uuid.UUID("9fa9bcb7-5b59-47a9-8c3e-f65cffdc7520")
        assert rows["Economy"].definition == "Anything about jobs or taxes or business"
        assert rows["Economy"].colour == "#ffff00"
        report = codebook_services.codes_import(
            actor=admin_user, study=study, parsed=parsed, source="codebook.qdc"
        )
        assert len(report.created) == 6
        assert AuditEvent.objects.filter(verb="code.create").count() == 6
        assert AuditEvent.objects.get(verb="codebook.import").after["source"] == "codebook.qdc"

    def test_nested_codes_become_parent_links(self, study):
        xml = b"""<?xml version="1.0"?>
        <qda:CodeBook xmlns:qda="urn:QDA-XML:codebook:1.0"><qda:Codes>
          <qda:Code guid="{AAAAAAAA-0000-0000-0000-000000000001}" name="Barriers" isCodable="false">
            <qda:Code guid="aaaaaaaa-0000-0000-0000-000000000002" name="Compute"
                      isCodable="true" color="#0F0"/>
          </qda:Code></qda:Codes></qda:CodeBook>"""
        parsed = interchange.parse_qdc(xml, study)
        assert parsed.valid
        rows = {row.name: row for row in parsed.rows}
        assert rows["Compute"].parent == "Barriers" and rows["Compute"].colour == "#00ff00"
        assert rows["Barriers"].kind == CodeKind.THEME

    def test_broken_xml_is_refused_clearly(self, study):
        parsed = interchange.parse_qdc(b"<CodeBook><Codes>", study)
        assert not parsed.valid and "not well-formed" in parsed.errors[0]

    def test_entities_are_not_expanded(self, study):
        xml = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
        <CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>
        <Code guid="aaaaaaaa-0000-0000-0000-000000000001" name="X" isCodable="true">
        <Description>&e;</Description></Code></Codes></CodeBook>"""
        parsed = interchange.parse_qdc(xml, study)
        # No REFI-QDA file declares a DTD: the file is refused before any entity is read.
        assert not parsed.valid and not parsed.rows
        assert parsed.errors == ["The file was not read: it declares a DTD (<!DOCTYPE …>)."]

    def test_export_validates_against_the_schema_and_round_trips(self, study, tree, outsider):
        from coding.selectors import codebook as codebook_selectors

        codes = codebook_selectors.tree_order(list(codebook_selectors.codes(study)))
        data = interchange.qdc_bytes(codes)
        schema = etree.XMLSchema(etree.parse(str(XSD)))
        document = etree.fromstring(data)
        assert schema.validate(document), schema.error_log
        other = Study.objects.get(name="Someone else's study")
        parsed = interchange.parse_qdc(data, other)
        assert parsed.valid
        codebook_services.codes_import(actor=outsider, study=other, parsed=parsed, source="x.qdc")
        copy = Code.objects.get(study=other, name="Onboarding")
        assert copy.guid == tree["code"].guid
        assert copy.parent.name == "Joining" and copy.parent.parent.name == "On-ramps"
        assert copy.when_to_use == "When someone describes their first contribution."
        assert copy.example == "“I started by fixing typos.”"
        assert copy.definition == tree["code"].definition

    def test_parent_that_exists_with_another_kind_is_a_row_error(self, study, admin_user):
        codebook_services.code_create(actor=admin_user, study=study, name="Topics")  # a plain code
        path = INTEROP / "hand-authored" / "ornio-sample-study" / "project.qde"
        parsed = interchange.parse_qdc(path.read_bytes(), study)
        assert not parsed.valid
        [bad] = [row for row in parsed.rows if row.errors]
        assert bad.name == "Health" and "“Topics” is a code" in bad.errors[0]

    def test_qdpx_project_codebook(self, study):
        path = INTEROP / "atlasti" / "atlasti-8.4_TestProject.qdpx"
        parsed = interchange.parse_qdc(path.read_bytes(), study)
        assert parsed.valid and len(parsed.rows) == 14

    def test_nvivo_tree_of_codable_nodes(self, study):
        path = INTEROP / "nvivo" / "nvivo-12.6_oltas0517_hu.qdpx"
        parsed = interchange.parse_qdc(path.read_bytes(), study)
        assert parsed.valid
        top = parsed.rows[0]
        assert top.kind == CodeKind.THEME and "imported as a theme" in top.notes[0]
