"""Retrieval: every coded segment behind a code, a theme or a category, with its words in context.

A theme collects its member codes (its children, and codes linked to it through ``also_in``), a
category its themes and their members; the target itself counts too (a passage coded with the
theme directly). Segments come from the consensus layer by default, or from one coder's layer.

Blindness: a coder's layer is read through ``Viewer.layers`` (visible layers only; another
coder's only once submitted), and the consensus through ``Viewer.consensus_transcripts`` (the
one rule, in ``coding/selectors/blindness.py``): a coder whose layer was reopened codes blind
again. Withdrawn participants are left out with their transcripts
(``visible_layers_in_study`` and ``analysable_transcripts``).

Query counts do not grow with data: the codebook is read once (three queries), the page's rows
in one query with their context cut out by the database (the transcripts' texts are never
loaded whole, nor read for rows off the page), their turns by correlated subqueries.
"""

from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, Substr

from coding.models import Code, CodeKind, Coding, ConsensusCoding, Layer, LayerStatus
from coding.selectors.blindness import Viewer
from transcripts.models import Attribute, AttributeKind, Case, Participant, Transcript, Utterance
from transcripts.selectors.attributes import display
from transcripts.selectors.transcripts import analysable_transcripts
from workbench.models import DimensionValue

CONSENSUS = "consensus"
CONTEXT = 160  # characters read either side of a segment; trimmed to words and the turn
WORDS_SHOWN = 90  # characters of context shown either side, at most
PER_PAGE = 50
SORTS = {
    "position": ("Transcript order", ("participant_code", "title", "transcript_id", "start")),
    "code": ("Code", ("code__name", "participant_code", "title", "start")),
    "participant": ("Participant", ("participant_code", "title", "start")),
    "longest": ("Longest first", ("-length", "participant_code", "start")),
    "exemplar": ("Exemplars first", ("-exemplar", "participant_code", "title", "start")),
}


# --- the codebook around the target ------------------------------------------------------------


@dataclass
class Codebook:
    """The study's codes as the viewer may see them, with parents, extra themes and dimension
    values (three queries)."""

    codes: dict[int, Code]
    also_in: dict[int, set[int]]  # code -> the themes it also belongs to
    dimensions: dict[int, list[DimensionValue]]  # code -> its own dimension values

    def by_ref(self, ref: str) -> Code | None:
        return next((c for c in self.codes.values() if c.public_id == ref), None)

    def members(self, target: Code) -> list[Code]:
        """The codes whose segments a target collects: itself, its children, codes linked to it
        through ``also_in``, and (for a category) the same for each of its themes."""
        wanted = {target.pk}
        frontier = {target.pk}
        while frontier:
            children = {c.pk for c in self.codes.values() if c.parent_id in frontier}
            linked = {pk for pk, themes in self.also_in.items() if themes & frontier}
            frontier = (children | linked) - wanted
            wanted |= frontier
        return sorted((self.codes[pk] for pk in wanted), key=lambda c: (c.position, c.pk))

    def lineage(self, code_id: int) -> list[int]:
        """A code, its home theme and category, and the themes it also belongs to (with theirs):
        whose dimension values describe its segments."""
        seen: list[int] = []
        todo = [code_id]
        while todo:
            pk = todo.pop()
            if pk in seen or pk not in self.codes:
                continue
            seen.append(pk)
            code = self.codes[pk]
            todo += [p for p in [code.parent_id, *self.also_in.get(pk, ())] if p is not None]
        return seen

    def dimension_values(self, code_id: int) -> list[DimensionValue]:
        values = {v.pk: v for pk in self.lineage(code_id) for v in self.dimensions.get(pk, [])}
        return sorted(values.values(), key=lambda v: (v.dimension.position, v.position, v.pk))


def codebook(viewer: Viewer) -> Codebook:
    codes = {c.pk: c for c in viewer.codes().order_by("position", "id")}
    also_in: dict[int, set[int]] = {}
    for code_id, theme_id in Code.also_in.through.objects.filter(
        from_code__study=viewer.study
    ).values_list("from_code_id", "to_code_id"):
        also_in.setdefault(code_id, set()).add(theme_id)
    dimensions: dict[int, list[DimensionValue]] = {}
    through = Code.dimension_values.through.objects.filter(code__study=viewer.study)
    for row in through.select_related("dimensionvalue__dimension"):
        dimensions.setdefault(row.code_id, []).append(row.dimensionvalue)
    return Codebook(codes=codes, also_in=also_in, dimensions=dimensions)


