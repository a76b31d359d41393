"""The pure pseudonymisation functions: matching in any script, rewriting, offset maps."""

import hashlib
import hmac

import pytest

from transcripts.rewriting.pseudonymise import (
    Replacement,
    Rule,
    apply,
    conflicts,
    counts_by_label,
    find_digest,
    find_replacements,
    in_context,
    is_word_boundary,
    remap_span,
    rules_fingerprint,
)


def pseudonymised(text, *rules):
    return apply(text, find_replacements(text, rules))[0]


class TestMatchingAcrossScripts:
    def test_it_replaces_polish_names_with_diacritics(self):
        text = "Rozmawiałam z Łukaszem, a potem Łukasz Żółć powiedział, że Łukasz przyjdzie."
        rules = [Rule("Łukasz Żółć", "[P1]"), Rule("Łukasz", "[P2]")]
        # "Łukaszem" is an inflected form: whole-word matching leaves it to its own rule.
        assert pseudonymised(text, *rules) == (
            "Rozmawiałam z Łukaszem, a potem [P1] powiedział, że [P2] przyjdzie."
        )

    def test_it_folds_polish_case(self):
        assert pseudonymised("ŁUKASZ i łukasz", Rule("Łukasz", "[P2]")) == "[P2] i [P2]"

    def test_it_replaces_cyrillic_names_as_whole_words(self):
        text = "Иван сказал, что Иванов и ИВАН работали вместе."
        assert pseudonymised(text, Rule("Иван", "[P4]")) == (
            "[P4] сказал, что Иванов и [P4] работали вместе."
        )

    def test_chinese_has_no_spaces_so_whole_word_is_substring(self):
        text = "我和张伟在北京大学见面。张伟说……"
        rules = [Rule("张伟", "[P1]"), Rule("北京大学", "[ORG-A]")]
        assert pseudonymised(text, *rules) == "我和[P1]在[ORG-A]见面。[P1]说……"

    def test_thai_has_no_spaces_so_whole_word_is_substring(self):
        text = "คุณสมชายบอกว่าสมชายชอบงานนี้"
        assert pseudonymised(text, Rule("สมชาย", "[P5]")) == "คุณ[P5]บอกว่า[P5]ชอบงานนี้"

    def test_a_latin_name_inside_unspaced_text_is_found(self):
        assert pseudonymised("我和Anna说", Rule("Anna", "[P2]")) == "我和[P2]说"

    def test_emoji_outside_the_bmp_counts_as_one_position(self):
        text = "🙂Anna"
        (r,) = find_replacements(text, [Rule("Anna", "[P2]")])
        assert (r.start, r.end, r.original) == (1, 5, "Anna")
        new_text, offsets = apply(text, [r])
        assert new_text == "🙂[P2]"
        assert offsets(5) == 5 and offsets.new_length == len(new_text) == 5

    def test_whole_word_boundaries(self):
        assert is_word_boundary("Anna's", 4)  # apostrophe is not part of a word
        assert not is_word_boundary("Annabel", 4)
        assert not is_word_boundary("Łukaszowi", 6)
        assert is_word_boundary("张伟说", 2)  # Han: no visible boundary, substring fallback
        assert not is_word_boundary("Anna_B", 4)  # connector punctuation joins words
        assert not is_word_boundary("नमस्ते", 3)  # a combining vowel sign stays in its word

    def test_whole_word_versus_substring(self):
        text = "Anna, Annabel and Joanna"
        assert pseudonymised(text, Rule("Anna", "[P2]")) == "[P2], Annabel and Joanna"
        assert pseudonymised(text, Rule("anna", "[P2]", whole_word=False)) == (
            "[P2], [P2]bel and Jo[P2]"
        )

    def test_a_name_starting_with_punctuation_is_bounded_there(self):
        assert pseudonymised("see (Acme) now", Rule("(Acme)", "[ORG-A]")) == "see [ORG-A] now"

    def test_case_sensitive_rule_matches_only_its_case(self):
        text = "Rose smelled a rose."
        assert pseudonymised(text, Rule("Rose", "[P6]", case_sensitive=True)) == (
            "[P6] smelled a rose."
        )
        assert pseudonymised(text, Rule("Rose", "[P6]")) == "[P6] smelled a [P6]."

    def test_casefold_matches_sharp_s_but_never_half_a_character(self):
        assert pseudonymised("Hauptstraße 5", Rule("HAUPTSTRASSE", "[ADDR]")) == "[ADDR] 5"
        # "ß" folds to "ss": a rule for "s" must not replace half of it.
        assert find_replacements("ß", [Rule("s", "[S]", whole_word=False)]) == []

    def test_overlapping_rules_leftmost_then_longest(self):
        text = "Anna Nowak met Nowak Group."
        rules = [
            Rule("Anna", "[P2]", id=1),
            Rule("Anna Nowak", "[P1]", id=2),
            Rule("Nowak", "[P3]", id=3),
            Rule("Nowak Group", "[ORG-A]", id=4),
        ]
        found = find_replacements(text, rules)
        assert [(r.original, r.rule_id) for r in found] == [("Anna Nowak", 2), ("Nowak Group", 4)]
        assert pseudonymised(text, *rules) == "[P1] met [ORG-A]."

    def test_leftmost_beats_longest(self):
        rules = [Rule("Jan Maria", "[P1]"), Rule("Maria Rokita", "[P2]")]
        assert pseudonymised("Jan Maria Rokita", *rules) == "[P1] Rokita"

    def test_a_tie_goes_to_the_rule_listed_first(self):
        rules = [Rule("strasse", "[A]", id=1), Rule("straße", "[B]", id=2)]
        (r,) = find_replacements("Straße", rules)
        assert r.rule_id == 1


