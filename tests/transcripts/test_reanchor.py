"""Moving coding spans and speaker turns onto a corrected text (pure functions, no database).

Each kind of edit — insertion, deletion, replacement — is tried before, inside, across each
boundary of, and after a coding. Replacements in these tests share no letters with what they
replace, so that the character diff has exactly one way to read them.
"""

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transcripts.rewriting.reanchor import Change, apply_edits, diff, reanchor, remap_turns

TEXT = "We asked. Then we waited weeks for GPUs. Then it worked."
CODED = "waited weeks"


def span_of(text, phrase):
    start = text.index(phrase)
    return start, start + len(phrase)


def moved(new, old=TEXT, phrase=CODED):
    """The coding of ``phrase`` in ``old`` moved onto ``new``: (its text now, changed, lost)."""
    [anchored] = reanchor(old, new, [span_of(old, phrase)])
    return new[anchored.start : anchored.end], anchored.changed, anchored.lost


def edited(start, end, replacement, text=TEXT):
    return text[:start] + replacement + text[end:]


S, E = span_of(TEXT, CODED)


class TestInsertion:
    def test_before_shifts(self):
        new = TEXT.replace("asked.", "asked twice.")
        [a] = reanchor(TEXT, new, [(S, E)])
        assert (a.start, a.end) == (S + 6, E + 6)
        assert new[a.start : a.end] == CODED and not a.changed

    def test_exactly_at_the_start_stays_outside(self):
        assert moved(edited(S, S, "really ")) == (CODED, False, False)

    def test_exactly_at_the_end_stays_outside(self):
        assert moved(edited(E, E, " and weeks")) == (CODED, False, False)

    def test_inside_is_kept_and_flagged(self):
        assert moved(edited(S + 7, S + 7, "many ")) == ("waited many weeks", True, False)

    def test_after_changes_nothing(self):
        new = TEXT.replace("worked.", "worked, finally.")
        [a] = reanchor(TEXT, new, [(S, E)])
        assert (a.start, a.end, a.changed) == (S, E, False)


class TestDeletion:
    def test_before_shifts(self):
        new = TEXT.replace("We asked. ", "")
        [a] = reanchor(TEXT, new, [(S, E)])
        assert (a.start, a.end) == (S - 10, E - 10)
        assert new[a.start : a.end] == CODED and not a.changed

    def test_inside(self):
        assert moved(edited(S + 4, S + 6, "")) == ("wait weeks", True, False)

    def test_across_the_start(self):
        assert moved(edited(S - 3, S + 4, "")) == ("ed weeks", True, False)

    def test_across_the_end(self):
        # "weeks for " goes: the coding keeps "waited", without the blank left at its edge.
        assert moved(edited(S + 7, E + 5, "")) == ("waited", True, False)

    def test_after_changes_nothing(self):
        assert moved(TEXT.replace(" Then it worked.", "")) == (CODED, False, False)

    def test_all_of_it_is_lost(self):
        assert moved(edited(S, E, ""))[2] is True

    def test_all_of_it_and_more_is_lost(self):
        assert moved(edited(S - 3, E + 4, ""))[2] is True

    def test_leaving_only_blank_space_is_lost(self):
        assert moved(edited(S, E, "   "))[2] is True


class TestReplacement:
    def test_before_shifts(self):
        assert moved(TEXT.replace("We asked.", "Q: ?")) == (CODED, False, False)

    def test_inside(self):
        assert moved(edited(S + 7, E, "months")) == ("waited months", True, False)

    def test_across_the_start_covers_the_replacement(self):
        # "we wai" becomes "ZZ": the coding starts where the replaced words start.
        assert moved(edited(S - 3, S + 3, "ZZ")) == ("ZZted weeks", True, False)

    def test_across_the_end_covers_the_replacement(self):
        assert moved(edited(S + 7, E + 4, "ZZ")) == ("waited ZZ", True, False)

    def test_all_of_it_covers_the_replacement(self):
        assert moved(edited(S, E, "hung on")) == ("hung on", True, False)

    def test_after_changes_nothing(self):
        assert moved(TEXT.replace("worked", "ran")) == (CODED, False, False)


