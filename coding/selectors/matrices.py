"""Reading the matrices: code co-occurrence, code or theme × case, and cross-tabulations of
themes over dimensions.

Which codings a matrix counts (a ``Source``): the consensus layer by default, or one coder's
submitted layers. Blindness holds as everywhere (``coding/selectors/blindness.py``): a viewer
still coding blind on any transcript of the study sees their own layers only (no consensus, no
colleague), a coder's layers are offered only where the viewer may see them, codes hidden from
the viewer never appear, and withdrawn participants' transcripts are left out of every count.

Speed: each matrix reads plain tuples with ``values_list`` (or counts grouped in the database)
in a fixed number of queries, whatever the number of codings; co-occurrence is one sweep per
transcript (``coding/matrices/cooccurrence.py``).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Prefetch, QuerySet
from django.urls import NoReverseMatch, reverse

from coding.matrices.cooccurrence import Tally, transcript_tally
from coding.matrices.scale import bucket
from coding.models import (
    Code,
    CodeKind,
    CodeStatus,
    Coding,
    ConsensusCoding,
    LayerStatus,
    MatrixCellNote,
)
from coding.selectors.blindness import Viewer
from transcripts.models import Case, Participant, Transcript, Utterance
from transcripts.selectors.transcripts import analysable_transcripts
from workbench.models import Dimension, DimensionValue, ResearchQuestion

CONSENSUS = "consensus"


# --- sources: whose codings a matrix counts -------------------------------------------------


@dataclass(frozen=True)
class Source:
    key: str  # "consensus" or "coder-<user id>"
    label: str
    coder_id: int | None = None

    @property
    def is_consensus(self) -> bool:
        return self.coder_id is None


def sources(viewer: Viewer) -> list[Source]:
    """The sources ``viewer`` may choose, the default first (two queries)."""
    blind = bool(viewer.pairs)
    layers = viewer.layers().order_by().values_list("coder_id", "status").distinct()
    coders = set()
    for coder_id, status in layers:
        if coder_id == viewer.user.pk or (not blind and status == LayerStatus.SUBMITTED):
            coders.add(coder_id)
    found = [] if blind else [Source(CONSENSUS, "Consensus layer")]
    if coders:
        names = get_user_model().objects.filter(pk__in=coders).order_by("username")
        for user in names:
            mine = " (your layers)" if user.pk == viewer.user.pk else " (submitted layers)"
            found.append(Source(f"coder-{user.pk}", user.get_username() + mine, user.pk))
    # A blind viewer's own layers come first: they are all such a viewer may read.
    found.sort(key=lambda s: not (s.is_consensus or s.coder_id == viewer.user.pk))
    return found


def source_of(options: list[Source], key: str | None) -> Source | None:
    for option in options:
        if option.key == key:
            return option
    return options[0] if options else None


def _codings(viewer: Viewer, source: Source) -> QuerySet:
    """The source's codings, as a queryset with a ``transcript_id``-like field ``t``."""
    if source.is_consensus:
        # The transcripts' ids first: inside the query, the consent conditions would be
        # worked out again for each of 100,000 codings.
        ids = list(analysable_transcripts(viewer.study).values_list("pk", flat=True))
        qs = ConsensusCoding.objects.filter(transcript_id__in=ids)
        return qs.order_by().annotate(t=F("transcript_id"))
    layers = viewer.layers().filter(coder_id=source.coder_id)
    if source.coder_id != viewer.user.pk:
        layers = layers.filter(status=LayerStatus.SUBMITTED)
    return Coding.objects.filter(layer__in=layers).order_by().annotate(t=F("layer__transcript"))


def _visible_codes(viewer: Viewer) -> dict[int, Code]:
    return {code.pk: code for code in viewer.codes().order_by("position", "id")}


# --- co-occurrence --------------------------------------------------------------------------

OVERLAP, TURN = "overlap", "turn"
COUNT, JACCARD = "count", "jaccard"


@dataclass
class Cell:
    value: float
    text: str
    heat: int = 0
    diagonal: bool = False
    label: str = ""


@dataclass
class CoMatrix:
    codes: list[Code]
    rows: list[tuple[Code, list[Cell]]]
    definition: str
    measure: str
    codings: int


