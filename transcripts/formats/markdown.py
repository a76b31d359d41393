"""Markdown transcripts read as the text a person sees, not as the markup that draws it.

Transcripts published as Markdown (the Changelog's) write ``**Tim Smith:** \\[01:46\\] …`` and
``\\[laughs\\]``. Kept as written, the backslashes and asterisks end up in every turn, every
quotation and the reconciliation context. ``to_plain`` removes what Markdown would not show:

- backslash escapes (``\\[`` is ``[``), and a backslash that ends a line (a hard line break);
- emphasis markers around words (``**bold**``, ``__bold__``, ``*italic*``, ``_italic_``), so a
  label such as ``**Interviewer:**`` or ``**[I5]:**`` reads as ``Interviewer:`` / ``[I5]:``;
- the ``#`` of a heading.

Lines stay lines (nothing is joined or split), so the text keeps its paragraphs. Escaped
characters are never markup: ``\\*`` stays a literal asterisk and ``snake_case`` keeps its
underscore, as in Markdown itself.
"""

import re

# CommonMark: any ASCII punctuation character may be backslash-escaped.
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_HARD_BREAK = re.compile(r"\\$", re.MULTILINE)
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)

# Emphasis opens before a non-space and closes after one, on one line. "_" and "__" only count
# at word boundaries ("snake_case" is not emphasis); "*" may sit inside a word.
_EMPHASIS = [
    re.compile(r"\*\*(?=[^\s*])([^\n]*?[^\s*])\*\*"),
    re.compile(r"(?<!\w)__(?=[^\s_])([^\n]*?[^\s_])__(?!\w)"),
    re.compile(r"(?<!\*)\*(?=[^\s*])([^\n]*?[^\s*])\*(?!\*)"),
    re.compile(r"(?<!\w)_(?=[^\s_])([^\n]*?[^\s_])_(?!\w)"),
]

# While markup is removed, an escaped character is held as a private-use code point (in a block
# the file does not use) so it can never be taken for a marker; it is put back afterwards.
_PRIVATE_USE = range(0xF0000, 0x10FF00, 0x100)


def to_plain(text: str) -> str:
    """The text of a Markdown transcript without escapes, emphasis markers and heading marks."""
    used = {ord(char) >> 8 for char in text if ord(char) >= _PRIVATE_USE.start}
    base = next(base for base in _PRIVATE_USE if base >> 8 not in used)
    held = _ESCAPE.sub(lambda m: chr(base + ord(m[1])), text)
    held = _strip(_HARD_BREAK.sub("", held))
    return re.sub(f"[{chr(base + 0x21)}-{chr(base + 0x7E)}]", lambda m: chr(ord(m[0]) - base), held)


def _strip(text: str) -> str:
    """Heading marks and emphasis markers removed."""
    text = _HEADING.sub(r"\1", text)
    for pattern in _EMPHASIS:
        previous = None
        while previous != text:  # nested emphasis ("***both***") unwraps one layer a pass
            previous, text = text, pattern.sub(r"\1", text)
    return text
