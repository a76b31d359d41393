"""The saturation chart and the evidence tables, on evidence built by hand: what a reader of the
page would notice (labels that fit, every number escaped, no inline style, percentages that do
not pretend to pass)."""

import re
from fractions import Fraction

from coding.rendering.saturation_chart import saturation_chart, x_ticks, y_ticks
from coding.selectors.saturation_evidence import runs_table


def evidence(n, *, title="interview", results=(), runs=()):
    interviews = [
        {
            "position": i,
            "title": title if i == 1 else f"interview {i}",
            "cumulative": {"codes": 3 * i, "themes": min(i, 5), "categories": 1, "information": i},
            "new_codes": {"deductive": 1, "inductive": 2},
            "new_themes": {"deductive": 1, "inductive": 0},
            "new_categories": {"deductive": 0, "inductive": 0},
        }
        for i in range(1, n + 1)
    ]
    return {
        "parameters": {"information": "themes"},
        "interviews": interviews,
        "guest": {"run_length": 2, "results": list(results), "runs": list(runs)},
    }


def decision(number, interviews, verdict="continue"):
    label = {"continue": "Continue sampling", "reached": "Saturation reached"}[verdict]
    return {
        "number": number,
        "interviews": interviews,
        "verdict": verdict,
        "label": label,
        "date": "1 Mar 2026",
    }


class TestTicks:
    def test_every_interview_is_labelled_up_to_twenty(self):
        assert x_ticks(1) == [1] and x_ticks(7) == list(range(1, 8))
        assert x_ticks(20) == list(range(1, 21))

    def test_many_interviews_get_about_twenty_labels_that_do_not_collide(self):
        ticks = x_ticks(200)
        assert ticks[0] == 1 and ticks[-1] == 200 and len(ticks) <= 21
        assert x_ticks(197)[-2:] == [180, 190]  # 197 would sit on 190: left out

    def test_scales_end_near_the_largest_count(self):
        assert y_ticks(665) == [0, 250, 500, 750]
        assert y_ticks(6) == [0, 2, 4, 6]
        assert y_ticks(0) == [0, 1]


class TestChart:
    def test_accessible_and_escaped_with_no_inline_style(self):
        svg = str(saturation_chart(evidence(4, title='<script>alert("x")</script>')))
        assert svg.startswith('<svg class="saturation-svg"') and 'role="img"' in svg
        assert 'aria-labelledby="sat-chart-title sat-chart-desc"' in svg
        assert "<script>" not in svg and "&lt;script&gt;" in svg
        assert "style=" not in svg
        assert "Themes: 4, the last new one in interview 4." in svg  # the description

    def test_a_point_per_interview_until_they_would_touch(self):
        assert str(saturation_chart(evidence(60))).count('class="sat-point') == 180
        svg = str(saturation_chart(evidence(200)))
        assert "sat-point" not in svg and svg.count('class="sat-series') == 3

    def test_saturation_points_and_decisions_are_drawn_where_they_belong(self):
        results = [
            {"threshold": "5", "reached": True, "at": 4, "label": "saturation at n = 4 + 2"},
            {"threshold": "0", "reached": False, "at": None, "label": "not reached"},
        ]
        svg = str(
            saturation_chart(
                evidence(8, results=results),
                [decision(1, 6), decision(2, 6, "reached"), decision(3, 12, "reached")],
            )
        )
        assert ">≤ 5 %: n = 4 + 2</text>" in svg
        assert svg.count('class="sat-run"') == 1
        # D1 and D2 share interview 6: one line, both named; D3 lies beyond the curve.
        assert svg.count('class="decision-mark') == 1
        assert ">D1 · continue, D2 · reached</text>" in svg and "D3 ·" not in svg
        assert "Decision 3, 1 Mar 2026: Saturation reached after 12 interviews (beyond" in svg

    def test_nothing_to_draw_without_interviews(self):
        assert saturation_chart(evidence(0)) == ""


class TestRuns:
    def run(self, fraction, new, base):
        percent = round(float(Fraction(fraction)) * 100, 2)
        return {
            "interviews": [5, 6],
            "new": new,
            "denominator": base,
            "fraction": fraction,
            "percent": percent,
        }

    def test_percentages_never_read_as_a_threshold_they_miss(self):
        results = [{"threshold": "5", "reached": False, "at": None, "label": ""}]
        table = runs_table(
            {
                "guest": {
                    "runs": [
                        self.run("2/37", 2, 37),  # 5.41 %: fails, shown 5.4
                        self.run("63/1250", 63, 1250),  # 5.04 %: would read "5.0"
                        self.run("1/20", 1, 20),  # exactly 5 %: passes
                    ],
                    "results": results,
                }
            }
        )
        shown = [(row["percent"], row["passes"][0]["passes"]) for row in table["rows"]]
        assert shown == [("5.4", False), ("5.04", False), ("5.0", True)]

    def test_the_first_passing_run_is_the_verdict_s(self):
        results = [{"threshold": "0", "reached": True, "at": 5, "label": "saturation"}]
        runs = [self.run("1/3", 1, 3), self.run("0/3", 0, 3) | {"interviews": [6, 7]}]
        table = runs_table({"guest": {"runs": runs, "results": results}})
        assert [row["passes"][0]["first"] for row in table["rows"]] == [False, True]
        assert table["results"][0]["run"]["first"] == 6
        assert re.match(r"0\.0", table["results"][0]["run"]["percent"])
