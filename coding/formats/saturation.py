"""The saturation numbers as one CSV: the same evidence the page and the JSON download show.

Four tables one after the other, each with its own header row and separated by an empty row;
the first column names the table, so a spreadsheet filter on it gives one table:

- ``parameter``: name, value — what was counted and how (base, run, thresholds, …);
- ``interview``: one row per interview in interview order — new codes/themes/categories split
  deductive/inductive, codebook changes, cumulative counts, new information, open
  disagreements;
- ``run``: one row per Guest et al. run — first and last interview, new count, base count,
  percentage (two decimals; no "7/37" cell, which a spreadsheet reads as a date), and per
  threshold whether the run passes (compared exactly, not on the rounded percentage);
- ``result``: one row per threshold — reached, X in "X + r", the label the page shows.

Text cells are neutralised against spreadsheet formulas (``coding.formats.matrices.csv_text``).
"""

from coding.formats.matrices import csv_text
from coding.selectors.saturation_evidence import runs_table

INTERVIEW_HEADER = [
    "table",
    "position",
    "title",
    "participant",
    "interview_date",
    "new_codes_deductive",
    "new_codes_inductive",
    "new_themes_deductive",
    "new_themes_inductive",
    "new_categories_deductive",
    "new_categories_inductive",
    "new_code_names",
    "new_theme_names",
    "new_category_names",
    "codes_created",
    "codes_redefined",
    "codes_merged",
    "codes_split",
    "cumulative_codes",
    "cumulative_themes",
    "cumulative_categories",
    "new_information",
    "cumulative_information",
    "open_disagreements",
]


def _names(names) -> str:
    return "; ".join(names or [])


def grid(evidence: dict) -> list[list]:
    rows: list[list] = [["table", "name", "value"]]
    for name, value in (evidence.get("parameters") or {}).items():
        rows.append(["parameter", name, value])
    rows.append(["parameter", "layer_label", evidence.get("layer", "")])
    rows.append(["parameter", "withheld_interviews", evidence.get("withheld_interviews", 0)])
    rows += [[], INTERVIEW_HEADER]
    for item in evidence.get("interviews") or []:
        changes = item.get("codebook_changes") or {}
        cumulative = item.get("cumulative") or {}
        rows.append(
            [
                "interview",
                item["position"],
                item["title"],
                item["participant"],
                item.get("interview_date") or "",
                item["new_codes"]["deductive"],
                item["new_codes"]["inductive"],
                item["new_themes"]["deductive"],
                item["new_themes"]["inductive"],
                item["new_categories"]["deductive"],
                item["new_categories"]["inductive"],
                _names(item.get("new_code_names")),
                _names(item.get("new_theme_names")),
                _names(item.get("new_category_names")),
                _names(changes.get("created")),
                _names(changes.get("redefined")),
                _names(changes.get("merged")),
                _names(changes.get("split")),
                cumulative.get("codes", 0),
                cumulative.get("themes", 0),
                cumulative.get("categories", 0),
                item.get("new_information", 0),
                cumulative.get("information", 0),
                item.get("open_disagreements", 0),
            ]
        )
    table = runs_table(evidence)
    results = table["results"]
    rows += [
        [],
        ["table", "first", "last", "new", "base", "percent"]
        + [f"passes_le_{r['threshold']}_percent" for r in results],
    ]
    for run, row in zip(
        (evidence.get("guest") or {}).get("runs") or [], table["rows"], strict=True
    ):
        rows.append(
            ["run", row["first"], row["last"], row["new"], row["denominator"], run["percent"]]
            + ["yes" if p["passes"] else "no" for p in row["passes"]]
        )
    rows += [[], ["table", "threshold_percent", "reached", "at", "label"]]
    for result in results:
        rows.append(
            [
                "result",
                result["threshold"],
                "yes" if result["reached"] else "no",
                result["at"] if result["at"] is not None else "",
                result["label"],
            ]
        )
    return rows


def csv_of(evidence: dict) -> str:
    return csv_text(grid(evidence))
