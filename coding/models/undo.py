"""Undo: the inverse of one coding write, kept on the server for an hour.

The page carries only the row's random id (in the undo form and, after a plain POST, in the
URL), never what the inverse holds: a memo's previous text must not travel through URLs into
access logs or browser history.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from coding.models.codings import Layer

UNDO_MAX_AGE = timedelta(hours=1)  # undo is for the last action, not for archaeology


class UndoAction(models.Model):
    """What would take back one action of ``user`` in their ``layer`` (see coding.services.undo).

    Not part of the study's record (no audit event): a working aid, deleted once used or expired,
    and with the layer.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    label = models.TextField()  # "Deleted a “Trust” coding.", shown beside the Undo button
    inverse = models.JSONField()  # what coding.services.undo.undo_run carries out
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.label

    @property
    def expired(self) -> bool:
        return timezone.now() - self.created_at > UNDO_MAX_AGE
