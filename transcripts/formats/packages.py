"""ZIP packages and their XML, read within limits: what a crafted upload cannot get past.

A few hundred kilobytes of ZIP can unpack to gigabytes (a 612 KB .docx held 190 MB of XML), and
a parser that builds the whole tree holds many times that in memory. So:

- ``open_zip`` refuses an archive with more entries than a document has before ``zipfile`` reads
  its directory (opening one with 200,000 empty entries alone took 2.5 s and 116 MB);
- ``member_chunks`` refuses a member whose declared size is over the limit before unpacking a
  byte (``zipfile`` never unpacks more than the declared size), and one with more tags than a
  real part after a first pass that only unpacks and counts them (in C, about ten times faster
  than parsing them), so a flood of markup is refused before the parser starts;
- ``xml_events`` feeds the XML to lxml's pull parser a chunk at a time, refuses any DTD (no
  entity expansion, the defusedxml rule: REFI-QDA and Word files never declare one), and stops
  once the tree the caller has not yet cleared holds more elements than any real document keeps
  open at once, when the part has more tags than a real one (the parser's time goes with
  them), or when the first half megabyte brings no element the caller asked for.

Callers clear what they have read (``element.clear()``) so that the tree stays small. Every
limit raises ``LimitExceeded`` (or lxml's ``XMLSyntaxError`` for broken XML); callers turn those
into messages for the researcher. Pure Python: no Django.
"""

import io
import zipfile
from collections.abc import Iterable, Iterator

from lxml import etree

CHUNK_BYTES = 64 * 1024
# A Word document has about 10 to 30 entries; a REFI-QDA project one per source plus a few.
MAX_MEMBERS = 10_000
# Elements the caller may keep in its tree at once: far above a real paragraph (NVivo writes
# about 25) or a codebook being read, far below what hurts (lxml needs ~100 bytes for each).
MAX_OPEN_ELEMENTS = 100_000
# Tags ("<") in one XML part: the parser's time goes with them, not with bytes (about 0.8 µs a
# tag). NVivo writes about 600,000 for 585 KB of text (18 MB), some ten hours of interview; a
# crafted part reaches 8 million in 49 MB. A million keeps the costliest part any limit lets
# through under a second of parsing.
MAX_TAGS = 1_000_000
# How often (in bytes fed) the size of that tree is checked (in C, by XPath). Between two
# checks at most this many bytes of markup are added, so the tree never passes a few tens of MB.
_CHECK_EVERY = 512 * 1024
_CENTRAL_DIRECTORY_ENTRY = b"PK\x01\x02"
_COUNT_ELEMENTS = etree.XPath("count(//*)")


class LimitExceeded(ValueError):
    """A limit was passed; the message says which, in words for the researcher."""


class UnsafeXML(ValueError):
    """The XML declares a DTD (entities could expand it, or point at files or URLs)."""


def open_zip(data: bytes, *, max_members: int = MAX_MEMBERS) -> zipfile.ZipFile:
    """The archive; ``zipfile.BadZipFile`` if it is not one, ``LimitExceeded`` if it has more
    entries than any document (each entry has a central-directory header with this signature,
    so counting it bounds what ``zipfile`` would build before it builds anything)."""
    if data.count(_CENTRAL_DIRECTORY_ENTRY) > max_members:
        raise LimitExceeded(f"it holds more than {max_members:,} files")
    return zipfile.ZipFile(io.BytesIO(data))


def member_chunks(
    archive: zipfile.ZipFile, name: str, *, max_bytes: int, max_tags: int | None = MAX_TAGS
) -> Iterator[bytes]:
    """The unpacked bytes of one member, a chunk at a time, never more than ``max_bytes``.

    Checking the declared size is enough: ``zipfile`` stops unpacking there, and a member that
    holds more than its header says fails its CRC check (``BadZipFile``). With ``max_tags``
    the member is unpacked once to count its tags, at the call, before any chunk is returned.
    """
    info = archive.getinfo(name)
    if info.file_size > max_bytes:
        raise LimitExceeded(_too_large(name, info.file_size, max_bytes))
    if max_tags is not None:
        tags = 0
        for chunk in _unpacked(archive, info):
            tags += chunk.count(b"<")
            if tags > max_tags:
                raise LimitExceeded(_too_many_tags(max_tags))
    return _unpacked(archive, info)


