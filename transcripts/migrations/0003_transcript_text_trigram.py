"""A trigram index for searching transcripts (coding.selectors.search), on PostgreSQL only.

Search matches substrings in any script (``text__icontains``, which Django writes as
``UPPER(text) LIKE UPPER(%q%)``); a GIN index of ``UPPER(text)`` with ``gin_trgm_ops`` lets
PostgreSQL answer that without reading every transcript. Creating the pg_trgm extension needs a
role allowed to (the postgres user in CI and Docker): where it cannot be created, the migration
goes on without the index and search still works, scanning instead. SQLite has neither; its
search is the same query without an index.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import DatabaseError, migrations, transaction

INDEX = "transcript_text_upper_trgm"


class TrigramExtensionIfAllowed(TrigramExtension):
    """pg_trgm, or nothing (with a note) where this database role may not create it."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                super().database_forwards(app_label, schema_editor, from_state, to_state)
        except DatabaseError as exc:
            print(f"\n  pg_trgm not available ({exc}); transcript search will scan.")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass  # other indexes may use the extension: leave it


def create_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON transcripts_transcript "
        "USING gin (UPPER(text) gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0002_transcript_listed_names")]

    operations = [
        TrigramExtensionIfAllowed(),
        migrations.RunPython(create_index, drop_index),
    ]
