"""Bytes to canonical text: the one place where encodings, line ends and Unicode forms are settled.

Every offset the workbench stores counts code points in the text this module returns, so it must
be applied exactly once, before any parsing, and never again afterwards.
"""

import codecs
import unicodedata

from .base import TranscriptFormatError, display_name

MEGABYTE = 1024 * 1024

# Magic numbers of files people upload by mistake (the recording, a PDF of the transcript, an
# old Word file), so the message can say what the file is rather than "not UTF-8".
_MAGIC = [
    (b"%PDF", "a PDF document", "export the transcript as .docx or plain text"),
    (b"\x89PNG", "a PNG image", ""),
    (b"\xff\xd8\xff", "a JPEG image", ""),
    (b"GIF8", "a GIF image", ""),
    (b"\xd0\xcf\x11\xe0", "an old-style Word (.doc) or Office file", "save it as .docx"),
    (b"{\\rtf", "a Rich Text (.rtf) file", "save it as .docx or plain text"),
    (b"ID3", "an MP3 recording", "upload its transcript instead"),
    (b"fLaC", "a FLAC recording", "upload its transcript instead"),
    (b"OggS", "an Ogg recording", "upload its transcript instead"),
    (b"RIFF", "a WAV, AVI or WebP media file", ""),
    (b"\x1f\x8b", "a gzip archive", ""),
    (b"7z\xbc\xaf", "a 7-Zip archive", ""),
    (b"Rar!", "a RAR archive", ""),
]


def check_size(filename: str, data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise TranscriptFormatError(
            f"{display_name(filename)} is {_megabytes(len(data))} MB; "
            f"the limit for a transcript is {_megabytes(max_bytes)} MB."
        )
    if not data.strip():
        raise TranscriptFormatError(f"{display_name(filename)} is empty.")


def text_too_large(filename: str, max_bytes: int) -> TranscriptFormatError:
    """The refusal for a file whose text (what is stored, not the file) passes the limit: a
    small .docx or a timed format with long speaker names can make far more text than bytes."""
    limit = _megabytes(max_bytes)
    return TranscriptFormatError(
        f"The text in {display_name(filename)} is more than {limit} MB; "
        f"the limit for a transcript is {limit} MB."
    )


def check_text_size(filename: str, text: str, max_bytes: int) -> None:
    # A code point is at most 4 bytes of UTF-8: most texts pass without being encoded.
    if len(text) * 4 > max_bytes and len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise text_too_large(filename, max_bytes)


def _megabytes(size: int) -> str:
    return f"{size / MEGABYTE:.1f}".removesuffix(".0")


def reject_binary(filename: str, data: bytes) -> None:
    """Refuse files that are not text at all, naming what they look like when we can tell."""
    name = display_name(filename)
    for magic, what, advice in _MAGIC:
        if data.startswith(magic):
            advice = f"; {advice}" if advice else ""
            raise TranscriptFormatError(f"{name} is {what}, not a transcript{advice}.")
    # MP4/MOV/M4A recordings: "ftyp" at offset 4.
    if data[4:8] == b"ftyp":
        raise TranscriptFormatError(
            f"{name} is an MP4/M4A/MOV recording, not a transcript; upload its transcript instead."
        )
    if _bom_codec(data) is None and b"\x00" in data:
        raise TranscriptFormatError(
            f"{name} is not a text file (it contains binary data). Save the transcript as UTF-8 "
            "text, .docx, .vtt or .srt and upload again."
        )


def _bom_codec(data: bytes) -> str | None:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # the codec reads and drops the BOM, whichever byte order it names
    return None


def decode(filename: str, data: bytes) -> str:
    """UTF-8 (BOM or not) or UTF-16 with a BOM; anything else is refused, never guessed.

    Guessing a legacy code page would silently turn "é" into "Ã©" in a participant's words.
    """
    codec = _bom_codec(data) or "utf-8"
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as error:
        raise TranscriptFormatError(
            f"{display_name(filename)} is not UTF-8 text (byte {error.start + 1} cannot be "
            "read). Save it as UTF-8 (in Word: Save As › Plain Text › Unicode (UTF-8)) and "
            "upload again."
        ) from None
    if "\x00" in text:
        raise TranscriptFormatError(
            f"{display_name(filename)} is not a text file (it contains binary data)."
        )
    return text


def normalise(text: str) -> str:
    """LF line ends and Unicode NFC, so offsets mean the same thing wherever they are used.

    U+2028/U+0085 are line ends to some editors but not to ours; making them LF keeps "a line"
    the same thing for the parser and for the person reading the transcript.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u0085", "\n").replace("\u2029", "\n\n")
    return unicodedata.normalize("NFC", text)


def clean(value: str) -> str:
    """Normalise a piece of text that came out of a structured file (a cue, a JSON string)."""
    return unicodedata.normalize("NFC", " ".join(value.split()))


def read_text(filename: str, data: bytes) -> str:
    """Decode and normalise a text upload; refuse it when nothing but blank space remains."""
    text = normalise(decode(filename, data))
    if not text.strip():
        raise TranscriptFormatError(f"{display_name(filename)} is empty.")
    return text
