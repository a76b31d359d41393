"""Codes an admin added through the codebook form were saved black (#000000): the form's colour
input posted black when nobody picked a colour. Give each the study's next unused palette colour,
as a new code gets now; codes whose colour someone chose are left alone."""

from django.db import migrations

# The palette as it was when this migration was written (coding.models.CODE_PALETTE).
PALETTE = (
    "#0072b2", "#bd8300", "#009e73", "#d55e00", "#c972a2", "#1d96db", "#9c920c", "#7d00ba",
    "#694918", "#aa75e7", "#006500", "#a20075", "#006159", "#4935d7", "#6d6192", "#319a00",
    "#ba39ce", "#65753d", "#49868e", "#8e5575", "#9e6945", "#868eba", "#5971ff", "#964100",
    "#759e5d", "#8641ef",
)  # fmt: skip


def recolour_black_codes(apps, schema_editor):
    Code = apps.get_model("coding", "Code")
    black = Code.objects.filter(colour="#000000").order_by("study_id", "position", "pk")
    for study_id in sorted(set(black.values_list("study_id", flat=True))):
        used: dict[str, int] = {}
        for colour in (
            Code.objects.filter(study_id=study_id)
            .exclude(colour="#000000")
            .values_list("colour", flat=True)
        ):
            used[colour] = used.get(colour, 0) + 1
        for code in black.filter(study_id=study_id):
            code.colour = min(PALETTE, key=lambda colour: used.get(colour, 0))
            used[code.colour] = used.get(code.colour, 0) + 1
            code.save(update_fields=["colour"])


class Migration(migrations.Migration):
    dependencies = [("coding", "0013_themes_foundation")]

    operations = [migrations.RunPython(recolour_black_codes, migrations.RunPython.noop)]
