"""A cap on the size of one upload request, whatever its files.

Django limits the number of files and the size of plain form data, not the total size of the
uploaded files: eight 19 MB transcripts in one request were all stored (and then read) at once.
``RequestSizeLimit`` is the first upload handler (settings.FILE_UPLOAD_HANDLERS): when the
request is larger than ``UPLOAD_MAX_REQUEST_BYTES`` every file in it is skipped, so none is kept
in memory or on disk, while the form fields (the CSRF token, the chosen participant) are still
read. Views call ``refusal(request)`` and show its message instead of importing anything.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class RequestSizeLimit(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # The declared length covers every part, and Django never reads past it.
        if content_length > settings.UPLOAD_MAX_REQUEST_BYTES and self.request is not None:
            self.request.upload_too_large = True
        return None  # the other handlers parse the request

    def new_file(self, *args, **kwargs):
        if getattr(self.request, "upload_too_large", False):
            raise SkipFile  # the parser discards the file's bytes as they arrive
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        return raw_data  # for the next handler

    def file_complete(self, file_size):
        return None  # the next handler returns the file


def refusal(request) -> str:
    """The message for a request whose files were skipped, or ""."""
    if not getattr(request, "upload_too_large", False):
        return ""
    return (
        f"These files are more than {size_label(settings.UPLOAD_MAX_REQUEST_BYTES)} together, "
        "the limit for one upload; nothing was read. Upload them in smaller groups."
    )


def size_label(size: int) -> str:
    """A limit in words: "100 MB", or "97 KB" for the small ones tests and tight sites set."""
    return f"{size // 1024} KB" if size < 1024 * 1024 else f"{size // (1024 * 1024)} MB"
