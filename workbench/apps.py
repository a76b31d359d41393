import logging

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_permissions(sender, **kwargs):
    from workbench.services.members import permissions_sync_all

    permissions_sync_all()


def _record_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    # axes sends this signal for the failure that starts a lockout and again for every attempt
    # refused while it lasts; only the first carries a failure count.
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None:
        # Not written to the database: an attacker could fill an append-only table at will.
        logging.getLogger("workbench.signin").warning(
            "Sign-in refused during a lockout (address %s)", ip_address
        )
        return
    from workbench.services.accounts import lockout_record

    lockout_record(username=username, ip_address=ip_address, failures=failures)


class WorkbenchConfig(AppConfig):
    name = "workbench"
    verbose_name = "Workbench"

    def ready(self):
        # After auth's own post_migrate handler has created the permission rows.
        post_migrate.connect(_sync_permissions, sender=self)
        from axes.signals import user_locked_out

        user_locked_out.connect(_record_lockout, dispatch_uid="workbench_record_lockout")
        # The dashboard's research design, team and recent activity; other apps add theirs.
        from workbench.dashboard import register_workbench_panels

        register_workbench_panels()
        # How the workbench's own audit events read; other apps add theirs.
        from workbench.selectors.audit import register_describers

        register_describers()