class TestNoRematching:
    def test_applying_twice_changes_nothing(self):
        rules = [Rule("Anna Nowak", "[P1]"), Rule("Anna", "[P2]"), Rule("P1", "[X]")]
        once = pseudonymised("Anna Nowak and Anna, P1.", *rules)
        assert once == "[P1] and [P2], [X]."
        assert find_replacements(once, rules) == []
        assert pseudonymised(once, *rules) == once

    def test_a_label_is_never_matched_inside_the_same_pass(self):
        # "P1" occurs inside the label "[P1]" that another rule produces.
        rules = [Rule("Jan", "[P1]"), Rule("P1", "[X]")]
        assert pseudonymised("Jan", *rules) == "[P1]"

    def test_a_boundary_created_by_a_replacement_is_handled_in_the_same_call(self):
        # "Kowalski" is no whole word in "JanKowalski", but is once "Jan" became "[J]".
        rules = [Rule("Jan", "[J]", whole_word=False), Rule("Kowalski", "[K]")]
        once = pseudonymised("JanKowalski", *rules)
        assert once == "[J][K]"
        assert find_replacements(once, rules) == []

    def test_an_existing_label_in_the_text_is_left_alone(self):
        assert pseudonymised("[P2] said", Rule("P2", "[P2]")) == "[P2] said"


