"""Logging filters named in ``settings.LOGGING``."""

import logging


class QuietRefusals(logging.Filter):
    """A refused request (403, 404) is logged as one line, without a traceback.

    Django logs ``PermissionDenied`` with the exception attached, so every refusal a member
    meets by following a link would fill the log with a traceback that points at no defect.
    Server errors (5xx) keep theirs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
