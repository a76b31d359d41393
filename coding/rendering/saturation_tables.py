"""The saturation page's three long tables (every run, every interview, every redefined code),
built in Python: at 200 interviews and 800 redefined codes the template loops took two thirds
of a request (about 0.4 s), this takes a few milliseconds. The markup is the one
``templates/coding/saturation_evidence.html`` describes around them; every text from users
(titles, code names) goes through ``esc``.

Input: the display data of ``coding/selectors/saturation_evidence.py`` (``runs_table``,
``interview_rows``, ``summary``), so the live page and a decision's snapshot render alike.
"""

from django.utils.safestring import SafeString, mark_safe

from coding.rendering.coding_page import esc

BASE_TAG = '<span class="tag base-tag" title="In the Guest et al. base">base</span>'


def _plural(n: int, one: str = "", many: str = "s") -> str:
    return one if n == 1 else many


def runs_table(runs: dict, info: str) -> SafeString:
    if not runs["rows"]:
        return mark_safe(f'<p class="empty">No run to test: {esc(runs["reason"])}.</p>')
    heads = "".join(f'<th scope="col">≤ {esc(r["threshold"])} %</th>' for r in runs["results"])
    out = [
        '<div class="table-scroll"><table class="sat-table runs-table">',
        f'<caption class="visually-hidden">Every run: its interviews, new {esc(info)}, the '
        f"base's {esc(info)}, the percentage and whether it passes each threshold</caption>",
        '<thead><tr><th scope="col">Run</th><th scope="col" class="number">New</th>'
        '<th scope="col" class="number">Base</th><th scope="col" class="number">New / base</th>'
        f"{heads}</tr></thead><tbody>",
    ]
    for run in runs["rows"]:
        cells = []
        for p in run["passes"]:
            label = (
                "<strong>passes · saturation</strong>"
                if p["first"]
                else ("passes" if p["passes"] else "no")
            )
            cells.append(f'<td class="{"passes" if p["passes"] else "fails"}">{label}</td>')
        out.append(
            f'<tr><th scope="row">Interviews {run["first"]}–{run["last"]}</th>'
            f'<td class="number">{run["new"]}</td><td class="number">{run["denominator"]}</td>'
            f'<td class="number">{esc(run["percent"])} %</td>{"".join(cells)}</tr>'
        )
    out.append("</tbody></table></div>")
    return mark_safe("".join(out))


def _new_cell(split: dict, names: list[str]) -> str:
    total = split["deductive"] + split["inductive"]
    if not total:
        return '<td class="new-cell"><span class="zero">0</span></td>'
    items = "".join(f"<li>{esc(name)}</li>" for name in names)
    return (
        f'<td class="new-cell"><details class="names"><summary><strong>{total}</strong> '
        f'<span class="split">{split["deductive"]} · {split["inductive"]}</span></summary>'
        f"<ul>{items}</ul></details></td>"
    )


