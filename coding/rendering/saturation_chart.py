"""The saturation page's chart: cumulative themes, first-level codes and categories per
interview, as one server-built SVG (everything from users goes through ``esc``).

Three panels share the interview axis, each with its own scale: a study with 2,000 codes in 100
themes would flatten the themes to a line on one shared scale. Each Guest et al. saturation
point is a dashed line after interview *X*, its confirming run shaded; each recorded decision a
solid line at the number of interviews it was taken on. The per-interview table on the page
carries the same numbers (the chart is the picture, the table the record).

No style attributes (the Content-Security-Policy forbids inline styles): colours come from
classes in static/css/saturation.css; geometry from SVG presentation attributes.
"""

from __future__ import annotations

import math

from django.utils.safestring import SafeString, mark_safe

from coding.rendering.coding_page import esc

WIDTH = 760
LEFT, RIGHT = 52, 20
PANEL_TITLE, PANEL_PLOT, PANEL_GAP = 22, 78, 22
BOTTOM = 44
INSET = 14
LABEL_ROW = 15
PANELS = (
    ("themes", "Themes"),
    ("codes", "First-level codes"),
    ("categories", "Categories"),
)
COUNTED = {"themes": {"themes"}, "codes": {"codes"}, "both": {"themes", "codes"}}
VERDICT_WORDS = {"continue": "continue", "reached": "reached"}
POINTS_UP_TO = 60  # above this many interviews the dots would touch: the line alone


def _nice_step(span: float, ticks: int) -> int:
    """The smallest whole step of 1, 2, 2.5 (from 25 up), 5 × 10ⁿ giving at most ``ticks``
    steps over ``span``: 665 codes get 0–250–500–750, not 0–500–1000."""
    raw = max(span / ticks, 1)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * power
        if step >= raw and step == int(step):
            return int(step)
    return int(10 * power)


def y_ticks(top: int) -> list[int]:
    """0 and up to three steps of 1, 2 or 5 × 10ⁿ covering ``top``."""
    step = _nice_step(top, 3)
    last = max(step, math.ceil(top / step) * step)
    return list(range(0, last + 1, step))


def x_ticks(n: int) -> list[int]:
    """Which interviews get a number under the axis: all up to 20, then 1 and every
    2nd/5th/10th… so about twenty labels show, and the last one if there is room for it."""
    if n <= 20:
        return list(range(1, n + 1))
    step = _nice_step(n, 20)
    ticks = [1] + list(range(step, n + 1, step))
    if n - ticks[-1] >= 0.75 * step:  # closer, the two numbers would touch
        ticks.append(n)
    return ticks


def _rows_for(labels: list[dict], rows_max: int = 3) -> int:
    """Give each label (sorted by x) the first row where it does not touch the one before:
    decisions taken close together stay readable. Returns how many rows were used."""
    ends: list[float] = []
    for label in sorted(labels, key=lambda item: item["x"]):
        width = 6.2 * len(label["text"]) + 6
        # The text stays inside the chart; its line stays at the interview.
        label["text_x"] = round(min(max(label["x"], width / 2 + 2), WIDTH - width / 2 - 2), 1)
        start = label["text_x"] - width / 2
        for row, end in enumerate(ends):
            if end < start:
                ends[row] = label["text_x"] + width / 2
                label["row"] = row
                break
        else:
            label["row"] = min(len(ends), rows_max - 1)
            if len(ends) < rows_max:
                ends.append(label["text_x"] + width / 2)
    return max(1, len(ends))


