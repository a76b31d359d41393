"""On PostgreSQL the app runs as a role that owns nothing and cannot rewrite the audit trail.

The table owner can disable the append-only trigger or TRUNCATE the audit table, so the app
must not be the owner. Each test here makes a runtime role with ``grant_runtime_role`` (the same
code docker-compose.yml's ``migrate`` service runs), connects as it with psycopg and tries.
Roles are shared by the whole PostgreSQL cluster: each test makes one with a name of its own and
drops it afterwards.
"""

import uuid
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from coding.models import AnalyticMemo
from coding.services import notes as notes_services
from workbench.db_roles import RuntimeRoleError, grant_runtime_role
from workbench.models import AuditEvent, Study

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="database roles are PostgreSQL's"
)
PASSWORD = "runtime-role-test-password"
AUDIT = AuditEvent._meta.db_table
TRIGGER = "workbench_auditevent_append_only"


def owner_query(query, params=()):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else None


def connect_as(role):
    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=role,
        password=PASSWORD,
        autocommit=True,
    )


@pytest.fixture
def make_role():
    made = []

    def make(suffix="app"):
        role = f"wb_test_{suffix}_{uuid.uuid4().hex[:10]}"
        made.append(role)
        return role

    yield make
    for role in made:
        if owner_query("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]):
            owner_query(f'DROP OWNED BY "{role}"')  # its grants here (it owns nothing)
            owner_query(f'DROP ROLE "{role}"')


@pytest.fixture
def runtime_role(make_role):
    role = make_role()
    grant_runtime_role(role=role, password=PASSWORD, create=True)
    return role


def event_count():
    return owner_query(f"SELECT count(*) FROM {AUDIT}")[0][0]


# What a role that owns the audit table could do to the trail, and the runtime role may not.
FORBIDDEN = {
    "update": f"UPDATE {AUDIT} SET verb = 'forged'",
    "delete": f"DELETE FROM {AUDIT}",
    "truncate": f"TRUNCATE {AUDIT}",
    "disable the trigger": f"ALTER TABLE {AUDIT} DISABLE TRIGGER {TRIGGER}",
    "disable all triggers": f"ALTER TABLE {AUDIT} DISABLE TRIGGER ALL",
    "drop the trigger": f"DROP TRIGGER {TRIGGER} ON {AUDIT}",
    "add a trigger": f"CREATE TRIGGER t BEFORE INSERT ON {AUDIT} "
    "FOR EACH ROW EXECUTE FUNCTION workbench_audit_append_only()",
    "replace the trigger function": "CREATE OR REPLACE FUNCTION workbench_audit_append_only() "
    "RETURNS trigger AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql",
    "skip triggers for the session": "SET session_replication_role = replica",
    "drop the table": f"DROP TABLE {AUDIT}",
    "rename the table": f"ALTER TABLE {AUDIT} RENAME TO old_trail",
    "create a table": "CREATE TABLE shadow_trail (id int)",
    "become the owner": "SET ROLE {owner}",
}


@on_postgresql
@pytest.mark.django_db(transaction=True)
class TestRuntimeRole:
    def test_it_appends_to_and_reads_the_trail(self, study, runtime_role):
        before = event_count()
        with connect_as(runtime_role) as conn:
            assert conn.execute(f"SELECT count(*) FROM {AUDIT}").fetchone()[0] == before
            conn.execute(
                f"INSERT INTO {AUDIT} (at, actor_name, verb, object_type, object_id, "
                "object_repr) VALUES (now(), 'runtime', 'test.append', '', '', '')"
            )
        assert event_count() == before + 1

    def test_it_cannot_rewrite_or_unprotect_the_trail(self, study, runtime_role):
        """Every attempt in FORBIDDEN, each in its own statement (one test: each
        transactional test costs a flush of every table)."""
        before = owner_query(f"SELECT id, verb FROM {AUDIT} ORDER BY id")
        [(owner,)] = owner_query("SELECT current_user")
        allowed = {}
        with connect_as(runtime_role) as conn:
            for attempt, statement in FORBIDDEN.items():
                try:
                    conn.execute(statement.replace("{owner}", f'"{owner}"'))
                except psycopg.errors.InsufficientPrivilege as refused:
                    # Refused for lack of a right, not by the trigger (it says "append-only").
                    if "append-only" in str(refused):
                        allowed[attempt] = "only the trigger stopped it"
                else:
                    allowed[attempt] = "it went through"
        assert allowed == {}
        assert owner_query(f"SELECT id, verb FROM {AUDIT} ORDER BY id") == before
        assert owner_query("SELECT tgenabled FROM pg_trigger WHERE tgname = %s", [TRIGGER]) == [
            ("O",)
        ]

    def test_it_owns_nothing_and_holds_only_what_the_app_needs(self, runtime_role):
        tables = [
            name
            for (name,) in owner_query(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        ]
        rights = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
        held = {
            table: {
                right
                for right in rights
                if owner_query(
                    "SELECT has_table_privilege(%s, %s, %s)", [runtime_role, table, right]
                )[0][0]
            }
            for table in tables
        }
        assert held.pop(AUDIT) == {"SELECT", "INSERT"}
        assert held.pop("django_migrations") == {"SELECT"}
        assert all(h == {"SELECT", "INSERT", "UPDATE", "DELETE"} for h in held.values()), held
        assert "coding_coding" in held and "django_session" in held
        owned = owner_query(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE r.rolname = %s",
            [runtime_role],
        )
        assert owned == [(0,)]
        attributes = owner_query(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolcanlogin "
            "FROM pg_roles WHERE rolname = %s",
            [runtime_role],
        )
        assert attributes == [(False, False, False, False, True)]

    def test_it_cannot_grant_itself_more(self, runtime_role):
        with connect_as(runtime_role) as conn:
            # Without the grant option PostgreSQL only warns "no privileges were granted".
            conn.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON {AUDIT} TO CURRENT_USER")
        for right in ("UPDATE", "DELETE", "TRUNCATE"):
            assert owner_query(
                "SELECT has_table_privilege(%s, %s, %s)", [runtime_role, AUDIT, right]
            ) == [(False,)]

    def test_granting_again_takes_back_what_was_added_by_hand(self, runtime_role):
        owner_query(f'GRANT UPDATE, DELETE, TRUNCATE ON {AUDIT} TO "{runtime_role}"')
        grant_runtime_role(role=runtime_role)
        for right in ("UPDATE", "DELETE", "TRUNCATE"):
            assert owner_query(
                "SELECT has_table_privilege(%s, %s, %s)", [runtime_role, AUDIT, right]
            ) == [(False,)]

    def test_the_app_works_as_the_runtime_role(self, client, runtime_role):
        """Build the demo study, sign in and work, all through a connection as the role."""
        owner = dict(connection.settings_dict)
        connection.close()
        connection.settings_dict.update(USER=runtime_role, PASSWORD=PASSWORD)
        try:
            assert owner_query("SELECT current_user") == [(runtime_role,)]
            call_command("migrate", "--noinput", stdout=StringIO())  # nothing to apply
            call_command("seed_demo", stdout=StringIO())
            study = Study.objects.get(slug="open-llm-collaboration")
            # Signing in through the form, as a person does (sign-in throttling needs the request).
            signed_in = client.post(
                reverse("login"), {"username": "coder1", "password": "demo-coder1-2026"}
            )
            assert signed_in.status_code == 302
            assert client.get(reverse("study_dashboard", args=[study.slug])).status_code == 200
            memo = AnalyticMemo.objects.filter(study=study).order_by("pk").first()
            notes_services.memo_update(
                actor=memo.written_by,
                memo=memo,
                version=memo.version,
                title=memo.title,
                body="Reworded after the second interview.",
            )
            assert AuditEvent.objects.filter(study=study, verb="memo.update").exists()
            client.logout()
            signed_in = client.post(
                reverse("login"), {"username": "lead", "password": "demo-lead-2026"}
            )
            assert signed_in.status_code == 302
            trail = client.get(reverse("audit_trail", args=[study.slug]))
            assert trail.status_code == 200 and "memo.update" in trail.content.decode()
            # The demo's saturation decisions were written as the role, and it reads them.
            page = client.get(reverse("saturation", args=[study.slug]))
            assert page.status_code == 200 and "Saturation at" in page.content.decode()
        finally:
            connection.close()
            connection.settings_dict.update(USER=owner["USER"], PASSWORD=owner["PASSWORD"])
        assert owner_query("SELECT current_user") != [(runtime_role,)]


@on_postgresql
@pytest.mark.django_db(transaction=True)
class TestRefusals:
    def test_a_role_that_could_act_as_the_owner_is_refused(self, make_role):
        [(me,)] = owner_query("SELECT current_user")
        powerful = make_role("powerful")
        owner_query(f'CREATE ROLE "{powerful}" LOGIN CREATEDB')
        member = make_role("member")
        owner_query(f'CREATE ROLE "{member}" LOGIN')
        owner_query(f'GRANT "{me}" TO "{member}"')
        for role, message in ((powerful, "has CREATEDB"), (member, f"member of “{me}”")):
            with pytest.raises(RuntimeRoleError, match=message):
                grant_runtime_role(role=role)
            granted = owner_query(
                "SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a"
                " JOIN pg_roles r ON r.oid = a.grantee WHERE r.rolname = %s",
                [role],
            )
            assert granted == [(0,)], role  # refused before anything was granted
        with pytest.raises(RuntimeRoleError, match="the owner"):
            grant_runtime_role(role=me)
        missing = make_role("missing")
        with pytest.raises(RuntimeRoleError, match="There is no role"):
            grant_runtime_role(role=missing)
        assert not owner_query("SELECT 1 FROM pg_roles WHERE rolname = %s", [missing])

    def test_the_command_reads_the_role_from_runtime_database_url(self, settings, make_role):
        role = make_role()
        db = connection.settings_dict
        settings.RUNTIME_DATABASE_URL = f"postgres://{role}:{PASSWORD}@{db['HOST']}/{db['NAME']}"
        with pytest.raises(CommandError, match="There is no role"):
            call_command("grant_runtime_role", stdout=StringIO())
        out = StringIO()
        call_command("grant_runtime_role", "--create", stdout=out)
        assert f"SELECT, INSERT on {AUDIT}" in out.getvalue()
        assert owner_query(
            "SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = %s", [role]
        ) == [(True,)]
        with connect_as(role) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (role,)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite answer")
@pytest.mark.django_db
def test_on_sqlite_the_command_says_it_is_for_postgresql():
    with pytest.raises(CommandError, match="PostgreSQL matter"):
        call_command("grant_runtime_role", "--role", "anyone", stdout=StringIO())
