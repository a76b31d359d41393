"""Codes get distinct, readable colours: the palette is used up before any colour repeats, by
every path that creates a code (the admin form, inline creation while coding, codebook files,
the demo), and black codes from the old admin form are recoloured by a migration."""

import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from coding.formats import codebook as interchange
from coding.models import CODE_PALETTE, Code, CodingMode
from coding.services import assignments as assignment_services
from coding.services import codebook as codebook_services
from coding.services import codings as coding_services
from tests.factories import ready_transcript


def _luminance(colour: str) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a: str, b: str) -> float:
    light, dark = sorted([_luminance(a), _luminance(b)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _wash(colour: str, alpha: int = 0x22) -> str:
    """The code's colour at ``alpha``/255 over white, as the coding page paints a coded span."""
    parts = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(255 + (c - 255) * alpha / 255):02x}" for c in parts)


def _create(study, actor, n, **kwargs):
    return [
        codebook_services.code_create(actor=actor, study=study, name=f"Code {i}", **kwargs)
        for i in range(n)
    ]


class TestPalette:
    def test_no_colour_repeats_and_each_is_visible_and_keeps_text_readable(self):
        assert len(CODE_PALETTE) >= 20
        assert len(set(CODE_PALETTE)) == len(CODE_PALETTE)
        for colour in CODE_PALETTE:
            assert re.fullmatch(r"#[0-9a-f]{6}", colour)
            # A swatch, underline or border on white must be seen (WCAG non-text contrast) ...
            assert _contrast(colour, "#ffffff") >= 3, colour
            # ... and the page's ink on the coded span's wash keeps AAA contrast.
            assert _contrast("#1d2330", _wash(colour)) >= 7, colour

    def test_colours_are_used_up_before_any_repeats(self, study, admin_user):
        codes = _create(study, admin_user, len(CODE_PALETTE) + 2)
        colours = [code.colour for code in codes]
        assert colours[: len(CODE_PALETTE)] == list(CODE_PALETTE)
        assert colours[len(CODE_PALETTE) :] == list(CODE_PALETTE[:2])

    def test_a_chosen_colour_is_skipped_when_handing_out_the_next(self, study, admin_user):
        codebook_services.code_create(
            actor=admin_user, study=study, name="Chosen", colour=CODE_PALETTE[0].upper()
        )
        [code] = _create(study, admin_user, 1)
        assert code.colour == CODE_PALETTE[1]


class TestEveryPathThatCreatesCodes:
    def test_admin_form_offers_the_next_unused_colour_instead_of_black(
        self, client, study, admin_user
    ):
        _create(study, admin_user, 3)
        client.force_login(admin_user)
        page = client.get(reverse("codebook", kwargs={"study_slug": study.slug})).content.decode()
        [offered] = re.findall(r'<input type="color" name="new-code-colour" value="([^"]+)"', page)
        assert offered == CODE_PALETTE[3]
        # The browser posts what the colour input shows.
        client.post(
            reverse("code_create", kwargs={"study_slug": study.slug}),
            {
                "new-code-name": "Licensing",
                "new-code-kind": "code",
                "new-code-origin": "deductive",
                "new-code-colour": offered,
            },
        )
        assert Code.objects.get(name="Licensing").colour == CODE_PALETTE[3]

    def test_inductive_code_made_while_coding(self, study, admin_user, lead, coder, coder2):
        _create(study, admin_user, 2)
        transcript = ready_transcript(study, lead, "I1: We waited weeks for compute.\n")
        assignment_services.assignment_set(
            actor=lead,
            transcript=transcript,
            primary=coder,
            second=coder2,
            mode=CodingMode.INDEPENDENT,
        )
        layer = transcript.layers.get(coder=coder)
        start = transcript.text.index("waited")
        coding_services.coding_create_with_new_code(
            actor=coder,
            layer=layer,
            name="Waiting for hardware",
            definition="Time lost waiting for compute.",
            start=start,
            end=start + len("waited weeks"),
        )
        assert Code.objects.get(name="Waiting for hardware").colour == CODE_PALETTE[2]

    def test_codebook_csv_without_colours(self, study, admin_user):
        _create(study, admin_user, 1)
        parsed = interchange.parse_csv(b"name,definition\nAlpha,a\nBeta,b\nGamma,c\n", study)
        codebook_services.codes_import(
            actor=admin_user, study=study, parsed=parsed, source="codes.csv"
        )
        colours = dict(Code.objects.values_list("name", "colour"))
        assert [colours[n] for n in ("Alpha", "Beta", "Gamma")] == list(CODE_PALETTE[1:4])

    def test_demo_codes_are_all_different(self, study, admin_user):
        from coding import demo

        _create(study, admin_user, 5)  # the demo's codes come after five others
        demo.seed(study=study, admin=admin_user)  # its deductive codes
        colours = list(Code.objects.filter(study=study).values_list("colour", flat=True))
        assert len(colours) >= 14 and len(set(colours)) == len(colours)


@pytest.mark.django_db(transaction=True)
def test_migration_recolours_black_codes_and_keeps_chosen_ones(study, admin_user):
    chosen = codebook_services.code_create(
        actor=admin_user, study=study, name="Chosen", colour=CODE_PALETTE[0]
    )
    black = _create(study, admin_user, 2, colour="#000000")
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("coding", "0013_themes_foundation")])
        executor = MigrationExecutor(connection)
        executor.migrate([("coding", "0014_black_codes_get_palette_colours")])
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )
    colours = dict(Code.objects.values_list("pk", "colour"))
    assert colours[chosen.pk] == CODE_PALETTE[0]
    assert [colours[code.pk] for code in black] == list(CODE_PALETTE[1:3])
