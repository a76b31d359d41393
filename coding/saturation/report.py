"""The saturation report as plain data: the parameters a lead chooses (with the papers'
defaults and their checks) and the analysis the page, a decision's snapshot and
``manage.py saturation`` show. Pure: no Django; ``coding/selectors/saturation.py`` fills it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from .guest import GuestReport, as_percent, percent_text

CONSENSUS = "consensus"
INFORMATION = {
    "themes": "Themes",
    "codes": "First-level codes",
    "both": "Themes and first-level codes",
}
MODES = {
    "sliding": "Sliding: each run starts one interview later",
    "stepping": "Stepping: each run starts after the previous one",
}
# What a codebook change counts as, per interview (a version may carry several kinds).
DEDUCTIVE = "deductive"  # coding.models.CodeOrigin.DEDUCTIVE (no Django import here)
LIMITS = {"base": (1, 100), "run": (1, 50), "initial": (0, 200), "consecutive": (1, 50)}


# --- parameters --------------------------------------------------------------------------


@dataclass(frozen=True)
class SaturationParams:
    """Everything the page lets the lead choose, with the paper's defaults."""

    information: str = "themes"
    layer: str = CONSENSUS  # or the username of a coder whose submitted layers count
    base: int = 4
    run: int = 2
    thresholds: tuple[str, ...] = ("5", "0")  # per cent, as typed
    mode: str = "sliding"
    initial: int = 10  # Francis et al.: initial analysis sample
    consecutive: int = 3  # Francis et al.: stopping criterion / "the last k interviews"

    @classmethod
    def from_data(cls, data: Mapping) -> tuple[SaturationParams, dict[str, str]]:
        """Parameters from a query string or form; what is wrong is reported per field and
        replaced by its default, so the page still shows an analysis."""
        errors: dict[str, str] = {}
        values: dict = {}
        default = cls()
        information = data.get("information") or default.information
        if information not in INFORMATION:
            errors["information"] = "Count themes, first-level codes or both."
            information = default.information
        values["information"] = information
        mode = data.get("mode") or default.mode
        if mode not in MODES:
            errors["mode"] = "Runs are sliding or stepping."
            mode = default.mode
        values["mode"] = mode
        values["layer"] = (data.get("layer") or CONSENSUS).strip()[:150]
        for name, (low, high) in LIMITS.items():
            raw = data.get(name)
            value = getattr(default, name)
            if raw not in (None, ""):
                try:
                    value = int(str(raw).strip())
                except ValueError:
                    errors[name] = "Give a whole number."
                else:
                    if not low <= value <= high:
                        errors[name] = f"Give a number from {low} to {high}."
                        value = getattr(default, name)
            values[name] = value
        raw = data.get("thresholds")
        thresholds = default.thresholds
        if raw not in (None, ""):
            parts = [p.strip().rstrip("%").strip() for p in str(raw).replace(";", ",").split(",")]
            parts = [p for p in parts if p]
            try:
                checked = [as_percent(p.replace(" ", "")) for p in parts]
            except (ValueError, ZeroDivisionError):
                errors["thresholds"] = "Give percentages from 0 to 100, separated by commas."
            else:
                if not checked or len(checked) > 5:
                    errors["thresholds"] = "Give one to five percentages."
                else:
                    thresholds = tuple(dict.fromkeys(parts))
        values["thresholds"] = thresholds
        return cls(**values), errors

    def as_query(self) -> dict[str, str]:
        return {
            "information": self.information,
            "layer": self.layer,
            "base": str(self.base),
            "run": str(self.run),
            "thresholds": ", ".join(self.thresholds),
            "mode": self.mode,
            "initial": str(self.initial),
            "consecutive": str(self.consecutive),
        }


# --- results -----------------------------------------------------------------------------


@dataclass
class Named:
    ref: str  # the code's public id
    name: str
    origin: str


