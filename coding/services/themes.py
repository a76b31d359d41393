"""Arranging the theme board: first-level codes → themes → categories, mapped to research
questions.

Leads and admins arrange the board. Every operation is atomic and keyword-only, locks the codes
it touches (in primary-key order, so two operations wait for each other instead of
deadlocking), refuses a stale edit (``version``), writes one ``CodeVersion`` per code touched
and one audit event, and leaves a ``BoardMove`` so that it can be undone while nothing depends
on it (every code it touched is still at the version it left). Bad moves (a category under a
code, a theme inside itself, a retired target) raise ``ValidationError`` and change nothing.

Order among siblings (``position``) is presentation: the moved code's new position is part of
its version; the siblings renumbered around it are not versioned (nothing about them changed).
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from coding.models import (
    PARENT_KIND,
    BoardMove,
    ChangeKind,
    Code,
    CodeKind,
    CodeStatus,
    CodeVersion,
    ThemeStatus,
)
from coding.selectors.blindness import hidden_codes
from coding.selectors.saturation import transcript_being_coded
from coding.services.codebook import code_create
from workbench import audit
from workbench.access import member_perms, require
from workbench.models import Study

BOARD_PERMS = ("manage_codebook", "manage_analysis")
FORBIDDEN = "Only the study's leads and admins arrange the theme board."
KIND_WORD = {CodeKind.CODE: "code", CodeKind.THEME: "theme", CodeKind.CATEGORY: "category"}


def _require(actor, study: Study) -> None:
    require(actor, study, *BOARD_PERMS, message=FORBIDDEN)


def _lock(study: Study, pks) -> dict[int, Code]:
    """Lock the study's codes ``pks`` in primary-key order; a missing one is refused."""
    wanted = {pk for pk in pks if pk is not None}
    found = {
        code.pk: code
        for code in Code.objects.select_for_update()
        .filter(study=study, pk__in=wanted)
        .order_by("pk")
    }
    if len(found) != len(wanted):
        raise ValidationError("A code on the board no longer exists; reload the board.")
    return found


def _check_version(code: Code, version: int | None) -> None:
    if version is not None and code.version != version:
        raise ValidationError(
            f"“{code.name}” was changed by someone else since the board was shown. Nothing was "
            "moved; the board now shows the current state.",
            code="stale",
        )


def _state(code: Code) -> dict:
    return {
        "parent": code.parent_id,
        "kind": code.kind,
        "position": code.position,
        "theme_status": code.theme_status,
        "also_in": sorted(code.also_in.values_list("pk", flat=True)),
    }


class _Operation:
    """One board operation: the codes it changed, their versions and the undo record."""

    def __init__(self, actor, study: Study):
        self.actor, self.study = actor, study
        self.entries: list[dict] = []
        self.now = timezone.now()

    def before(self, code: Code) -> dict:
        state = _state(code)
        self.entries.append({"code": code.pk, "before": state})
        return state

    def save(self, code: Code, change: str, note: str = "") -> None:
        code.version += 1
        code.save()
        number = (code.versions.aggregate(m=Max("number"))["m"] or 0) + 1
        actor = self.actor if self.actor is not None and self.actor.is_authenticated else None
        CodeVersion.objects.create(
            code=code,
            number=number,
            change=change,
            changes=[change],
            snapshot=audit.snapshot(code),
            note=note[:300],
            changed_by=actor,
            changed_at=self.now,
            during=transcript_being_coded(actor, code.study_id),
        )
        for entry in self.entries:
            if entry["code"] == code.pk:
                entry["version"] = code.version

    def finish(self, *, verb: str, code: Code, summary: str, before: dict, after: dict):
        audit.record(
            actor=self.actor,
            study=self.study,
            verb=verb,
            obj=code,
            before=before,
            after=after | ({"codes touched": len(self.entries)} if len(self.entries) > 1 else {}),
        )
        actor = self.actor if self.actor is not None and self.actor.is_authenticated else None
        return BoardMove.objects.create(
            study=self.study, summary=summary[:300], verb=verb, entries=self.entries, actor=actor
        )


