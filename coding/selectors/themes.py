"""Reading the theme board: research questions → categories → themes → codes, with counts.

Counts come from the consensus layer by default, or from one coder's submitted layers; either
way only from analysable transcripts (a withdrawn participant never counts) and, for a coder's
layers, only layers the viewer may see (``Viewer.layers``, blind coding). Codes hidden from the
viewer (a blind colleague's inductive codes) are not on the board.

The whole board is read in a fixed number of queries, whatever the number of codes, codings or
transcripts: the codes with their links, one grouped count of codings per (code, transcript),
the research questions and the choices of the filters.
"""

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch

from coding.models import (
    BoardMove,
    Code,
    CodeKind,
    CodeStatus,
    Coding,
    ConsensusCoding,
    LayerStatus,
)
from transcripts.selectors.transcripts import analysable_transcripts
from workbench.models import Dimension, DimensionValue, ResearchQuestion

CONSENSUS = "consensus"


@dataclass
class Tally:
    """What a node stands on: codings, and the interviews, participants and cases they are in."""

    codings: int = 0
    transcripts: set = field(default_factory=set)
    participants: set = field(default_factory=set)
    cases: set = field(default_factory=set)

    def add(self, other: "Tally") -> None:
        self.codings += other.codings
        self.transcripts |= other.transcripts
        self.participants |= other.participants
        self.cases |= other.cases

    @property
    def interviews(self) -> int:
        return len(self.transcripts)

    @property
    def n_participants(self) -> int:
        return len(self.participants)

    @property
    def n_cases(self) -> int:
        return len(self.cases)


@dataclass
class Node:
    code: Code
    children: list["Node"] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    also_in: list[Code] = field(default_factory=list)  # a code's further themes
    also_members: list[Code] = field(default_factory=list)  # a theme's codes from elsewhere
    parent: Code | None = None


@dataclass
class Section:
    key: str
    rq: ResearchQuestion | None
    categories: list[Node]
    themes: list[Node]  # themes shown here without their category


@dataclass
class Source:
    value: str
    label: str


@dataclass
class Board:
    sections: list[Section]
    pool: list[Node]  # first-level codes in no theme yet
    themes: list[Code]
    categories: list[Code]
    research_questions: list[ResearchQuestion]
    dimensions: list[Dimension]
    sources: list[Source]
    source: str
    filtered: bool
    node_count: int
    has_codings: bool


def coder_sources(viewer) -> list[Source]:
    """Consensus, then each coder with submitted layers the viewer may see."""
    coders = (
        viewer.layers()
        .filter(status=LayerStatus.SUBMITTED)
        .values_list("coder_id", "coder__username", "coder__first_name", "coder__last_name")
        .distinct()
        .order_by("coder__username")
    )
    sources = [Source(CONSENSUS, "Consensus layer")]
    for pk, username, first, last in coders:
        name = f"{first} {last}".strip() or username
        sources.append(Source(str(pk), f"{name}’s submitted codings"))
    return sources


def _tallies(study, viewer, source: str) -> dict[int, Tally]:
    """Per code: its codings and where they are.

    The analysable transcripts with their participant and case first (one small query), then
    the codings counted per (code, transcript) from the codings table alone (an index on
    (transcript, code) answers it for the consensus). Joining every coding to its participant
    and case, and the consent conditions as a subquery (PostgreSQL expected one transcript and
    sorted 100,000 rows on disk), made this the slowest part of the board."""
    readable = (
        viewer.consensus_transcripts() if source == CONSENSUS else analysable_transcripts(study)
    )
    where = {
        pk: (participant, case)
        for pk, participant, case in readable.order_by().values_list(
            "pk", "participant_id", "participant__case_id"
        )
    }
    if source == CONSENSUS:
        rows = ConsensusCoding.objects.filter(transcript_id__in=list(where))
        transcript = "transcript_id"
    else:
        layers = viewer.layers().filter(status=LayerStatus.SUBMITTED, coder_id=int(source))
        rows = Coding.objects.filter(layer__in=layers)
        transcript = "layer__transcript_id"
    grouped = rows.order_by().values_list("code_id", transcript).annotate(n=Count("id"))
    tallies: dict[int, Tally] = {}
    for code_id, transcript_id, n in grouped:
        if transcript_id not in where:
            continue  # consent withdrawn between the two queries: left out, as everywhere
        participant, case = where[transcript_id]
        tally = tallies.setdefault(code_id, Tally())
        tally.codings += n
        tally.transcripts.add(transcript_id)
        tally.participants.add(participant)
        if case is not None:
            tally.cases.add(case)
    return tallies


def board_codes(viewer) -> list[Code]:
    """The study's codes on the board (not retired, not hidden from the viewer), with links."""
    return list(
        viewer.codes()
        .exclude(status=CodeStatus.RETIRED)
        .prefetch_related(
            Prefetch("research_questions", queryset=ResearchQuestion.objects.order_by("position")),
            Prefetch(
                "dimension_values",
                queryset=DimensionValue.objects.select_related("dimension").order_by(
                    "dimension__position", "position", "id"
                ),
            ),
            Prefetch("also_in", queryset=Code.objects.only("pk", "name", "kind")),
        )
        .order_by("position", "id")
    )


def _theme_passes(code: Code, filters: dict) -> bool:
    if filters.get("status") and code.theme_status != filters["status"]:
        return False
    wanted = set(filters.get("values") or ())
    return wanted <= {value.pk for value in code.dimension_values.all()}