def saturation_chart(evidence: dict, decisions: list[dict] | None = None) -> SafeString:
    """The chart of ``evidence`` (``SaturationAnalysis.evidence()``, live or a decision's),
    with ``decisions`` drawn on it: dicts with ``number``, ``interviews``, ``verdict``
    (``continue`` or ``reached``), ``label`` and ``date`` (text)."""
    interviews = evidence.get("interviews") or []
    n = len(interviews)
    if not n:
        return mark_safe("")
    decisions = decisions or []
    information = (evidence.get("parameters") or {}).get("information", "themes")
    counted = COUNTED.get(information, set())
    guest = evidence.get("guest") or {}
    run_length = guest.get("run_length") or 0

    plot_right = WIDTH - RIGHT
    inner = plot_right - LEFT - 2 * INSET

    def x(position: float) -> float:
        if n == 1:
            return round((LEFT + plot_right) / 2, 1)
        return round(LEFT + INSET + (position - 1) * inner / (n - 1), 1)

    # Labels above the plot: decisions, then saturation points.
    marks: dict[int, list[str]] = {}
    for result in guest.get("results") or []:
        if result.get("reached") and result.get("at") is not None and result["at"] >= 1:
            marks.setdefault(result["at"], []).append(f"≤ {result['threshold']} %")
    labels = []
    for at, limits in sorted(marks.items()):
        text = f"{' · '.join(limits)}: n = {at} + {run_length}"
        labels.append({"x": x(at), "text": text, "kind": "saturation", "at": at})
    placed: dict[int, list[dict]] = {}
    beyond = []
    for decision in decisions:
        if 1 <= decision["interviews"] <= n:
            placed.setdefault(decision["interviews"], []).append(decision)
        else:
            beyond.append(decision)
    for at, group in sorted(placed.items()):
        text = ", ".join(f"D{d['number']} · {VERDICT_WORDS.get(d['verdict'], '')}" for d in group)
        labels.append({"x": x(at), "text": text, "kind": "decision", "at": at, "group": group})
    rows = _rows_for(labels) if labels else 0
    top = 8 + rows * LABEL_ROW + 6
    panel_height = PANEL_TITLE + PANEL_PLOT
    plots_bottom = top + len(PANELS) * panel_height + (len(PANELS) - 1) * PANEL_GAP
    height = plots_bottom + BOTTOM

    out = [
        f'<svg class="saturation-svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-labelledby="sat-chart-title sat-chart-desc" '
        'focusable="false">',
        '<title id="sat-chart-title">Cumulative themes, first-level codes and categories '
        "per interview</title>",
        f'<desc id="sat-chart-desc">{esc(_description(evidence, decisions, beyond))}</desc>',
    ]

    # Saturation runs, shaded behind everything.
    for at in sorted(marks):
        first, last = at + 1, min(at + run_length, n)
        if first <= n:
            half = (x(2) - x(1)) / 2 if n > 1 else 10
            start, end = max(LEFT, x(first) - half), min(plot_right, x(last) + half)
            out.append(
                f'<rect class="sat-run" x="{round(start, 1)}" y="{top}" '
                f'width="{round(end - start, 1)}" height="{plots_bottom - top}"></rect>'
            )

    for index, (key, name) in enumerate(PANELS):
        panel_top = top + index * (panel_height + PANEL_GAP)
        plot_top, plot_bottom = panel_top + PANEL_TITLE, panel_top + panel_height
        values = [item["cumulative"].get(key, 0) for item in interviews]
        ticks = y_ticks(max(values))
        high = ticks[-1] or 1

        def y(value: float, plot_top=plot_top, plot_bottom=plot_bottom, high=high) -> float:
            return round(plot_bottom - value / high * (plot_bottom - plot_top), 1)

        title = f"{name}: {values[-1]}"
        if key in counted:
            title += " · counted as new information"
        out.append(
            f'<text class="panel-title series-{key}" x="{LEFT}" y="{panel_top + 10}">'
            f"{esc(title)}</text>"
        )
        out.append('<g class="chart-grid">')
        for tick in ticks:
            out.append(
                f'<line x1="{LEFT}" x2="{plot_right}" y1="{y(tick)}" y2="{y(tick)}"></line>'
                f'<text x="{LEFT - 6}" y="{y(tick)}" dy="4" text-anchor="end">{tick}</text>'
            )
        out.append("</g>")
        points = " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(values, start=1))
        if n > 1:
            out.append(f'<polyline class="sat-series series-{key}" points="{points}"></polyline>')
        if n <= POINTS_UP_TO:
            for i, (item, value) in enumerate(zip(interviews, values, strict=True), start=1):
                new = _new_count(item, key)
                out.append(
                    f'<circle class="sat-point series-{key}" cx="{x(i)}" cy="{y(value)}" '
                    f'r="3.2"><title>{esc(_point_title(i, item, name, value, new))}</title>'
                    "</circle>"
                )

    # Saturation points and decisions, across the three panels.
    for label in labels:
        row_y = 8 + label["row"] * LABEL_ROW + 10
        if label["kind"] == "saturation":
            tip = (
                f"Saturation at n = {label['at']} + {run_length}: the run of interviews "
                f"{label['at'] + 1}–{label['at'] + run_length} passes "
                + ", ".join(marks[label["at"]])
            )
            out.append(
                f'<g class="sat-mark"><title>{esc(tip)}</title>'
                f'<line x1="{label["x"]}" x2="{label["x"]}" y1="{row_y + 3}" '
                f'y2="{plots_bottom}"></line>'
                f'<text x="{label["text_x"]}" y="{row_y}" text-anchor="middle">'
                f"{esc(label['text'])}</text></g>"
            )
        else:
            verdicts = {d["verdict"] for d in label["group"]}
            kind = verdicts.pop() if len(verdicts) == 1 else "mixed"
            tip = "; ".join(
                f"Decision {d['number']}, {d['date']}: {d['label']}, after "
                f"{d['interviews']} interview{'s' if d['interviews'] != 1 else ''}"
                for d in label["group"]
            )
            out.append(
                f'<g class="decision-mark decision-{esc(kind)}"><title>{esc(tip)}</title>'
                f'<line x1="{label["x"]}" x2="{label["x"]}" y1="{row_y + 3}" '
                f'y2="{plots_bottom}"></line>'
                f'<text x="{label["text_x"]}" y="{row_y}" text-anchor="middle">'
                f"{esc(label['text'])}</text></g>"
            )

    axis_y = plots_bottom + 16
    for tick in x_ticks(n):
        out.append(
            f'<text class="x-tick" x="{x(tick)}" y="{axis_y}" text-anchor="middle">{tick}</text>'
        )
    out.append(
        f'<text class="axis-title" x="{(LEFT + plot_right) / 2}" y="{plots_bottom + 36}" '
        'text-anchor="middle">Interviews, in interview order</text>'
    )
    out.append("</svg>")
    return mark_safe("".join(out))