def _name(code: Code | None, none: str) -> str:
    return f"“{code.name}”" if code is not None else none


def _check_target(code: Code, parent: Code | None) -> None:
    """Refuse a parent that the tree's rules do not allow for ``code``, with a message."""
    if code.status == CodeStatus.RETIRED:
        raise ValidationError(f"“{code.name}” is retired; reactivate it before moving it.")
    if parent is None:
        return
    wanted = PARENT_KIND.get(code.kind)
    if wanted is None:
        raise ValidationError(
            f"“{code.name}” is a category: categories sit at the top and go under no "
            f"{KIND_WORD[parent.kind]}."
        )
    if parent.kind != wanted:
        raise ValidationError(
            f"A {KIND_WORD[code.kind]} can only go into a {KIND_WORD[wanted]}; "
            f"“{parent.name}” is a {KIND_WORD[parent.kind]}."
        )
    if parent.status == CodeStatus.RETIRED:
        raise ValidationError(f"“{parent.name}” is retired; nothing can be moved into it.")
    ancestor, seen = parent, set()
    while ancestor is not None and ancestor.pk not in seen:
        if ancestor.pk == code.pk:
            raise ValidationError(f"“{code.name}” cannot go inside itself.")
        seen.add(ancestor.pk)
        ancestor = ancestor.parent


def _place(code: Code, parent: Code | None, position: int | None) -> None:
    """Put ``code`` at ``position`` (0-based, None: last) among its new siblings."""
    siblings = list(
        Code.objects.filter(study_id=code.study_id, parent=parent, kind=code.kind)
        .exclude(pk=code.pk)
        .exclude(status=CodeStatus.RETIRED)
        .order_by("position", "id")
    )
    index = len(siblings) if position is None else max(0, min(int(position), len(siblings)))
    ordered = siblings[:index] + [code] + siblings[index:]
    moved = []
    for number, sibling in enumerate(ordered, start=1):
        if sibling is code:
            code.position = number
        elif sibling.position != number:
            sibling.position = number
            moved.append(sibling)
    Code.objects.bulk_update(moved, ["position"])


@transaction.atomic
def board_move(
    *, actor, code: Code, version: int | None, parent: Code | None, position: int | None = None
) -> BoardMove:
    """Move a code into a theme, a theme into a category (``parent``; None: out of any), or
    reorder it among its siblings (``position``, 0-based)."""
    study = code.study
    _require(actor, study)
    locked = _lock(study, [code.pk, parent.pk if parent else None])
    code, parent = locked[code.pk], (locked[parent.pk] if parent else None)
    _check_version(code, version)
    _check_target(code, parent)
    op = _Operation(actor, study)
    before = op.before(code)
    old_parent = code.parent
    code.parent = parent
    _place(code, parent, position)
    if parent is not None and parent.pk in before["also_in"]:
        # Its home now: an extra membership of the same theme would count nothing new.
        code.also_in.remove(parent)
    if before["parent"] == code.parent_id and before["position"] == code.position:
        raise ValidationError(f"“{code.name}” is already there; nothing was moved.")
    op.save(code, ChangeKind.MOVE)
    where = _name(parent, "out of any theme" if code.kind == CodeKind.CODE else "the top level")
    return op.finish(
        verb="theme.move",
        code=code,
        summary=f"Moved “{code.name}” to {where}",
        before={"parent": old_parent.name if old_parent else None},
        after={"parent": parent.name if parent else None, "position": code.position},
    )