class TestOffsetMap:
    TEXT = "I: Hello Anna Nowak.\nP: Hi, I am from Acme.\n"

    def rewrite(self):
        rules = [Rule("Anna Nowak", "[P1]"), Rule("Acme", "[ORG-A]")]
        return self.TEXT, *apply(self.TEXT, find_replacements(self.TEXT, rules))

    def test_offsets_before_between_and_after_replacements(self):
        text, new_text, offsets = self.rewrite()
        assert new_text == "I: Hello [P1].\nP: Hi, I am from [ORG-A].\n"
        assert offsets(0) == 0 and offsets(9) == 9  # before; start of "Anna Nowak"
        assert offsets(19) == 13  # just after "Anna Nowak" (10 chars → 4)
        assert offsets(len(text)) == len(new_text)
        assert len(offsets) == 2

    def test_turn_spans_keep_their_content(self):
        text, new_text, offsets = self.rewrite()
        turns = [(0, 20), (21, 43)]
        assert [text[s:e] for s, e in turns] == ["I: Hello Anna Nowak.", "P: Hi, I am from Acme."]
        moved = [remap_span(s, e, offsets) for s, e in turns]
        assert [new_text[s:e] for s, e in moved] == ["I: Hello [P1].", "P: Hi, I am from [ORG-A]."]

    def test_a_span_inside_a_name_becomes_the_whole_replacement(self):
        text, new_text, offsets = self.rewrite()
        start = text.index("Nowak")
        span = remap_span(start, start + 3, offsets)  # "Now"
        assert new_text[slice(*span)] == "[P1]"

    def test_a_span_partly_over_a_name_covers_the_whole_replacement(self):
        text, new_text, offsets = self.rewrite()
        start = text.index("Hello")
        span = remap_span(start, text.index("Nowak"), offsets)  # "Hello Anna "
        assert new_text[slice(*span)] == "Hello [P1]"
        end = text.index("Acme") + 2
        span = remap_span(text.index("from"), end, offsets)  # "from Ac"
        assert new_text[slice(*span)] == "from [ORG-A]"

    def test_spans_next_to_a_name_do_not_grow(self):
        text, new_text, offsets = self.rewrite()
        assert new_text[slice(*remap_span(3, 9, offsets))] == "Hello "
        after = text.index(".")
        assert new_text[slice(*remap_span(after, after + 1, offsets))] == "."

    def test_offsets_shift_by_code_points_in_any_script(self):
        text = "Łódź 🎉 Żaneta: «Żaneta» 張偉 end"
        rules = [Rule("Żaneta", "[P7]"), Rule("張偉", "[P8]")]
        new_text, offsets = apply(text, find_replacements(text, rules))
        assert new_text == "Łódź 🎉 [P7]: «[P7]» [P8] end"
        tail = text.index("end")
        assert new_text[offsets(tail) :] == "end"
        assert new_text[slice(*remap_span(0, 6, offsets))] == "Łódź 🎉"

    def test_offsets_outside_the_text_are_refused(self):
        _, _, offsets = self.rewrite()
        with pytest.raises(ValueError):
            offsets(len(self.TEXT) + 1)
        with pytest.raises(ValueError):
            remap_span(5, 2, offsets)

    def test_apply_refuses_replacements_found_in_another_text(self):
        with pytest.raises(ValueError):
            apply("Anna", [Replacement(0, 4, "Olga", "[P1]")])
        with pytest.raises(ValueError):
            apply("Anna Olga", [Replacement(0, 4, "Anna", "[A]"), Replacement(2, 6, "na O", "[B]")])

    def test_no_replacements_is_the_identity(self):
        new_text, offsets = apply("unchanged", [])
        assert new_text == "unchanged" and offsets(4) == 4 and len(offsets) == 0


class TestHelpers:
    def test_counts_by_label(self):
        found = find_replacements(
            "Anna, Anna and Acme", [Rule("Anna", "[P2]"), Rule("Acme", "[O]")]
        )
        assert counts_by_label(found) == {"[O]": 1, "[P2]": 2}

    def test_find_digest_is_a_keyed_hash_of_the_lower_cased_name(self):
        expected = hmac.new(b"key", b"anna nowak", hashlib.sha256).hexdigest()
        assert find_digest("Anna Nowak", b"key") == find_digest("ANNA NOWAK", b"key") == expected
        # Without the key, hashing a guessed name does not reveal a match.
        assert find_digest("Anna Nowak", b"key") != hashlib.sha256(b"anna nowak").hexdigest()

    def test_fingerprint_changes_with_the_list(self):
        a = [Rule("Anna", "[P2]", id=1)]
        assert rules_fingerprint(a) == rules_fingerprint(list(a))
        assert rules_fingerprint(a) != rules_fingerprint([*a, Rule("Olga", "[P3]", id=2)])
        assert rules_fingerprint(a) != rules_fingerprint([Rule("Anna", "[P9]", id=1)])

    def test_context_is_cut_and_marked(self):
        text = "word " * 30 + "Anna" + " word" * 30
        (r,) = find_replacements(text, [Rule("Anna", "[P2]")])
        before, after = in_context(text, r)
        assert before.startswith("…") and before.endswith("word ")
        assert after.startswith(" word") and after.endswith("…")
        short = "Q: Hi\nA:   Anna\there\nQ: Bye"
        (r,) = find_replacements(short, [Rule("Anna", "[P2]")])
        assert in_context(short, r) == ("A: ", " here")  # its own line; runs of space as one

    def test_conflicts_name_a_label_inside_a_name(self):
        assert conflicts(Rule("ORG Ltd", "[O]"), [Rule("Acme", "ORG")])
        assert conflicts(Rule("Acme", "Nowak"), [Rule("Anna Nowak", "[P1]")])
        assert conflicts(Rule("P3", "P3"), [])
        assert conflicts(Rule("Anna", "[P2]"), [Rule("Olga", "[P3]")]) == []