def _unpacked(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    with archive.open(info) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            yield chunk


def read_member(archive: zipfile.ZipFile, name: str, *, max_bytes: int) -> bytes:
    return b"".join(member_chunks(archive, name, max_bytes=max_bytes, max_tags=None))


def byte_chunks(
    data: bytes, *, max_bytes: int, what: str, max_tags: int | None = MAX_TAGS
) -> Iterator[bytes]:
    """A plain (not zipped) XML file, fed the same way as a ZIP member."""
    if len(data) > max_bytes:
        raise LimitExceeded(_too_large(what, len(data), max_bytes))
    if max_tags is not None and data.count(b"<") > max_tags:
        raise LimitExceeded(_too_many_tags(max_tags))
    return _sliced(data)


def _sliced(data: bytes) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), CHUNK_BYTES):
        yield bytes(view[start : start + CHUNK_BYTES])


def xml_event_batches(
    chunks: Iterable[bytes],
    *,
    events: tuple[str, ...] = ("start", "end"),
    tag=None,
    max_open_elements: int = MAX_OPEN_ELEMENTS,
    max_tags: int = MAX_TAGS,
) -> Iterator[list[tuple[str, etree._Element]]]:
    """The ``(event, element)`` pairs of lxml's ``iterparse``, from XML fed in chunks: one list
    per chunk (a caller with millions of small elements loops over each list itself).

    ``tag`` filters the events in C, so elements nobody asked about cost no Python time; the
    tree is watched from the first event on, so one must come early (include the root's tag).
    The caller may stop at any point (nothing more is read then), and should clear what it
    has read before asking for the next list: the open tree is counted in between.
    """
    parser = etree.XMLPullParser(
        events=events,
        tag=tag,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,  # libxml2's own caps: depth, text node size, entity amplification
        remove_comments=True,
        remove_pis=True,
    )
    root = None
    fed = fed_at_check = tags = 0
    for chunk in chunks:
        tags += chunk.count(b"<")  # counted in C before the chunk is parsed
        if tags > max_tags:
            raise LimitExceeded(_too_many_tags(max_tags))
        parser.feed(chunk)
        fed += len(chunk)
        batch = list(parser.read_events())
        if batch:
            root = root if root is not None else _checked_root(batch[0][1])
            yield batch
        if fed - fed_at_check < _CHECK_EVERY:
            continue
        fed_at_check = fed
        if root is None:
            raise LimitExceeded("its XML does not start with an element this reader knows")
        if _COUNT_ELEMENTS(root) > max_open_elements:
            raise LimitExceeded(f"its XML holds more than {max_open_elements:,} elements at once")
    parser.close()
    batch = list(parser.read_events())
    if batch:
        if root is None:
            _checked_root(batch[0][1])
        yield batch


def xml_events(chunks: Iterable[bytes], **options) -> Iterator[tuple[str, etree._Element]]:
    """The same events one at a time (see ``xml_event_batches``)."""
    for batch in xml_event_batches(chunks, **options):
        yield from batch


def _checked_root(element) -> etree._Element:
    tree = element.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise UnsafeXML("it declares a DTD (<!DOCTYPE …>)")
    return tree.getroot()


def _too_many_tags(limit: int) -> str:
    return f"it has more than {limit:,} XML tags"


def _too_large(name: str, size: int, limit: int) -> str:
    return f"{name} unpacks to {_megabytes(size)} MB (the limit is {_megabytes(limit)} MB)"


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.1f}".removesuffix(".0") if value < 10 else f"{value:.0f}"