@transaction.atomic
def theme_status_set(*, actor, code: Code, version: int | None, status: str) -> BoardMove:
    """Mark a theme or category tentative (still testing the claim) or established."""
    study = code.study
    _require(actor, study)
    if status not in ThemeStatus.values:
        raise ValidationError("A theme is tentative or established.")
    code = _lock(study, [code.pk])[code.pk]
    _check_version(code, version)
    if code.kind == CodeKind.CODE:
        raise ValidationError(f"“{code.name}” is a first-level code; only themes have a status.")
    if code.theme_status == status:
        raise ValidationError(f"“{code.name}” is already {ThemeStatus(status).label.lower()}.")
    op = _Operation(actor, study)
    before = op.before(code)
    code.theme_status = status
    op.save(code, ChangeKind.STATUS)
    label = ThemeStatus(status).label.lower()
    return op.finish(
        verb="theme.status",
        code=code,
        summary=f"Marked “{code.name}” {label}",
        before={"theme_status": before["theme_status"]},
        after={"theme_status": status},
    )


@transaction.atomic
def code_promote(*, actor, code: Code, version: int | None, category: Code | None) -> BoardMove:
    """Make a first-level code a theme (in ``category``, or none yet). Its codings stay on it:
    a theme's counts include its own codings and its member codes'."""
    study = code.study
    _require(actor, study)
    locked = _lock(study, [code.pk, category.pk if category else None])
    code, category = locked[code.pk], (locked[category.pk] if category else None)
    _check_version(code, version)
    if code.kind != CodeKind.CODE:
        raise ValidationError(f"“{code.name}” is already a {KIND_WORD[code.kind]}.")
    if category is not None and category.kind != CodeKind.CATEGORY:
        raise ValidationError(f"A theme goes into a category; “{category.name}” is not one.")
    op = _Operation(actor, study)
    before = op.before(code)
    code.kind = CodeKind.THEME
    _check_target(code, category)
    code.parent = category
    code.theme_status = ThemeStatus.TENTATIVE
    _place(code, category, None)
    code.also_in.clear()  # a theme is not a member of other themes
    op.save(code, ChangeKind.PROMOTE)
    return op.finish(
        verb="theme.promote",
        code=code,
        summary=f"Promoted “{code.name}” to a theme",
        before={"kind": before["kind"], "also_in": before["also_in"] and "cleared"},
        after={"kind": CodeKind.THEME, "parent": category.name if category else None},
    )


@transaction.atomic
def theme_demote(*, actor, theme: Code, version: int | None, into: Code | None) -> BoardMove:
    """Fold a theme into a first-level code under the theme ``into`` (None: no theme yet). Its
    member codes move to ``into`` as well; codes that were also in it are also in ``into``."""
    study = theme.study
    _require(actor, study)
    members = list(Code.objects.filter(parent=theme).values_list("pk", flat=True))
    secondary = list(theme.secondary_members.values_list("pk", flat=True))
    locked = _lock(study, [theme.pk, into.pk if into else None, *members, *secondary])
    theme, into = locked[theme.pk], (locked[into.pk] if into else None)
    _check_version(theme, version)
    if theme.kind != CodeKind.THEME:
        raise ValidationError(f"Only a theme can be folded into a code; “{theme.name}” is not.")
    if into is not None and into.pk == theme.pk:
        raise ValidationError(f"“{theme.name}” cannot be folded into itself.")
    op = _Operation(actor, study)
    op.before(theme)
    theme.kind = CodeKind.CODE
    _check_target(theme, into)
    for pk in members:
        member = locked[pk]
        op.before(member)
        member.parent = into
        if into is not None:
            member.also_in.remove(into)
        _place(member, into, None)
        op.save(member, ChangeKind.MOVE, note=f"folded with “{theme.name}”")
    for pk in secondary:
        member = locked[pk]
        if pk in members:
            continue
        op.before(member)
        member.also_in.remove(theme)
        if into is not None and member.parent_id != into.pk:
            member.also_in.add(into)
        op.save(member, ChangeKind.RELINK, note=f"“{theme.name}” was folded into a code")
    theme.parent = into
    _place(theme, into, None)
    op.save(theme, ChangeKind.DEMOTE)
    return op.finish(
        verb="theme.demote",
        code=theme,
        summary=f"Folded the theme “{theme.name}” into a code"
        + (f" under “{into.name}”" if into else ""),
        before={"kind": CodeKind.THEME},
        after={
            "kind": CodeKind.CODE,
            "into": into.name if into else None,
            "member codes moved": len(members),
        },
    )


