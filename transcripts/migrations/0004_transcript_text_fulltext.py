"""A full-text index for searching transcripts by word forms (coding.selectors.search), on
PostgreSQL only.

Substring search (the trigram index of 0003) finds any run of characters in any script;
full-text search finds the other forms of English words ("contribute" also finds
"contributing" and "contribution") and ranks transcripts by how well they match. The index is
over the exact expression the search filters on, ``to_tsvector('english'::regconfig, text)``.
SQLite has no full-text search of this kind; there the option is not offered.
"""

from django.db import migrations

INDEX = "transcript_text_english_fts"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON transcripts_transcript "
            "USING gin (to_tsvector('english'::regconfig, text))"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0003_transcript_text_trigram")]

    operations = [migrations.RunPython(create_index, drop_index)]