def board(study, viewer, *, source: str = CONSENSUS, filters: dict | None = None) -> Board:
    filters = filters or {}
    sources = coder_sources(viewer)
    if source not in {s.value for s in sources}:
        source = CONSENSUS
    codes = board_codes(viewer)
    tallies = _tallies(study, viewer, source)
    nodes = {code.pk: Node(code=code, tally=tallies.get(code.pk, Tally())) for code in codes}
    for node in nodes.values():
        node.parent = nodes[node.code.parent_id].code if node.code.parent_id in nodes else None
        if node.parent is not None:
            nodes[node.code.parent_id].children.append(node)
        for theme in node.code.also_in.all():
            if theme.pk in nodes:
                node.also_in.append(nodes[theme.pk].code)
                nodes[theme.pk].also_members.append(node.code)
    # Totals: a theme counts its own codings and its member codes'; a category its themes'.
    for kind in (CodeKind.THEME, CodeKind.CATEGORY):
        for node in nodes.values():
            if node.code.kind == kind:
                for child in node.children:
                    node.tally.add(child.tally)

    themes = [n for n in nodes.values() if n.code.kind == CodeKind.THEME]
    categories = [n for n in nodes.values() if n.code.kind == CodeKind.CATEGORY]
    theme_filter = bool(filters.get("status") or filters.get("values"))
    shown = {n.code.pk for n in themes if _theme_passes(n.code, filters)}

    def category_view(node: Node) -> Node | None:
        kept = [c for c in node.children if c.code.kind != CodeKind.THEME or c.code.pk in shown]
        if theme_filter and not any(c.code.kind == CodeKind.THEME for c in kept):
            return None
        return Node(node.code, kept, node.tally, parent=None)

    rqs = list(ResearchQuestion.objects.filter(study=study).order_by("position", "id"))
    sections = []
    for rq in [*rqs, None]:
        if filters.get("rq") and (rq is None or rq.pk != filters["rq"]):
            continue

        def mapped(code: Code, rq=rq) -> bool:
            linked = {r.pk for r in code.research_questions.all()}
            return (rq.pk in linked) if rq is not None else not linked

        in_section = [category_view(n) for n in categories if mapped(n.code)]
        loose = [
            n
            for n in themes
            if n.code.pk in shown
            and mapped(n.code)
            and (n.parent is None or not mapped(n.parent))
            and (rq is not None or n.parent is None)
        ]
        sections.append(
            Section(
                key=f"rq{rq.pk}" if rq else "unmapped",
                rq=rq,
                categories=[n for n in in_section if n is not None],
                themes=loose,
            )
        )
    pool = [n for n in nodes.values() if n.code.kind == CodeKind.CODE and n.code.parent_id is None]
    return Board(
        sections=sections,
        pool=pool,
        themes=[n.code for n in themes],
        categories=[n.code for n in categories],
        research_questions=rqs,
        dimensions=list(
            Dimension.objects.filter(study=study).prefetch_related(
                Prefetch("values", queryset=DimensionValue.objects.order_by("position", "id"))
            )
        ),
        sources=sources,
        source=source,
        filtered=bool(theme_filter or filters.get("rq")),
        node_count=len(nodes),
        has_codings=bool(tallies),
    )


def board_code(viewer, ref: str) -> Code | None:
    """A code on the board by public id, as the viewer may see it."""
    return viewer.codes().filter(public_id=ref).select_related("parent", "study").first()


def last_move(study) -> BoardMove | None:
    return BoardMove.objects.filter(study=study, undone_at__isnull=True).first()


@dataclass
class Menu:
    """What one node's "Move…" menu offers."""

    code: Code
    themes: list[Code]  # every theme on the board, for a code to move into or also belong to
    categories: list[Code]  # every category, for a theme to move into or a code to become one in
    also_in: list[Code]  # a code's further themes
    index: int  # its place among its siblings (0-based), for "Move up" and "Move down"
    last: bool


def node_menu(viewer, code: Code) -> Menu:
    """The "Move…" menu of ``code``, read when it is opened (three queries, whatever the size
    of the board). Listing every theme or category in every node's menu on the board itself
    had made the board's page ~900 KB and most of its time at 80 codes.

    Its place counts the siblings the viewer sees, as the board shows them (a code hidden from
    the viewer must not show through a "Move down" that is not disabled)."""
    on_board = viewer.codes().exclude(status=CodeStatus.RETIRED).order_by("position", "id")
    places = list(
        on_board.filter(kind__in=[CodeKind.THEME, CodeKind.CATEGORY]).only(
            "pk", "public_id", "name", "kind"
        )
    )
    siblings = list(
        on_board.filter(parent_id=code.parent_id, kind=code.kind).values_list("pk", flat=True)
    )
    index = siblings.index(code.pk) if code.pk in siblings else len(siblings)
    themes = [c for c in places if c.kind == CodeKind.THEME]
    also_in = []
    if code.kind == CodeKind.CODE:
        shown = {c.pk for c in themes}
        also_in = [t for t in code.also_in.order_by("position", "id") if t.pk in shown]
    return Menu(
        code=code,
        themes=themes,
        categories=[c for c in places if c.kind == CodeKind.CATEGORY],
        also_in=also_in,
        index=index,
        last=index >= len(siblings) - 1,
    )
