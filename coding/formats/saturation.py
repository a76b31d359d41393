"""The saturation analysis as plain tables: what the page's downloads and
``manage.py saturation`` print, built from ``SaturationAnalysis.evidence()`` so a recorded
decision's snapshot, the page, its downloads and the command show the same numbers.

Three tables: ``interviews`` (one row per interview in interview order), ``runs`` (Guest et
al.'s table of every run) and ``meaning`` (per code, the interview after which its definition
stopped changing). Written as CSV through ``coding.formats.matrices.csv_text`` (every text cell
neutralised against formulas, numbers kept as numbers).
"""

from fractions import Fraction

from coding.formats.matrices import csv_text

TABLES = ("interviews", "runs", "meaning")


def interviews_grid(evidence: dict) -> list[list]:
    header = [
        "position",
        "interview",
        "participant",
        "interview_date",
        "new_codes_deductive",
        "new_codes_inductive",
        "new_themes_deductive",
        "new_themes_inductive",
        "new_categories_deductive",
        "new_categories_inductive",
        "codes_created",
        "codes_redefined",
        "codes_merged",
        "codes_split",
        "new_information",
        "cumulative_codes",
        "cumulative_themes",
        "cumulative_categories",
        "cumulative_information",
        "open_disagreements",
        "no_new_themes_in_last_k",
    ]
    rows = [header]
    for row in evidence["interviews"]:
        changes = row["codebook_changes"]
        quiet = row["quiet_last_k"]
        rows.append(
            [
                row["position"],
                row["title"],
                row["participant"],
                row["interview_date"] or "",
                row["new_codes"]["deductive"],
                row["new_codes"]["inductive"],
                row["new_themes"]["deductive"],
                row["new_themes"]["inductive"],
                row["new_categories"]["deductive"],
                row["new_categories"]["inductive"],
                len(changes.get("created", [])),
                len(changes.get("redefined", [])),
                len(changes.get("merged", [])),
                len(changes.get("split", [])),
                row["new_information"],
                row["cumulative"]["codes"],
                row["cumulative"]["themes"],
                row["cumulative"]["categories"],
                row["cumulative"]["information"],
                row["open_disagreements"],
                "" if quiet is None else ("yes" if quiet else "no"),
            ]
        )
    return rows


def runs_grid(evidence: dict) -> list[list]:
    guest = evidence["guest"]
    thresholds = [result["threshold"] for result in guest["results"]]
    rows = [
        ["first", "last", "new", "denominator", "percent"]
        + [f"passes_{t}_percent" for t in thresholds]
    ]
    for run in guest["runs"]:
        new, base = run["new"], run["denominator"]
        rows.append(
            # No "7/37" cell: a spreadsheet would read it as a date.
            [run["interviews"][0], run["interviews"][1], new, base, run["percent"]]
            # Exact comparison, as the analysis makes it: new / base ≤ t %  ⇔  100·new ≤ t·base.
            + ["yes" if _passes(new, base, t) else "no" for t in thresholds]
        )
    return rows


def _passes(new: int, base: int, threshold: str) -> bool:
    return Fraction(new * 100, base) <= Fraction(threshold)


def meaning_grid(evidence: dict) -> list[list]:
    rows = [["code", "stable_after_interview", "definition_changes_while_coding"]]
    for row in evidence["meaning"]["codes"]:
        rows.append([row["name"], row["stable_after"] or "", row["changes"]])
    return rows


GRIDS = {"interviews": interviews_grid, "runs": runs_grid, "meaning": meaning_grid}


def csv_table(evidence: dict, table: str = "interviews") -> str:
    return csv_text(GRIDS[table](evidence))
