"""The agreement page's reliability-over-time chart and sparklines as SVG geometry (no drawing
library: a few lines and points, computed here and drawn by the template)."""

import math

from coding.models import AgreementRound
from coding.selectors import agreement as agreement_report


def scale_floor(values) -> float:
    """The chart's lowest α: 0, or lower (in tenths) when some round fell below 0."""
    lowest = min([0.0, *values])
    return math.floor(lowest * 10) / 10


def overall_alpha(r: AgreementRound):
    return (r.figures.get("overall") or {}).get("alpha_u")


def reliability_chart(rounds) -> dict | None:
    """Points of the overall α_U per round and the threshold lines, ready to draw as SVG.

    A round whose α_U is undefined leaves a gap in the line (its point is simply missing).
    """
    if not rounds:
        return None
    width, height = CHART["width"], CHART["height"]
    left, right, top, bottom = CHART["left"], CHART["right"], CHART["top"], CHART["bottom"]
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [overall_alpha(r) for r in rounds]
    low = scale_floor(v for v in values if v is not None)

    inset = CHART["inset"]

    def x(i):
        if len(rounds) == 1:
            return round(left + plot_w / 2, 1)
        return round(left + inset + i * (plot_w - 2 * inset) / (len(rounds) - 1), 1)

    def y(v):
        return round(top + (1 - v) / (1 - low) * plot_h, 1)

    points, segments, segment = [], [], []
    for i, (r, v) in enumerate(zip(rounds, values, strict=True)):
        if v is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        point = {"x": x(i), "y": y(v), "value": v, "round": r}
        points.append(point)
        segment.append(point)
    if segment:
        segments.append(segment)
    ticks = sorted({low, 0.0, 0.5, 1.0})
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": height - bottom,
        "points": points,
        "lines": [" ".join(f"{p['x']},{p['y']}" for p in s) for s in segments if len(s) > 1],
        "thresholds": [
            {
                "value": agreement_report.RELIABLE,
                "y": y(agreement_report.RELIABLE),
                "label": "reliable",
            },
            {
                "value": agreement_report.TENTATIVE,
                "y": y(agreement_report.TENTATIVE),
                "label": "tentative",
            },
        ],
        "ticks": [{"value": t, "y": y(t)} for t in ticks],
        "labels": [{"x": x(i), "text": f"R{r.number}"} for i, r in enumerate(rounds)],
        "label_y": height - bottom + 18,
    }


def sparkline(values, low: float) -> dict:
    """A code's α_U per round as a tiny line on the chart's scale (decoration: the table
    beside it carries the numbers)."""
    width, height, pad = SPARK["width"], SPARK["height"], SPARK["pad"]
    n = len(values)

    def x(i):
        return round(width / 2 if n == 1 else pad + i * (width - 2 * pad) / (n - 1), 1)

    def y(v):
        return round(pad + (1 - v) / (1 - low) * (height - 2 * pad), 1)

    dots = [{"x": x(i), "y": y(v)} for i, v in enumerate(values) if v is not None]
    return {
        "width": width,
        "height": height,
        "line": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "dots": dots,
        "reliable": y(agreement_report.RELIABLE),
    }


# The chart's geometry, in SVG user units (it scales with its box).
# Threshold labels sit in the right margin, outside the plot, so the line never crosses them;
# ``inset`` keeps the first and last points off the plot's edges.
CHART = {
    "width": 560,
    "height": 220,
    "left": 44,
    "right": 104,
    "top": 14,
    "bottom": 34,
    "inset": 18,
}


SPARK = {"width": 96, "height": 24, "pad": 3}
