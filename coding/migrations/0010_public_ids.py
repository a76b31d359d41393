"""Codings, memos and debrief notes get a random public id (see workbench/public_ids.py).

Three steps, because a default given to AddField is computed once and written to every row:
add the column empty, give each existing row its own id, then make it required and unique.
"""

from django.db import migrations, models

import workbench.public_ids

MODELS = ("coding", "analyticmemo", "debriefnote")


def fill(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("coding", name)
        rows = list(model.objects.filter(public_id__isnull=True).only("pk"))
        for row in rows:
            row.public_id = workbench.public_ids.new_public_id()
        model.objects.bulk_update(rows, ["public_id"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("coding", "0009_blind_inductive_codes")]

    operations = [
        *(
            migrations.AddField(
                model_name=name,
                name="public_id",
                field=models.CharField(editable=False, max_length=12, null=True),
            )
            for name in MODELS
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        *(
            migrations.AlterField(
                model_name=name,
                name="public_id",
                field=models.CharField(
                    default=workbench.public_ids.new_public_id,
                    editable=False,
                    max_length=12,
                    unique=True,
                ),
            )
            for name in MODELS
        ),
    ]