def cooccurrence(viewer: Viewer, source: Source, *, definition=OVERLAP, measure=COUNT):
    """Codes × codes over the source's codings: pairs of codings that co-occur (overlap, or
    share a turn), or the Jaccard index of the text (characters or turns) they cover."""
    codes = _visible_codes(viewer)
    rows = (
        _codings(viewer, source)
        .filter(code_id__in=list(codes))
        .values_list("t", "code_id", "start", "end")
        .order_by("t")
    )
    turns: dict[int, list[int]] = {}
    if definition == TURN:
        ids = analysable_transcripts(viewer.study).values_list("pk", flat=True)
        utterances = Utterance.objects.filter(transcript_id__in=list(ids)).order_by(
            "transcript_id", "start"
        )
        for transcript_id, group in groupby(
            utterances.values_list("transcript_id", "start"), key=itemgetter(0)
        ):
            turns[transcript_id] = [start for _, start in group]
    tally, total = Tally(), 0
    for transcript_id, group in groupby(rows.iterator(chunk_size=5000), key=itemgetter(0)):
        items = [(code, start, end) for _, code, start, end in group]
        total += len(items)
        starts = turns.get(transcript_id, []) if definition == TURN else None
        transcript_tally(items, turn_starts=starts, into=tally)
    used = [code for pk, code in codes.items() if tally.codings.get(pk)]
    matrix = []
    for a in used:
        cells = []
        for b in used:
            if measure == JACCARD:
                value = tally.jaccard(a.pk, b.pk)
                text = f"{value:.2f}"
            else:
                value = tally.count(a.pk, b.pk)
                text = str(value)
            label = (
                f"{a.name}: {text} codings" if a.pk == b.pk else f"{a.name} with {b.name}: {text}"
            )
            cells.append(Cell(value, text, diagonal=a.pk == b.pk, label=label))
        matrix.append((a, cells))
    off_diagonal = [c.value for _, cells in matrix for c in cells if not c.diagonal]
    top = max(off_diagonal, default=0)
    for _, cells in matrix:
        for cell in cells:
            cell.heat = 0 if cell.diagonal else bucket(cell.value, top)
    return CoMatrix(used, matrix, definition, measure, total)


# --- code or theme × case ------------------------------------------------------------------

CODES, THEMES = "codes", "themes"
NO_CASE = 0  # the column of participants linked to no case


@dataclass
class CaseCell:
    codings: int
    participants: int
    heat: int
    case: Case | None
    url: str | None = None
    note: MatrixCellNote | None = None


@dataclass
class CaseRow:
    code: Code
    cells: list[CaseCell]
    codings: int = 0
    participants: int = 0


@dataclass
class CaseMatrix:
    cases: list[Case | None]
    rows: list[CaseRow]
    kind: str
    with_notes: bool
    totals: list[int] = field(default_factory=list)


def segments_url(study, code: Code, case: Case | None) -> str | None:
    """The retrieval page for ``code``'s segments in ``case``; None where retrieval is not
    (yet) part of the application."""
    try:
        url = reverse("retrieval", kwargs={"study_slug": study.slug, "ref": code.public_id})
    except NoReverseMatch:
        return None
    return f"{url}?case={case.pk}" if case is not None else url


def _row_members(viewer: Viewer, codes: dict[int, Code], kind: str) -> dict[int, set[int]]:
    """Row code pk → the code pks whose codings count in that row: a code itself; a theme, its
    own codings and those of its member codes (home or ``also_in``)."""
    if kind == CODES:
        return {pk: {pk} for pk, code in codes.items() if code.kind == CodeKind.CODE}
    members = {pk: {pk} for pk, code in codes.items() if code.kind == CodeKind.THEME}
    for pk, code in codes.items():
        if code.parent_id in members:
            members[code.parent_id].add(pk)
    also = Code.also_in.through.objects.filter(from_code__study=viewer.study)
    for member, theme in also.values_list("from_code_id", "to_code_id"):
        if theme in members and member in codes:
            members[theme].add(member)
    return members


