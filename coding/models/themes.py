"""The theme board's undo record: what one board operation changed, so it can be taken back.

Every board operation (move, promote, demote, status) already writes a ``CodeVersion`` per code
touched and one audit event; a ``BoardMove`` adds what those do not hold in a restorable form
(primary keys, not names): each code's structural fields before the operation and its version
after. Undo restores them only while every code is still at that version, i.e. while nothing
has been built on the operation since.
"""

from django.conf import settings
from django.db import models

from workbench.models import Study


class BoardMove(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="board_moves")
    # What the board offers to undo, e.g. "Moved “Entry path” to “Shared documentation…”".
    summary = models.CharField(max_length=300)
    verb = models.CharField(max_length=40)
    # [{"code": pk, "version": version after, "before": {"parent": pk|None, "kind": ...,
    #   "position": n, "theme_status": ..., "also_in": [pk, ...]}}, ...]
    entries = models.JSONField(default=list)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["study", "undone_at"], name="board_move_study_open")]

    def __str__(self) -> str:
        return self.summary
