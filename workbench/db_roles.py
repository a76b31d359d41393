"""The runtime database role: the account the app uses on PostgreSQL, which owns nothing.

Whoever owns a table can do anything to it, the append-only trigger on the audit table
included (``ALTER TABLE … DISABLE TRIGGER``, ``DROP TRIGGER``, ``TRUNCATE``). So a deployment
runs migrations as the owner and the app as a separate role that holds only what the app needs:

- ``CONNECT`` on the database and ``USAGE`` on the schema, never ``CREATE``;
- every table of the schema: ``SELECT, INSERT, UPDATE, DELETE``;
- the audit table: ``SELECT, INSERT`` only, so the trail is append-only for the app even
  without the trigger;
- ``django_migrations``: ``SELECT`` only (the image's start command runs ``migrate``, which
  then finds nothing to do, or fails rather than change the schema);
- no ``TRUNCATE``, ``REFERENCES`` or ``TRIGGER`` anywhere, no sequences (identity columns need
  none), no membership in the owner's role and no ownership of anything.

``grant_runtime_role`` sets exactly this and takes back whatever else the role held on the
schema's tables. It runs as the owner after every ``migrate`` (``manage.py
grant_runtime_role``: the ``migrate`` service of docker-compose.yml), so tables added by later
migrations get their grants too. tests/workbench/test_runtime_role.py connects as such a role
and tries what it must not do.
"""

from dataclasses import dataclass, field

from django.db import connections, transaction
from django.db.migrations.recorder import MigrationRecorder
from psycopg import sql

from workbench.models import AuditEvent

FULL = ("SELECT", "INSERT", "UPDATE", "DELETE")
# Tables the app may not change in place, with what it may do to them.
LIMITED = {
    AuditEvent._meta.db_table: ("SELECT", "INSERT"),
    MigrationRecorder.Migration._meta.db_table: ("SELECT",),
}


class RuntimeRoleError(Exception):
    """The role cannot safely be the app's runtime role; the message says why."""


@dataclass
class Granted:
    role: str
    tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _fetch(cursor, query, params=()):
    cursor.execute(query, params)
    return cursor.fetchall()


def _check_role(cursor, role: str) -> None:
    [(me,)] = _fetch(cursor, "SELECT current_user")
    if role == me:
        raise RuntimeRoleError(
            f"“{role}” is the role running this command (the owner): the runtime role must be "
            "another one."
        )
    rows = _fetch(
        cursor,
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls,"
        " pg_has_role(%s, current_user, 'MEMBER') FROM pg_roles WHERE rolname = %s",
        [role, role],
    )
    [(superuser, createrole, createdb, replication, bypassrls, member)] = rows
    powers = [
        name
        for name, held in (
            ("SUPERUSER", superuser),
            ("CREATEROLE", createrole),
            ("CREATEDB", createdb),
            ("REPLICATION", replication),
            ("BYPASSRLS", bypassrls),
        )
        if held
    ]
    if powers:
        raise RuntimeRoleError(
            f"“{role}” has {', '.join(powers)}: the runtime role must hold no such attribute."
        )
    if member:
        raise RuntimeRoleError(
            f"“{role}” is a member of “{me}”, the owner: it could act as the owner."
        )
    [(owned,)] = _fetch(
        cursor,
        "SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid)"
        " + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid)"
        " + (SELECT count(*) FROM pg_proc WHERE proowner = r.oid)"
        " + (SELECT count(*) FROM pg_database WHERE datdba = r.oid)"
        " FROM pg_roles r WHERE r.rolname = %s",
        [role],
    )
    if owned:
        raise RuntimeRoleError(
            f"“{role}” owns {owned} database object(s): the runtime role must own nothing "
            "(REASSIGN OWNED BY it to the owner first)."
        )


def grant_runtime_role(
    *, role: str, password: str | None = None, create: bool = False, using: str = "default"
) -> Granted:
    """Give ``role`` exactly the runtime rights above, as the owner connected on ``using``.

    ``create`` makes the role (LOGIN, no other attribute) when it does not exist yet; a given
    ``password`` is set either way. Refuses, changing nothing, on any database but PostgreSQL
    and for a role that could act as the owner.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise RuntimeRoleError(
            "A runtime role is a PostgreSQL matter: this database is "
            f"{connection.vendor}, where the app runs as the file's owner."
        )
    if not role:
        raise RuntimeRoleError("Name the runtime role.")
    granted = Granted(role=role)
    with transaction.atomic(using=using), connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor: SQL composed with identifiers
        name = sql.Identifier(role)
        exists = _fetch(cursor, "SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if not exists and not create:
            raise RuntimeRoleError(f"There is no role “{role}” (create it, or use --create).")
        if not exists:
            cursor.execute(
                sql.SQL(
                    "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
                    " NOBYPASSRLS"
                ).format(name)
            )
        if password:
            # Utility statements take no bind parameters: the literal is quoted by psycopg.
            cursor.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(name, sql.Literal(password)))
        _check_role(cursor, role)

        [(database, schema)] = _fetch(cursor, "SELECT current_database(), current_schema()")
        tables = [
            table
            for (table,) in _fetch(
                cursor,
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1",
                [schema],
            )
        ]
        missing = sorted(set(LIMITED) - set(tables))
        if missing:
            raise RuntimeRoleError(
                f"No table {', '.join(missing)} in schema {schema}: run migrate first."
            )
        for statement in (
            "GRANT CONNECT ON DATABASE {database} TO {role}",
            "GRANT USAGE ON SCHEMA {schema} TO {role}",
            "REVOKE CREATE ON SCHEMA {schema} FROM {role}",
            "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
            "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
        ):
            cursor.execute(
                sql.SQL(statement).format(
                    database=sql.Identifier(database), schema=sql.Identifier(schema), role=name
                )
            )
        for table in tables:
            rights = LIMITED.get(table, FULL)
            cursor.execute(
                sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                    sql.SQL(", ").join(map(sql.SQL, rights)),
                    sql.Identifier(schema, table),
                    name,
                )
            )
            granted.tables[table] = rights
        # Before PostgreSQL 15 every role may create in the public schema through PUBLIC;
        # revoking that is a decision for the whole database, so it is only pointed out.
        [(can_create,)] = _fetch(
            cursor, "SELECT has_schema_privilege(%s, %s, 'CREATE')", [role, schema]
        )
        if can_create:
            granted.warnings.append(
                f"“{role}” may still create tables in schema {schema} through PUBLIC "
                f"(PostgreSQL before 15): REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC."
            )
    return granted