class TestBoundariesAndSeveralSpans:
    def test_an_insertion_between_two_adjacent_codings_joins_neither(self):
        text = "redblue"
        new = "red-blue"
        red, blue = reanchor(text, new, [(0, 3), (3, 7)])
        assert new[red.start : red.end] == "red" and new[blue.start : blue.end] == "blue"
        assert not red.changed and not blue.changed

    def test_a_one_character_coding(self):
        text = "a b c"
        [b] = reanchor(text, "a bb c", [(2, 3)])
        assert not b.changed and "a bb c"[b.start : b.end] == "b"

    def test_overlapping_codings_move_independently(self):
        new = edited(S + 7, S + 7, "many ")
        wide, narrow = reanchor(TEXT, new, [(S - 3, E + 4), (E - 5, E)])
        assert new[wide.start : wide.end] == "we waited many weeks for" and wide.changed
        assert new[narrow.start : narrow.end] == "weeks" and not narrow.changed

    def test_several_edits_at_once(self):
        edits = [(3, 8, "were asked"), (S + 7, S + 7, "many "), (E + 5, E + 9, "TPUs")]
        new, changes = apply_edits(TEXT, edits)
        assert new == "We were asked. Then we waited many weeks for TPUs. Then it worked."
        coded, tail = reanchor(TEXT, new, [(S, E), span_of(TEXT, "Then it")], changes=changes)
        assert new[coded.start : coded.end] == "waited many weeks" and coded.changed
        assert new[tail.start : tail.end] == "Then it" and not tail.changed
        # The diff of the whole texts reads the same edits the same way.
        assert reanchor(TEXT, new, [(S, E)]) == [coded]

    def test_spans_are_returned_in_the_order_given(self):
        spans = [(S, E), (0, 2), (S, S + 6)]
        result = reanchor(TEXT, TEXT.replace("We", "They"), spans)
        assert [r.start for r in result] == [S + 2, 0, S + 2]

    def test_spans_outside_the_text_are_refused(self):
        with pytest.raises(ValueError):
            reanchor(TEXT, TEXT, [(5, len(TEXT) + 1)])
        with pytest.raises(ValueError):
            reanchor(TEXT, TEXT, [(5, 5)])


class TestAnyScript:
    TEXT = "ผมรอ GPU หลายสัปดาห์ 🤗 我们没有GPU, so we waited."

    def test_an_emoji_before_a_thai_coding_is_one_position(self):
        start, end = span_of(self.TEXT, "หลายสัปดาห์")
        new = "🤗" + self.TEXT
        [a] = reanchor(self.TEXT, new, [(start, end)])
        assert (a.start, a.end) == (start + 1, end + 1)
        assert new[a.start : a.end] == "หลายสัปดาห์" and not a.changed

    def test_a_thai_correction_inside(self):
        new = self.TEXT.replace("หลาย", "สอง")
        assert moved(new, self.TEXT, "รอ GPU หลายสัปดาห์") == ("รอ GPU สองสัปดาห์", True, False)

    def test_cjk_after_an_emoji_edit(self):
        new = self.TEXT.replace("🤗", "🤗🤗")
        assert moved(new, self.TEXT, "我们没有GPU") == ("我们没有GPU", False, False)

    def test_replacing_cjk_inside(self):
        new = self.TEXT.replace("没有", "有")
        assert moved(new, self.TEXT, "我们没有GPU") == ("我们有GPU", True, False)


class TestTurns:
    TEXT = "Interviewer: Why?\n\nI1: Compute.\n\nInterviewer: And then?\n"

    def turns(self, text=None):
        text = text or self.TEXT
        return [span_of(text, "Why?"), span_of(text, "Compute."), span_of(text, "And then?")]

    def test_text_typed_at_a_turns_edges_joins_it(self):
        start, end = span_of(self.TEXT, "Compute.")
        new = edited(end, end, " Then data.", self.TEXT)
        new = edited(start, start, "Well: ", new)
        _, turn, last = remap_turns(self.TEXT, new, self.turns())
        assert new[turn.start : turn.end] == "Well: Compute. Then data." and turn.changed
        assert new[last.start : last.end] == "And then?" and not last.changed

    def test_a_turn_emptied_is_lost(self):
        start, end = span_of(self.TEXT, "Compute.")
        new = edited(start, end, "", self.TEXT)
        assert [t.lost for t in remap_turns(self.TEXT, new, self.turns())] == [False, True, False]

    def test_a_replacement_across_two_turns_goes_to_the_earlier(self):
        start, _ = span_of(self.TEXT, "?\n\nI1: Comp")
        new = edited(start, start + len("?\n\nI1: Comp"), "XYZ", self.TEXT)
        first, second, _ = remap_turns(self.TEXT, new, self.turns())
        assert new[first.start : first.end] == "WhyXYZ"
        assert new[second.start : second.end] == "ute." and second.changed

    def test_touching_turns_give_an_insertion_between_them_to_the_earlier(self):
        first, second = remap_turns("abcd", "abXcd", [(0, 2), (2, 4)])
        assert (first.start, first.end, second.start, second.end) == (0, 3, 3, 5)