@transaction.atomic
def code_also_in_set(*, actor, code: Code, version: int | None, themes) -> BoardMove:
    """The further themes a code belongs to besides its home (``parent``)."""
    study = code.study
    _require(actor, study)
    themes = list(themes)
    locked = _lock(study, [code.pk, *(t.pk for t in themes)])
    code = locked[code.pk]
    themes = [locked[t.pk] for t in themes]
    _check_version(code, version)
    if code.kind != CodeKind.CODE:
        raise ValidationError("Only first-level codes belong to further themes.")
    if any(t.kind != CodeKind.THEME for t in themes):
        raise ValidationError("A code can be in themes only.")
    if any(t.pk == code.parent_id for t in themes):
        raise ValidationError(f"“{code.parent.name}” is already the home of “{code.name}”.")
    op = _Operation(actor, study)
    before = op.before(code)
    if sorted(t.pk for t in themes) == before["also_in"]:
        raise ValidationError("Nothing changed.")
    old = sorted(str(t) for t in code.also_in.all())
    code.also_in.set(themes)
    op.save(code, ChangeKind.RELINK)
    return op.finish(
        verb="theme.links",
        code=code,
        summary=f"Changed the further themes of “{code.name}”",
        before={"also_in": old},
        after={"also_in": sorted(t.name for t in themes)},
    )


def _own(study: Study, research_questions, dimension_values):
    rqs, values = list(research_questions), list(dimension_values)
    if any(rq.study_id != study.pk for rq in rqs):
        raise ValidationError({"research_questions": "Use only this study's research questions."})
    if any(value.dimension.study_id != study.pk for value in values):
        raise ValidationError({"dimension_values": "Use only this study's dimension values."})
    return rqs, values


@transaction.atomic
def theme_create(
    *,
    actor,
    study: Study,
    kind: str,
    name: str,
    definition: str = "",
    parent: Code | None = None,
    research_questions=(),
    dimension_values=(),
    theme_status: str = ThemeStatus.TENTATIVE,
) -> Code:
    """A new theme (its title written as a claim) or category."""
    _require(actor, study)
    if kind not in (CodeKind.THEME, CodeKind.CATEGORY):
        raise ValidationError({"kind": "Create a theme or a category here."})
    if theme_status not in ThemeStatus.values:
        raise ValidationError({"theme_status": "A theme is tentative or established."})
    rqs, values = _own(study, research_questions, dimension_values)
    return code_create(
        actor=actor,
        study=study,
        name=name,
        definition=definition,
        kind=kind,
        parent=parent,
        dimension_values=values,
        research_questions=rqs,
        theme_status=theme_status,
    )


