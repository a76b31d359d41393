"""Reads that shape codebook querysets. Query counts here do not grow with the number of codes."""

import difflib
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value

from coding.models import CODE_PALETTE, Code, CodeVersion
from workbench.models import DimensionValue, GuideQuestion

DIFF_FIELDS = ("name", "definition", "when_to_use", "when_not_to_use", "example")


def next_colour(study, hidden=None) -> str:
    """The colour for the study's next code: the first palette colour no code of it uses.

    Once all are taken, the least used one (the earliest of those in palette order), so colours
    repeat as evenly as they can. Retired codes count; codes matching ``hidden`` (a blind
    colleague's inductive codes, ``Viewer.hidden_codes``) do not: skipping their colours would
    tell the viewer they exist.
    """
    codes = Code.objects.filter(study=study)
    if hidden is not None:
        codes = codes.exclude(hidden)
    used: dict[str, int] = {}
    for colour in codes.values_list("colour", flat=True):
        used[colour.lower()] = used.get(colour.lower(), 0) + 1
    return min(CODE_PALETTE, key=lambda colour: used.get(colour, 0))


def codes(study, layers: QuerySet | None = None, hidden=None) -> QuerySet[Code]:
    """The study's codes with everything a codebook row shows, in three queries.

    ``usage`` counts codings in ``layers`` only — the layers the viewer may see — so a
    coder's counts never reveal a blind colleague's work; without ``layers`` it is 0. Codes
    matching ``hidden`` (a blind colleague's inductive codes, ``Viewer.hidden_codes``) are left
    out.
    """
    usage = (
        Count("codings", filter=Q(codings__layer__in=layers), distinct=True)
        if layers is not None
        else Value(0, output_field=IntegerField())
    )
    qs = Code.objects.filter(study=study)
    targets = Code.objects.filter(pk=OuterRef("merged_into_id"))
    if hidden is not None:
        qs = qs.exclude(hidden)
        targets = targets.exclude(hidden)
    return (
        qs.select_related("parent", "created_by", "first_seen_transcript")
        # A merged code names the code that took its codings (unless that one is hidden).
        .annotate(merged_into_name=Subquery(targets.values("name")[:1]))
        .prefetch_related(
            Prefetch(
                "dimension_values",
                queryset=DimensionValue.objects.select_related("dimension").order_by(
                    "dimension__position", "position", "id"
                ),
            ),
            Prefetch("guide_questions", queryset=GuideQuestion.objects.order_by("position", "id")),
        )
        .annotate(usage=usage)
    )


def codebook(study, filters: dict, layers: QuerySet | None = None, hidden=None) -> list[Code]:
    """Filtered codes in tree order (categories, their themes, their codes), with ``depth``."""
    qs = codes(study, layers, hidden)
    q = (filters.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(definition__icontains=q)
            | Q(when_to_use__icontains=q)
            | Q(when_not_to_use__icontains=q)
            | Q(example__icontains=q)
        )
    for key in ("origin", "status", "kind"):
        if filters.get(key):
            qs = qs.filter(**{key: filters[key]})
    if filters.get("dimension_value"):
        qs = qs.filter(dimension_values=filters["dimension_value"]).distinct()
    return number_guide_questions(study, tree_order(list(qs)))


def number_guide_questions(study, items: list[Code]) -> list[Code]:
    """Give each linked guide question its number in the guide (Q1, Q2…), in one query."""
    numbers = guide_numbers(study)
    for item in items:
        for gq in item.guide_questions.all():
            gq.number = numbers.get(gq.pk)
    return items


def tree_order(items: list[Code]) -> list[Code]:
    present = {code.pk for code in items}
    children: dict[int | None, list[Code]] = {}
    for code in items:
        parent = code.parent_id if code.parent_id in present else None
        children.setdefault(parent, []).append(code)
    ordered: list[Code] = []

    def add(parent, depth):
        for code in children.get(parent, []):
            code.depth = depth
            ordered.append(code)
            add(code.pk, depth + 1)

    add(None, 0)
    return ordered


def code(study, ref: str, layers: QuerySet | None = None, hidden=None) -> Code | None:
    found = list(codes(study, layers, hidden).filter(public_id=ref))
    return number_guide_questions(study, found)[0] if found else None


def guide_numbers(study) -> dict[int, int]:
    """Guide question pk → its number (Q1, Q2…) in guide order."""
    pks = GuideQuestion.objects.filter(study=study).values_list("pk", flat=True)
    return {pk: number for number, pk in enumerate(pks, start=1)}


def parent_choices(study, kind: str, exclude_pk=None) -> QuerySet[Code]:
    from coding.models import PARENT_KIND

    wanted = PARENT_KIND.get(kind)
    if wanted is None:
        return Code.objects.none()
    qs = Code.objects.filter(study=study, kind=wanted)
    return qs.exclude(pk=exclude_pk) if exclude_pk else qs


@dataclass
class FieldDiff:
    field: str
    parts: list[tuple[str, str]]  # (op, text): op is "same", "del" or "ins"


@dataclass
class HistoryEntry:
    version: CodeVersion
    diffs: list[FieldDiff]


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Word-level diff; whitespace kept with the word before it so text reads naturally."""
    import re

    a, b = re.findall(r"\S+\s*|\s+", old or ""), re.findall(r"\S+\s*|\s+", new or "")
    parts: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(("same", "".join(a[i1:i2])))
        else:
            if i2 > i1:
                parts.append(("del", "".join(a[i1:i2])))
            if j2 > j1:
                parts.append(("ins", "".join(b[j1:j2])))
    return parts


def code_history(code: Code) -> list[HistoryEntry]:
    """Each version, newest first, with word diffs of the text fields against the one before."""
    versions = list(code.versions.select_related("changed_by").order_by("number"))
    entries = []
    previous: dict = {}
    for version in versions:
        diffs = []
        for name in DIFF_FIELDS:
            old, new = previous.get(name, ""), version.snapshot.get(name, "")
            if old != new:
                diffs.append(FieldDiff(field=name.replace("_", " "), parts=word_diff(old, new)))
        for name in ("colour", "status", "parent", "guide_questions", "dimension_values"):
            old, new = previous.get(name), version.snapshot.get(name)
            if previous and old != new:
                shown = [", ".join(v) if isinstance(v, list) else (v or "—") for v in (old, new)]
                diffs.append(
                    FieldDiff(
                        field=name.replace("_", " "), parts=[("del", shown[0]), ("ins", shown[1])]
                    )
                )
        entries.append(HistoryEntry(version=version, diffs=diffs))
        previous = version.snapshot
    return entries[::-1]