def case_matrix(viewer: Viewer, source: Source, *, kind=CODES) -> CaseMatrix:
    """Codes (or themes) × cases: codings and participants per cell, a link to the segments,
    and, on the consensus layer, the cell's summary note."""
    study = viewer.study
    codes = _visible_codes(viewer)
    members = _row_members(viewer, codes, kind)
    of_participant = dict(
        Participant.objects.filter(study=study).values_list("id", "case_id").order_by()
    )
    # Grouped by transcript in the database (no join over 100,000 codings), then each
    # transcript's participant and case looked up here.
    counted = (
        _codings(viewer, source)
        .filter(code_id__in=list(codes))
        .values_list("code_id", "t")
        .annotate(n=Count("id"))
        .order_by()
    )
    participant_of = dict(
        Transcript.objects.filter(study=study).values_list("id", "participant_id").order_by()
    )
    by_code: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for code_id, transcript_id, n in counted:
        participant_id = participant_of[transcript_id]
        case_id = of_participant.get(participant_id) or NO_CASE
        by_code[code_id].append((case_id, participant_id, n))
    cases: list[Case | None] = list(Case.objects.filter(study=study).order_by("name", "id"))
    used_no_case = any(case == NO_CASE for found in by_code.values() for case, _, _ in found)
    if used_no_case:
        cases.append(None)
    notes = {}
    if source.is_consensus:
        notes = {
            (n.code_id, n.case_id): n
            for n in MatrixCellNote.objects.filter(
                study=study, code_id__in=list(members)
            ).select_related("written_by")
        }
    rows = []
    for row_pk, member_pks in members.items():
        codings: dict[int, int] = defaultdict(int)
        people: dict[int, set[int]] = defaultdict(set)
        for member in member_pks:
            for case_id, participant_id, n in by_code.get(member, ()):
                codings[case_id] += n
                people[case_id].add(participant_id)
        code = codes[row_pk]
        cells = []
        for case in cases:
            case_id = case.pk if case is not None else NO_CASE
            cell = CaseCell(codings[case_id], len(people[case_id]), 0, case)
            if cell.codings:
                cell.url = segments_url(study, code, case)
            if case is not None:
                cell.note = notes.get((row_pk, case.pk))
            cells.append(cell)
        everyone = set().union(*people.values()) if people else set()
        rows.append(CaseRow(code, cells, sum(codings.values()), len(everyone)))
    if kind == CODES:
        # Retired codes stay only where they still hold codings.
        rows = [r for r in rows if r.codings or r.code.status != CodeStatus.RETIRED]
    top = max((c.codings for r in rows for c in r.cells), default=0)
    for row in rows:
        for cell in row.cells:
            cell.heat = bucket(cell.codings, top)
    totals = [sum(r.cells[i].codings for r in rows) for i in range(len(cases))]
    return CaseMatrix(cases, rows, kind, source.is_consensus, totals)


def cell_of(viewer: Viewer, code_ref: str, case_pk: int) -> tuple[Code, Case] | None:
    """The row code (a code or theme the viewer may see) and case a cell note belongs to."""
    code = viewer.codes().filter(public_id=code_ref).first()
    case = Case.objects.filter(study=viewer.study, pk=case_pk).first()
    if code is None or case is None or code.kind == CodeKind.CATEGORY:
        return None
    return code, case


# --- cross-tabulation of themes over dimensions -------------------------------------------

NOT_SET = "not set"


@dataclass
class CrossCell:
    themes: list[Code]
    heat: int = 0


@dataclass
class CrossTab:
    dimensions: list[Dimension]
    row: Dimension | None
    column: Dimension | None
    page: Dimension | None
    page_value: DimensionValue | None
    research_question: ResearchQuestion | None
    row_labels: list[str]
    column_labels: list[str]
    cells: list[list[CrossCell]]
    questions: list[ResearchQuestion]
    themes: int = 0

    @property
    def rows(self):
        return list(zip(self.row_labels, self.cells, strict=True))


def _dimension(dimensions, pk):
    return next((d for d in dimensions if d.pk == pk), None)


