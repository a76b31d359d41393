"""Give the app's runtime database role exactly what it needs (PostgreSQL; run as the owner).

    RUNTIME_DATABASE_URL=postgres://workbench_app:secret@db/workbench \\
        python manage.py grant_runtime_role --create

Run it after every ``migrate`` with the owner's DATABASE_URL (docker-compose.yml's ``migrate``
service does): tables added by a migration get their grants then. What is granted and why:
``workbench/db_roles.py``.
"""

import dj_database_url
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from workbench.db_roles import RuntimeRoleError, grant_runtime_role


class Command(BaseCommand):
    help = (
        "Grant the runtime role (from RUNTIME_DATABASE_URL or --role) what the app needs and "
        "nothing more: no ownership, no UPDATE/DELETE/TRUNCATE on the audit trail."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--role", help="the runtime role (default: the user of RUNTIME_DATABASE_URL)"
        )
        parser.add_argument(
            "--create",
            action="store_true",
            help="create the role if it does not exist (with RUNTIME_DATABASE_URL's password)",
        )
        parser.add_argument("--database", default="default", help="the owner's connection")

    def handle(self, *args, role=None, create=False, database="default", **options):
        runtime = (
            dj_database_url.parse(settings.RUNTIME_DATABASE_URL)
            if (settings.RUNTIME_DATABASE_URL)
            else {}
        )
        role = role or runtime.get("USER")
        if not role:
            raise CommandError("Name the runtime role: --role NAME or RUNTIME_DATABASE_URL.")
        try:
            granted = grant_runtime_role(
                role=role,
                password=runtime.get("PASSWORD") if runtime.get("USER") == role else None,
                create=create,
                using=database,
            )
        except RuntimeRoleError as error:
            raise CommandError(str(error)) from error
        limited = {table: rights for table, rights in granted.tables.items() if len(rights) < 4}
        self.stdout.write(
            f"{granted.role}: SELECT, INSERT, UPDATE, DELETE on "
            f"{len(granted.tables) - len(limited)} tables; "
            + "; ".join(f"{', '.join(rights)} on {table}" for table, rights in limited.items())
            + "; no ownership, TRUNCATE, TRIGGER or CREATE."
        )
        for warning in granted.warnings:
            self.stderr.write(warning)