def _new_count(item: dict, key: str) -> int:
    split = item.get(f"new_{key}") or {}
    return split.get("deductive", 0) + split.get("inductive", 0)


def _point_title(position: int, item: dict, name: str, value: int, new: int) -> str:
    return f"Interview {position}, {item['title']}: {value} {name.lower()} so far ({new} new)"


def _description(evidence: dict, decisions: list[dict], beyond: list[dict]) -> str:
    interviews = evidence["interviews"]
    n = len(interviews)
    parts = [f"Cumulative counts over {n} interview{'s' if n != 1 else ''}."]
    for key, name in PANELS:
        values = [item["cumulative"].get(key, 0) for item in interviews]
        last_new = max((i for i, v in enumerate(values, start=1) if _rises(values, i)), default=0)
        text = f"{name}: {values[-1]}"
        if last_new:
            text += f", the last new one in interview {last_new}"
        parts.append(text + ".")
    for result in (evidence.get("guest") or {}).get("results") or []:
        parts.append(result["label"][0].upper() + result["label"][1:] + ".")
    for d in decisions:
        where = " (beyond the interviews shown)" if d in beyond else ""
        parts.append(
            f"Decision {d['number']}, {d['date']}: {d['label']} after {d['interviews']} "
            f"interviews{where}."
        )
    return " ".join(parts)


def _rises(values: list[int], position: int) -> bool:
    before = values[position - 2] if position > 1 else 0
    return values[position - 1] > before