def crosstab(viewer: Viewer, *, row=None, column=None, page_value=None, rq=None):
    """Which themes fall in each cell of row dimension × column dimension, optionally only
    themes with one value of a third dimension and answering one research question (a theme
    answers the questions mapped to it or to its category)."""
    study = viewer.study
    dimensions = list(
        Dimension.objects.filter(study=study)
        .order_by("position", "id")
        .prefetch_related(
            Prefetch("values", queryset=DimensionValue.objects.order_by("position", "id"))
        )
    )
    questions = list(ResearchQuestion.objects.filter(study=study).order_by("position", "id"))
    row_dim = _dimension(dimensions, row) or (dimensions[0] if dimensions else None)
    others = [d for d in dimensions if d != row_dim]
    column_dim = _dimension(others, column) or (others[0] if others else None)
    # The page: one value of a third dimension (the value names its dimension).
    page_dim = chosen_value = None
    for dimension in dimensions:
        if dimension not in (row_dim, column_dim):
            for value in dimension.values.all():
                if value.pk == page_value:
                    page_dim, chosen_value = dimension, value
    question = next((q for q in questions if q.pk == rq), None)
    themes = (
        viewer.codes()
        .filter(kind=CodeKind.THEME)
        .exclude(status=CodeStatus.RETIRED)
        .order_by("position", "id")
        .prefetch_related("dimension_values", "research_questions", "parent__research_questions")
    )
    if row_dim is None or column_dim is None:
        return CrossTab(
            dimensions, row_dim, column_dim, None, None, question, [], [], [], questions
        )
    row_values = list(row_dim.values.all())
    column_values = list(column_dim.values.all())
    grid = [
        [CrossCell([]) for _ in range(len(column_values) + 1)] for _ in range(len(row_values) + 1)
    ]
    shown = 0
    for theme in themes:
        values = {v.pk for v in theme.dimension_values.all()}
        if question is not None:
            answers = {q.pk for q in theme.research_questions.all()}
            if theme.parent is not None:
                answers |= {q.pk for q in theme.parent.research_questions.all()}
            if question.pk not in answers:
                continue
        if chosen_value is not None and chosen_value.pk not in values:
            continue
        rows_hit = [i for i, v in enumerate(row_values) if v.pk in values] or [len(row_values)]
        cols_hit = [j for j, v in enumerate(column_values) if v.pk in values] or [
            len(column_values)
        ]
        shown += 1
        for i in rows_hit:
            for j in cols_hit:
                grid[i][j].themes.append(theme)
    # The "not set" row and column appear only when some theme lacks a value there.
    keep_rows = [i for i in range(len(row_values))] + (
        [len(row_values)] if any(c.themes for c in grid[len(row_values)]) else []
    )
    keep_cols = [j for j in range(len(column_values))] + (
        [len(column_values)] if any(r[len(column_values)].themes for r in grid) else []
    )
    cells = [[grid[i][j] for j in keep_cols] for i in keep_rows]
    top = max((len(c.themes) for r in cells for c in r), default=0)
    for r in cells:
        for c in r:
            c.heat = bucket(len(c.themes), top)
    labels = [v.label for v in row_values] + [NOT_SET]
    column_labels = [v.label for v in column_values] + [NOT_SET]
    return CrossTab(
        dimensions,
        row_dim,
        column_dim,
        page_dim,
        chosen_value,
        question,
        [labels[i] for i in keep_rows],
        [column_labels[j] for j in keep_cols],
        cells,
        questions,
        shown,
    )


# --- the same matrices as spreadsheet grids (coding/formats/matrices.py writes them) --------


def cooccurrence_grid(found: CoMatrix) -> list[list]:
    measure = "Jaccard" if found.measure == JACCARD else "Codings"
    by = "overlapping" if found.definition == OVERLAP else "sharing a turn"
    grid = [[f"{measure} ({by})", *(code.name for code in found.codes)]]
    for code, cells in found.rows:
        grid.append([code.name, *(round(c.value, 4) for c in cells)])
    return grid


def case_grid(found: CaseMatrix) -> list[list]:
    names = [case.name if case is not None else "No case" for case in found.cases]
    header = ["Theme" if found.kind == THEMES else "Code"]
    for name in names:
        header += [f"{name}: codings", f"{name}: participants"]
        if found.with_notes:
            header.append(f"{name}: note")
    header += ["Total codings", "Total participants"]
    grid = [header]
    for row in found.rows:
        line = [row.code.name]
        for cell in row.cells:
            line += [cell.codings, cell.participants]
            if found.with_notes:
                line.append(cell.note.text if cell.note else "")
        grid.append([*line, row.codings, row.participants])
    return grid


def crosstab_grid(found: CrossTab) -> list[list]:
    if found.row is None or found.column is None:
        return [["Add two dimensions to the research design to cross-tabulate themes."]]
    grid = [[f"{found.row.name} \\ {found.column.name}", *found.column_labels]]
    for label, cells in zip(found.row_labels, found.cells, strict=True):
        grid.append([label, *("; ".join(t.name for t in c.themes) for c in cells)])
    return grid