@dataclass
class InterviewRow:
    position: int
    transcript_id: int
    title: str
    participant: str
    interview_date: date | None
    interview_order: int | None
    open_disagreements: int
    new_codes: list[Named] = field(default_factory=list)
    new_themes: list[Named] = field(default_factory=list)
    new_categories: list[Named] = field(default_factory=list)
    changes: dict[str, list[str]] = field(default_factory=dict)  # kind → code names
    new_information: int = 0  # new items of the chosen information
    cumulative: dict[str, int] = field(default_factory=dict)  # codes, themes, categories, info
    quiet_run: bool | None = None  # the last k interviews added no theme or category

    def split(self, items: list[Named]) -> tuple[int, int]:
        deductive = sum(1 for item in items if item.origin == DEDUCTIVE)
        return deductive, len(items) - deductive

    @property
    def codes_split(self):
        return self.split(self.new_codes)

    @property
    def themes_split(self):
        return self.split(self.new_themes)

    @property
    def categories_split(self):
        return self.split(self.new_categories)

    @property
    def change_count(self) -> int:
        return sum(len(names) for names in self.changes.values())


@dataclass
class MeaningRow:
    ref: str
    name: str
    stable_after: int | None  # interview position
    changes: int
    unplaced_after: int


@dataclass
class SaturationAnalysis:
    params: SaturationParams
    layer_label: str
    interviews: list[InterviewRow]
    guest: GuestReport
    francis: int | None
    quiet_since: int | None  # first interview at which the last k added no theme or category
    meaning: list[MeaningRow]
    meaning_stable_after: int | None
    withheld: int  # interviews with the layer that the viewer may not read (blindness)
    unplaced_changes: int  # redefinitions, merges, splits made away from analysed interviews
    codebook_state: dict
    decisions: list = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        return self.interviews[-1].cumulative if self.interviews else {}

    def evidence(self) -> dict:
        """Everything a decision snapshots, as JSON-ready data (the command prints it too)."""
        return {
            "parameters": self.params.as_query(),
            "layer": self.layer_label,
            "interviews": [
                {
                    "position": row.position,
                    "title": row.title,
                    "participant": row.participant,
                    "interview_date": row.interview_date.isoformat()
                    if row.interview_date
                    else None,
                    "open_disagreements": row.open_disagreements,
                    "new_codes": {"deductive": row.codes_split[0], "inductive": row.codes_split[1]},
                    "new_themes": {
                        "deductive": row.themes_split[0],
                        "inductive": row.themes_split[1],
                    },
                    "new_categories": {
                        "deductive": row.categories_split[0],
                        "inductive": row.categories_split[1],
                    },
                    "new_code_names": [n.name for n in row.new_codes],
                    "new_theme_names": [n.name for n in row.new_themes],
                    "new_category_names": [n.name for n in row.new_categories],
                    "codebook_changes": row.changes,
                    "new_information": row.new_information,
                    "cumulative": row.cumulative,
                    "quiet_last_k": row.quiet_run,
                }
                for row in self.interviews
            ],
            "guest": {
                "base": self.guest.base,
                "run_length": self.guest.run_length,
                "mode": self.guest.mode,
                "denominator": self.guest.denominator,
                "reason": self.guest.reason,
                "runs": [
                    {
                        "interviews": [run.first, run.last],
                        "new": run.new_count,
                        "denominator": run.denominator,
                        "fraction": f"{run.fraction.numerator}/{run.fraction.denominator}",
                        "percent": round(run.percent, 2),
                    }
                    for run in self.guest.runs
                ],
                "results": [
                    {
                        "threshold": percent_text(result.threshold),
                        "reached": result.reached,
                        "at": result.at,
                        "label": result.label,
                    }
                    for result in self.guest.results
                ],
            },
            "francis": {
                "initial": self.params.initial,
                "consecutive": self.params.consecutive,
                "stop_at": self.francis,
            },
            "no_new_themes": {"last": self.params.consecutive, "since": self.quiet_since},
            "meaning": {
                "stable_after": self.meaning_stable_after,
                # Built by hand: dataclasses.asdict deep-copies, slow at a thousand codes.
                "codes": [
                    {
                        "ref": row.ref,
                        "name": row.name,
                        "stable_after": row.stable_after,
                        "changes": row.changes,
                        "unplaced_after": row.unplaced_after,
                    }
                    for row in self.meaning
                ],
            },
            "withheld_interviews": self.withheld,
            "unplaced_codebook_changes": self.unplaced_changes,
            "codebook": self.codebook_state,
        }