def interviews_table(rows: list[dict], k: int) -> SafeString:
    out = [
        '<div class="table-scroll"><table class="sat-table sat-interviews">'
        '<caption class="visually-hidden">Per interview: new codes, themes and categories '
        "(deductive, inductive), codebook changes, cumulative counts</caption><thead><tr>"
        '<th scope="col" class="number">#</th><th scope="col">Interview</th>'
        '<th scope="col">New codes <span class="split">D · I</span></th>'
        '<th scope="col">New themes <span class="split">D · I</span></th>'
        '<th scope="col">New categories <span class="split">D · I</span></th>'
        '<th scope="col">Codebook changes</th>'
        '<th scope="col" class="number">Codes so&nbsp;far</th>'
        '<th scope="col" class="number">Themes so&nbsp;far</th>'
        '<th scope="col" class="number">Categories so&nbsp;far</th>'
        f'<th scope="col"><abbr title="No new theme or category in this and the {k - 1} '
        f'interviews before it">Last&nbsp;{k} quiet</abbr></th></tr></thead><tbody>'
    ]
    for row in rows:
        base = row["in_base"]
        name = f"{esc(row['participant'])}: {esc(row['title'])}"
        if row.get("url"):
            name = f'<a href="{esc(row["url"])}">{name}</a>'
        day = row["date"]
        when = (
            f'<time datetime="{day:%Y-%m-%d}">{day.day} {day:%b %Y}</time>'
            if day
            else "no interview date"
        )
        open_ = row["open_disagreements"]
        warn = (
            f'<span class="tag warn-tag">{open_} open disagreement{_plural(open_)}</span>'
            if open_
            else ""
        )
        if row["change_list"]:
            items = "".join(
                f'<li><span class="change-kind">{esc(kind)}</span> {esc(", ".join(names))}</li>'
                for kind, names in row["change_list"]
            )
            total = row["change_total"]
            changes = (
                f'<details class="names"><summary>{total} change{_plural(total)}</summary>'
                f"<ul>{items}</ul></details>"
            )
        else:
            changes = '<span class="zero">—</span>'
        quiet = row["quiet_last_k"]
        quiet_text = "yes" if quiet else ('<span class="zero">—</span>' if quiet is None else "no")
        cumulative = row["cumulative"]
        in_base = ' class="in-base"' if base else ""
        tag = BASE_TAG if base else ""
        out.append(
            f'<tr id="interview-{row["position"]}"{in_base}>'
            f'<td class="number">{row["position"]}{tag}</td>'
            f'<th scope="row">{name}<span class="cell-sub">{when}</span>{warn}</th>'
            + _new_cell(row["new_codes"], row["new_code_names"])
            + _new_cell(row["new_themes"], row["new_theme_names"])
            + _new_cell(row["new_categories"], row["new_category_names"])
            + f"<td>{changes}</td>"
            f'<td class="number">{cumulative["codes"]}</td>'
            f'<td class="number">{cumulative["themes"]}</td>'
            f'<td class="number">{cumulative["categories"]}</td>'
            f"<td>{quiet_text}</td></tr>"
        )
    out.append("</tbody></table></div>")
    return mark_safe("".join(out))


def meaning_table(codes: list[dict]) -> SafeString:
    if not codes:
        return mark_safe(
            '<p class="empty">No code was redefined while coding these interviews.</p>'
        )
    out = [
        '<div class="table-scroll"><table class="sat-table"><thead><tr>'
        '<th scope="col">Code</th><th scope="col" class="number">Redefined while coding</th>'
        '<th scope="col">Stable after</th>'
        '<th scope="col">Changed later, away from any interview</th></tr></thead><tbody>'
    ]
    for code in codes:
        later = code["unplaced_after"]
        later_text = f"{later} time{_plural(later)}" if later else '<span class="zero">—</span>'
        out.append(
            f'<tr><th scope="row">{esc(code["name"])}</th>'
            f'<td class="number">{code["redefined"]}×</td>'
            f"<td>interview {code['stable_after']}"
            f'<span class="cell-sub">{esc(code["stable_title"])}</span></td>'
            f"<td>{later_text}</td></tr>"
        )
    out.append("</tbody></table></div>")
    return mark_safe("".join(out))


def order_rows(interviews, shared_days: set) -> SafeString:
    """The rows of the lead's interview-order form (``SaturationAnalysis.interviews``)."""
    out = []
    for row in interviews:
        name = f"{esc(row.participant)}: {esc(row.title)}"
        day = row.interview_date
        if day:
            same = '<span class="tag same-day">same day</span>' if day in shared_days else ""
            when = f"{day.day} {day:%b %Y}{same}"
        else:
            when = '<span class="muted">none</span>'
        field = f"order-{row.transcript_id}"
        out.append(
            f'<tr><td class="number">{row.position}</td><th scope="row">{name}</th>'
            f'<td class="nowrap">{when}</td><td><label class="visually-hidden" '
            f'for="{field}">Order of {name}</label><input class="order-input" type="number" '
            f'min="1" id="{field}" name="{field}" value="{row.position}"></td></tr>'
        )
    return mark_safe("".join(out))


def tables(runs: dict, rows: list[dict], summary: dict, k: int) -> dict[str, SafeString]:
    return {
        "runs": runs_table(runs, summary["information"]),
        "interviews": interviews_table(rows, k),
        "meaning": meaning_table(summary["meaning_rows"]),
    }