def _clean_name(actor, code: Code, name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Give it a title."})
    if len(name) > 200:
        raise ValidationError({"name": "Keep the title under 200 characters."})
    taken = Code.objects.filter(study=code.study, name__iexact=name).exclude(pk=code.pk)
    taken = taken.exclude(hidden_codes(actor, member_perms(actor, code.study), code.study))
    if taken.exists():
        raise ValidationError({"name": f"The codebook already has a code named “{name}”."})
    return name


@transaction.atomic
def theme_update(
    *,
    actor,
    code: Code,
    version: int | None,
    name: str,
    definition: str,
    research_questions=(),
    dimension_values=(),
    theme_status: str,
) -> Code:
    """Edit a theme's or category's title (a claim), description, research questions,
    dimension values and status: one version, one audit event."""
    study = code.study
    _require(actor, study)
    code = _lock(study, [code.pk])[code.pk]
    _check_version(code, version)
    if code.kind == CodeKind.CODE:
        raise ValidationError("Edit first-level codes in the codebook.")
    if theme_status not in ThemeStatus.values:
        raise ValidationError({"theme_status": "A theme is tentative or established."})
    name = _clean_name(actor, code, name)
    rqs, values = _own(study, research_questions, dimension_values)
    before = audit.snapshot(code)
    code.name, code.definition, code.theme_status = name, definition.strip(), theme_status
    try:
        with transaction.atomic():
            code.version += 1
            code.save()
    except IntegrityError as exc:
        raise ValidationError({"name": f"The codebook already has a code named “{name}”."}) from exc
    code.research_questions.set(rqs)
    code.dimension_values.set(values)
    after = audit.snapshot(code)
    old, new = audit.changed(before, after)
    if not new:
        raise ValidationError("Nothing changed.")
    changes = []
    if "name" in new:
        changes.append(ChangeKind.RENAME)
    if "definition" in new:
        changes.append(ChangeKind.REDEFINE)
    if "theme_status" in new:
        changes.append(ChangeKind.STATUS)
    if {"research_questions", "dimension_values"} & set(new):
        changes.append(ChangeKind.RELINK)
    number = (code.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    CodeVersion.objects.create(
        code=code,
        number=number,
        change=changes[0],
        changes=changes,
        snapshot=after,
        changed_by=actor if actor is not None and actor.is_authenticated else None,
        changed_at=timezone.now(),
    )
    audit.record(actor=actor, study=study, verb="theme.update", obj=code, before=old, after=new)
    return code


@transaction.atomic
def board_undo(*, actor, study: Study) -> BoardMove:
    """Take back the study's last board operation, if every code it touched is unchanged since
    (same version); otherwise refuse and change nothing."""
    _require(actor, study)
    move = BoardMove.objects.select_for_update().filter(study=study, undone_at__isnull=True)
    move = move.first()
    if move is None:
        raise ValidationError("There is no board move to undo.")
    pks = [entry["code"] for entry in move.entries]
    parents = [entry["before"]["parent"] for entry in move.entries]
    locked = _lock(study, pks)
    kinds = dict(Code.objects.filter(study=study, pk__in=parents).values_list("pk", "kind"))
    restored = {entry["code"]: entry["before"]["kind"] for entry in move.entries}
    for entry in move.entries:
        code, state = locked[entry["code"]], entry["before"]
        if code.version != entry["version"]:
            raise ValidationError(
                f"“{code.name}” has changed since “{move.summary}”; that move can no longer be "
                "undone. Nothing was changed."
            )
        parent_kind = restored.get(state["parent"], kinds.get(state["parent"]))
        if state["parent"] is not None and parent_kind != PARENT_KIND.get(state["kind"]):
            raise ValidationError(
                f"The former place of “{code.name}” is no longer a "
                f"{KIND_WORD[PARENT_KIND[state['kind']]]}; nothing was changed."
            )
        if state["kind"] == CodeKind.CODE and code.kind != CodeKind.CODE:
            # Back to a first-level code: only if nothing was put into it since.
            others = Code.objects.filter(parent=code).exclude(pk__in=pks).exists()
            others = others or code.secondary_members.exclude(pk__in=pks).exists()
            if others:
                raise ValidationError(
                    f"Codes were put into “{code.name}” since “{move.summary}”; that cannot be "
                    "undone any more. Nothing was changed."
                )
    op = _Operation(actor, study)
    for entry in reversed(move.entries):
        code, state = locked[entry["code"]], entry["before"]
        op.before(code)
        code.parent_id, code.kind = state["parent"], state["kind"]
        code.position, code.theme_status = state["position"], state["theme_status"]
        code.also_in.set(state["also_in"])
        op.save(code, ChangeKind.MOVE, note=f"undo: {move.summary}")
    move.undone_at = timezone.now()
    move.save(update_fields=["undone_at"])
    audit.record(
        actor=actor,
        study=study,
        verb="theme.undo",
        obj=locked[move.entries[0]["code"]],
        after={"undone": move.summary, "codes touched": len(move.entries)},
    )
    return move