# --- whose segments the viewer may read ---------------------------------------------------------


def coder_layers(viewer: Viewer, coder_id: int) -> QuerySet[Layer]:
    """A coder's layers the viewer may read: submitted ones, and the viewer's own at any stage."""
    return viewer.layers().filter(
        Q(coder_id=coder_id),
        Q(status=LayerStatus.SUBMITTED) | Q(coder_id=viewer.user.pk),
    )


def coders(viewer: Viewer) -> list[tuple[int, str]]:
    """The coders whose layers the viewer may choose (one query)."""
    rows = (
        viewer.layers()
        .filter(Q(status=LayerStatus.SUBMITTED) | Q(coder_id=viewer.user.pk))
        .values_list("coder_id", "coder__first_name", "coder__last_name", "coder__username")
        .distinct()
    )
    named = {pk: (f"{first} {last}".strip() or username) for pk, first, last, username in rows}
    return sorted(named.items(), key=lambda item: item[1].casefold())


# --- filters ------------------------------------------------------------------------------------


@dataclass
class Filters:
    """What the reader narrowed the segments to; all from the query string."""

    layer: str = CONSENSUS  # "consensus" or a coder's user id
    transcript: int | None = None
    case: int | None = None  # a case's id (the matrices link their cells here)
    attributes: dict[int, str] = field(default_factory=dict)  # attribute id -> option
    dimension_value: int | None = None
    exemplar: bool = False
    sort: str = "position"

    @classmethod
    def of(cls, params) -> "Filters":
        def number(key):
            value = params.get(key, "")
            return int(value) if value.isdigit() else None

        attributes = {}
        for key, value in params.items():
            if key.startswith("a") and key[1:].isdigit() and value:
                attributes[int(key[1:])] = value
        layer = params.get("layer", CONSENSUS)
        return cls(
            layer=layer if layer == CONSENSUS or layer.isdigit() else CONSENSUS,
            transcript=number("transcript"),
            case=number("case"),
            attributes=attributes,
            dimension_value=number("dimension_value"),
            exemplar=params.get("exemplar") == "1",
            sort=params.get("sort") if params.get("sort") in SORTS else "position",
        )

    @property
    def coder_id(self) -> int | None:
        return None if self.layer == CONSENSUS else int(self.layer)

    def query(self, **changes) -> dict:
        """The filters as query parameters (for links: pages, exports, sorting)."""
        params = {"layer": self.layer, "sort": self.sort}
        if self.transcript:
            params["transcript"] = self.transcript
        if self.case:
            params["case"] = self.case
        if self.dimension_value:
            params["dimension_value"] = self.dimension_value
        if self.exemplar:
            params["exemplar"] = "1"
        params |= {f"a{pk}": value for pk, value in self.attributes.items()}
        params |= changes
        return {k: v for k, v in params.items() if v not in (None, "")}


def filter_attributes(study) -> list[Attribute]:
    """Attributes a reader can filter by: those with options (choice and multiple choice)."""
    kinds = [AttributeKind.CHOICE, AttributeKind.MULTI]
    return list(Attribute.objects.filter(study=study, kind__in=kinds))


def _holders(model, study, attribute: Attribute, option: str) -> list[int]:
    """Ids of the participants or cases whose ``attribute`` holds ``option`` (few rows: read and
    compared here, the same on every database)."""
    key = str(attribute.pk)
    ids = []
    for pk, values in model.objects.filter(study=study).values_list("pk", "attributes"):
        value = (values or {}).get(key)
        if value == option or (isinstance(value, list) and option in value):
            ids.append(pk)
    return ids


# --- segments -----------------------------------------------------------------------------------


@dataclass
class Segment:
    """One coded segment as the retrieval page and the exports show it."""

    kind: str  # "consensus" or "coding"
    ref: str  # the consensus coding's pk, or the coding's public id
    code: Code
    transcript_id: int
    title: str
    language: str
    start: int
    end: int
    before: str
    passage: str
    after: str
    speaker: str
    turn: int | None
    participant: str
    case: str
    attributes: list[tuple[str, str]]
    dimension_values: list[DimensionValue]
    memo: str
    exemplar: bool
    coder: str = ""
    mine: bool = False  # a coding in the viewer's own layer (they may mark it)


def _turn(field_name: str):
    return Subquery(
        Utterance.objects.filter(
            transcript_id=OuterRef("transcript_id"), start__lte=OuterRef("start")
        )
        .order_by("-start")
        .values(field_name)[:1]
    )