class TestDiff:
    def test_the_same_text_has_no_changes(self):
        assert diff(TEXT, TEXT) == []

    def test_a_pure_insertion_and_deletion(self):
        assert diff("abc", "abXc") == [Change(2, 2, 2, 3)]
        assert diff("abXc", "abc") == [Change(2, 3, 2, 2)]

    def test_a_long_transcript_with_one_small_edit_runs_through(self):
        # 60,000 characters; the common prefix and suffix are cut before SequenceMatcher runs.
        sentence = "We trained on borrowed GPUs and the data took months to clean. "
        text = (sentence * (60_000 // len(sentence) + 1))[:60_000]
        spans = [(i, i + 7) for i in range(0, 59_000, 997)]
        middle = 30_000 - 30_000 % len(sentence) + 3  # the "trained" of one sentence
        new = edited(middle, middle + 7, "fine-tuned", text)
        result = reanchor(text, new, spans)
        assert len(result) == len(spans)
        for (start, end), a in zip(spans, result, strict=True):
            if not a.changed:
                assert new[a.start : a.end] == text[start:end]

    def test_letters_shared_by_chance_do_not_hold_a_coding(self):
        # "Nothing at all" shares an "o", a "t"… with "Compute, first": a rewrite, not a fix.
        old = "He said: Compute, first. Then we left."
        new = "He said: Nothing at all. Then we left."
        assert diff(old, new) == [Change(9, 23, 9, 23)]
        assert moved(new, old, "Compute, first.") == ("Nothing at all.", True, False)

    def test_a_swapped_pair_of_letters_is_one_change(self):
        assert diff("recieve it", "receive it") == [Change(3, 5, 3, 5)]

    def test_apply_edits_refuses_overlapping_edits(self):
        with pytest.raises(ValueError):
            apply_edits("abcdef", [(0, 3, "x"), (2, 4, "y")])

    def test_atomic_edits_are_one_change_each(self):
        # A label sharing a letter with the name: the name is still replaced as a whole.
        text = "said Kowalski today"
        new, changes = apply_edits(text, [(5, 13, "[K]")], atomic=True)
        assert new == "said [K] today" and changes == [Change(5, 13, 5, 8)]
        [a] = reanchor(text, new, [(5, 13)], changes=changes)
        assert new[a.start : a.end] == "[K]" and a.changed


# --- properties over random texts and edits ------------------------------------------------

ALPHABET = "ab c\nก🤗我"


@st.composite
def texts_edits_spans(draw):
    text = draw(st.text(ALPHABET, min_size=1, max_size=30))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6)))
    edits = [
        (cuts[i], cuts[i + 1], draw(st.text(ALPHABET, max_size=4)))
        for i in range(0, len(cuts) - 1, 2)
    ]
    spans = []
    for _ in range(draw(st.integers(0, 5))):
        start = draw(st.integers(0, len(text) - 1))
        spans.append((start, draw(st.integers(start + 1, len(text)))))
    return text, edits, spans


@given(texts_edits_spans())
def test_untouched_spans_keep_exactly_their_text(case):
    text, edits, spans = case
    new, changes = apply_edits(text, edits)
    for (start, end), a in zip(spans, reanchor(text, new, spans, changes=changes), strict=True):
        assert 0 <= a.start <= a.end <= len(new)
        if not a.changed:
            assert new[a.start : a.end] == text[start:end]
        elif not a.lost:
            assert new[a.start : a.end].strip()


@given(texts_edits_spans())
def test_turns_never_overlap(case):
    text, edits, spans = case
    turns, position = [], 0
    for start, end in sorted(spans):  # turns do not overlap to begin with
        if start >= position:
            turns.append((start, end))
            position = end
    new, changes = apply_edits(text, edits)
    moved_turns = remap_turns(text, new, turns, changes=changes)
    kept = [t for t in moved_turns if not t.lost]
    for before, after in pairwise(kept):
        assert before.end <= after.start
