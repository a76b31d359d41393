"""Undo and redo: per coder and transcript (layer), two stacks of steps kept on the server.

Each row is one step: what it did (``label``) and what carries it out in the other direction
(``inverse``). Undoing the top of the undo stack moves the step onto the redo stack (with the
inverse of the inverse), redoing moves it back; a new action clears the redo stack.

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


class UndoStack(models.TextChoices):
    UNDO = "undo", "Undo"
    REDO = "redo", "Redo"


class UndoAction(models.Model):
    """One step on ``user``'s undo or redo stack in their ``layer`` (see coding.services.undo).

    Not part of the study's record (no audit event): a working aid, deleted once used or expired,
    and with the layer.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    stack = models.CharField(max_length=4, choices=UndoStack.choices, default=UndoStack.UNDO)
    # What the step did, as the buttons say it: "Undo: coded “we waited” as Trust".
    label = models.TextField()
    inverse = models.JSONField()  # what coding.services.undo.undo_step carries out
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "layer", "stack", "created_at"], name="undo_stack_top")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def expired(self) -> bool:
        return timezone.now() - self.created_at > UNDO_MAX_AGE