def _rows(viewer: Viewer, book: Codebook, members: list[Code], filters: Filters):
    """The filtered segments as a queryset of values (not yet sorted or sliced)."""
    code_ids = [c.pk for c in members]
    if filters.dimension_value:
        code_ids = [
            pk
            for pk in code_ids
            if any(v.pk == filters.dimension_value for v in book.dimension_values(pk))
        ]
    if filters.coder_id is None:
        # The transcripts' ids first (one query): as a subquery, the blindness and consent
        # conditions were worked out again for the count and for the page, and PostgreSQL,
        # expecting one transcript, matched each of 5,000 segments against them in a loop.
        readable = list(viewer.consensus_transcripts().values_list("pk", flat=True))
        rows = ConsensusCoding.objects.filter(transcript_id__in=readable)
        rows = rows.annotate(ref=F("pk"), coder_id=Value(None, output_field=IntegerField()))
    else:
        layers = coder_layers(viewer, filters.coder_id)
        rows = Coding.objects.filter(layer__in=layers).annotate(
            ref=F("public_id"),
            coder_id=F("layer__coder_id"),
            transcript_id=F("layer__transcript_id"),
        )
    transcript = "transcript" if filters.coder_id is None else "layer__transcript"
    rows = rows.filter(code_id__in=code_ids)
    if filters.transcript:
        rows = rows.filter(**{f"{transcript}_id": filters.transcript})
    if filters.case:
        rows = rows.filter(**{f"{transcript}__participant__case_id": filters.case})
    if filters.exemplar:
        rows = rows.filter(exemplar=True)
    return rows, transcript


def _attribute_filter(rows, viewer, filters: Filters, transcript: str, attributes):
    by_pk = {a.pk: a for a in attributes}
    for pk, option in filters.attributes.items():
        attribute = by_pk.get(pk)
        if attribute is None:
            continue
        if attribute.target == "participant":
            ids = _holders(Participant, viewer.study, attribute, option)
            rows = rows.filter(**{f"{transcript}__participant_id__in": ids})
        else:
            ids = _holders(Case, viewer.study, attribute, option)
            rows = rows.filter(**{f"{transcript}__participant__case_id__in": ids})
    return rows


def _text():
    """The segment's transcript text, read by a subquery rather than through the join: the
    database then reads it for the page's rows only, after sorting and LIMIT. Through the join,
    PostgreSQL decompressed the whole text of every matching row to carry it through the sort
    (5,000 texts for a common code: a second per page instead of 60 ms)."""
    return Subquery(Transcript.objects.filter(pk=OuterRef("transcript_id")).values("text")[:1])


def _values(rows, transcript: str):
    text = _text()
    lo = Greatest(F("start") - CONTEXT, Value(0))
    return rows.annotate(
        title=F(f"{transcript}__title"),
        language=F(f"{transcript}__language"),
        participant_code=F(f"{transcript}__participant__code"),
        participant_attributes=F(f"{transcript}__participant__attributes"),
        case_name=Coalesce(F(f"{transcript}__participant__case__name"), Value("")),
        case_attributes=F(f"{transcript}__participant__case__attributes"),
        length=F("end") - F("start"),
        context_start=lo,
        before_text=Substr(text, lo + 1, F("start") - lo),
        passage_text=Substr(text, F("start") + 1, F("end") - F("start")),
        after_text=Substr(text, F("end") + 1, CONTEXT),
        turn_index=_turn("index"),
        turn_start=_turn("start"),
        turn_end=_turn("end"),
        speaker=_turn("speaker"),
    ).values(
        "ref",
        "code_id",
        "coder_id",
        "transcript_id",
        "title",
        "language",
        "participant_code",
        "participant_attributes",
        "case_name",
        "case_attributes",
        "start",
        "end",
        "context_start",
        "before_text",
        "passage_text",
        "after_text",
        "turn_index",
        "turn_start",
        "turn_end",
        "speaker",
        "memo",
        "exemplar",
    )


def words_before(text: str, limit: int = WORDS_SHOWN) -> str:
    """The last words of ``text``: at most ``limit`` characters, cut at a space where there is
    one near the cut (Thai and Chinese have none: they are cut by characters)."""
    if len(text) <= limit:
        return text
    text = text[-limit:]
    space = text.find(" ")
    return text[space + 1 :] if 0 <= space < limit // 3 else text


