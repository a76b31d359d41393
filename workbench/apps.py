from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_permissions(sender, **kwargs):
    from workbench.services.members import permissions_sync_all

    permissions_sync_all()


class WorkbenchConfig(AppConfig):
    name = "workbench"
    verbose_name = "Workbench"

    def ready(self):
        # After auth's own post_migrate handler has created the permission rows.
        post_migrate.connect(_sync_permissions, sender=self)
        # The dashboard's research design, team and recent activity; other apps add theirs.
        from workbench.dashboard import register_workbench_panels

        register_workbench_panels()
