"""Make the audit table append-only in PostgreSQL itself, not just in the app.

A trigger rejects every UPDATE and DELETE of a row. TRUNCATE stays possible for the database
owner (test teardown, disaster recovery); it is not an operation the application can issue.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION workbench_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % rejected', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER workbench_auditevent_append_only
    BEFORE UPDATE OR DELETE ON workbench_auditevent
    FOR EACH ROW EXECUTE FUNCTION workbench_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS workbench_auditevent_append_only ON workbench_auditevent;
DROP FUNCTION IF EXISTS workbench_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("workbench", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