def words_after(text: str, limit: int = WORDS_SHOWN) -> str:
    """The first words of ``text``, as ``words_before``."""
    if len(text) <= limit:
        return text
    text = text[:limit]
    space = text.rfind(" ")
    return text[:space] if space > limit - limit // 3 else text


def _segment(row, book: Codebook, attributes, names, viewer: Viewer) -> Segment:
    start, end = row["start"], row["end"]
    before, after = row["before_text"] or "", row["after_text"] or ""
    if row["turn_start"] is not None:
        # Context stays within the turn: the words before and after are the same speaker's.
        before = before[max(0, row["turn_start"] - row["context_start"]) :]
        if row["turn_end"] is not None and row["turn_end"] >= end:
            after = after[: row["turn_end"] - end]
    shown = []
    for attribute in attributes:
        source = row[
            "participant_attributes" if attribute.target == "participant" else "case_attributes"
        ]
        value = (source or {}).get(str(attribute.pk))
        if value not in (None, "", []):
            shown.append((attribute.name, display(attribute, value)))
    coder_id = row["coder_id"]
    return Segment(
        kind=CONSENSUS if coder_id is None else "coding",
        ref=str(row["ref"]),
        code=book.codes[row["code_id"]],
        transcript_id=row["transcript_id"],
        title=row["title"],
        language=row["language"],
        start=start,
        end=end,
        before=words_before(before),
        passage=row["passage_text"] or "",
        after=words_after(after),
        speaker=row["speaker"] or "",
        turn=row["turn_index"],
        participant=row["participant_code"],
        case=row["case_name"],
        attributes=shown,
        dimension_values=book.dimension_values(row["code_id"]),
        memo=row["memo"],
        exemplar=row["exemplar"],
        coder=names.get(coder_id, "") if coder_id else "",
        mine=coder_id == viewer.user.pk,
    )


@dataclass
class Retrieval:
    target: Code
    members: list[Code]
    filters: Filters
    segments: list[Segment]
    page: object  # a Django Page (number, paginator.count, has_next, ...)
    coders: list[tuple[int, str]]
    attributes: list[Attribute]
    dimension_values: list[DimensionValue]


def retrieve(
    viewer: Viewer, target: Code, book: Codebook, filters: Filters, page: int | None = 1
) -> Retrieval:
    """One page of segments (``page=None``: all of them, for an export)."""
    members = book.members(target)
    attributes = list(
        Attribute.objects.filter(study=viewer.study).order_by("target", "position", "id")
    )
    choosable = [a for a in attributes if a.kind in (AttributeKind.CHOICE, AttributeKind.MULTI)]
    rows, transcript = _rows(viewer, book, members, filters)
    rows = _attribute_filter(rows, viewer, filters, transcript, choosable)
    rows = _values(rows, transcript).order_by(*SORTS[filters.sort][1], "pk")
    people = coders(viewer)
    names = dict(people)
    if page is None:
        chosen, page_obj = rows, None
    else:
        page_obj = Paginator(rows, PER_PAGE).get_page(page)
        chosen = page_obj.object_list
    segments = [_segment(row, book, attributes, names, viewer) for row in chosen]
    values = {v.pk: v for c in members for v in book.dimension_values(c.pk)}
    return Retrieval(
        target=target,
        members=members,
        filters=filters,
        segments=segments,
        page=page_obj,
        coders=people,
        attributes=choosable,
        dimension_values=sorted(
            values.values(), key=lambda v: (v.dimension.position, v.position, v.pk)
        ),
    )


def transcript_choices(viewer: Viewer) -> list[tuple[int, str]]:
    """The transcripts a reader may narrow to (withdrawn ones are not among them)."""
    rows = (
        analysable_transcripts(viewer.study)
        .order_by("participant__code", "title", "pk")
        .values_list("pk", "participant__code", "title")
    )
    return [(pk, f"{code} · {title}") for pk, code, title in rows]


def case_choices(viewer: Viewer) -> list[tuple[int, str]]:
    """The study's cases, to narrow the segments to one (the matrices link their cells so)."""
    return list(Case.objects.filter(study=viewer.study).order_by("name").values_list("pk", "name"))


def targets(book: Codebook) -> dict[str, list[Code]]:
    """The codebook's codes, themes and categories, for the page's chooser."""
    grouped: dict[str, list[Code]] = {kind: [] for kind in CodeKind.values}
    for code in book.codes.values():
        grouped[code.kind].append(code)
    return grouped
