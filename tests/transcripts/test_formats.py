"""transcripts.formats: every supported format, the speaker-label heuristic, any script, bad input.

Offsets are Unicode code points into ``ParsedTranscript.text``; most tests therefore compare
``text[turn.start:turn.end]`` with the exact speech expected.
"""

import io
import json
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from transcripts.formats import (
    DEFAULT_MAX_BYTES,
    ParsedTranscript,
    TranscriptFormatError,
    Turn,
    parse_transcript,
    sha256,
    speaker_names_from_parlamint_meta,
)

INTEROP = Path(__file__).resolve().parents[2].parent / "shared" / "interop"
needs_interop = pytest.mark.skipif(
    not INTEROP.is_dir(), reason=f"the shared interop corpus is not checked out at {INTEROP}"
)
TRANSCRIPTS = INTEROP / "transcripts"
JFK = INTEROP / "subtitles" / "whisper-jfk"
JFK_SPEECH = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)


def parse(text: str, filename: str = "interview.txt", **kwargs) -> ParsedTranscript:
    parsed = parse_transcript(filename, text.encode(), **kwargs)
    assert_well_formed(parsed)
    return parsed


def spoken(parsed: ParsedTranscript) -> list[tuple[str, str]]:
    return [(turn.speaker, parsed.text[turn.start : turn.end]) for turn in parsed.turns]


def assert_well_formed(parsed: ParsedTranscript) -> None:
    """What every caller relies on, whatever the format."""
    text = parsed.text
    assert text == unicodedata.normalize("NFC", text)
    assert "\r" not in text
    previous_end = 0
    for turn in parsed.turns:
        assert isinstance(turn, Turn)
        assert previous_end <= turn.start < turn.end <= len(text), turn
        span = text[turn.start : turn.end]
        assert span == span.strip() and span, turn
        previous_end = turn.end
    assert parsed.speakers == list(dict.fromkeys(t.speaker for t in parsed.turns if t.speaker))


def interop_files() -> list[Path]:
    if not INTEROP.is_dir():
        return []
    return sorted([*TRANSCRIPTS.iterdir(), *JFK.iterdir()])


# --- The interop corpus (see shared/interop/PROVENANCE.md) -------------------------------------


@needs_interop
@pytest.mark.parametrize("path", interop_files(), ids=lambda path: path.name)
def test_every_interop_file_imports_or_is_refused_clearly(path):
    if path.name.endswith("-meta_uk.tsv"):
        with pytest.raises(TranscriptFormatError, match="metadata"):
            parse_transcript(path.name, path.read_bytes())
        return
    parsed = parse_transcript(path.name, path.read_bytes())
    assert_well_formed(parsed)
    assert parsed.turns


@needs_interop
def test_changelog_markdown_interview():
    path = TRANSCRIPTS / "changelog-afk-1_interview_en.md.txt"
    parsed = parse_transcript(path.name, path.read_bytes())

    assert parsed.format == "markdown"
    # Read as the text Markdown shows: no escape backslashes, no bold markers, lines kept.
    assert "\\" not in parsed.text and "*" not in parsed.text
    written = path.read_text(encoding="utf-8")
    assert parsed.text.count("\n") == written.count("\n")
    assert parsed.text.startswith("Tim Smith: [01:46] Describing what Jason Snell does")
    # 23 bold labels (22 turns and "Break") lose 4 asterisks each; 8 escaped pairs of
    # brackets (6 timestamps, "[laughs]", "[laughter]") lose 2 backslashes each.
    assert len(parsed.text) == len(written) - 23 * 4 - 8 * 2
    assert parsed.speakers == ["Tim Smith", "Jason Snell"]
    assert Counter(t.speaker for t in parsed.turns) == {"Tim Smith": 11, "Jason Snell": 11}
    assert [t.speaker for t in parsed.turns] == ["Tim Smith", "Jason Snell"] * 11
    first = parsed.turns[0]
    # "**Tim Smith:** \[01:46\] Describing…": neither the label nor the timestamp is speech.
    assert parsed.text[first.start :].startswith("Describing what Jason Snell does")
    assert first.start_ms == 106_000
    assert parsed.text[first.start : first.end].endswith(
        "a typical day in Jason's life doesn't really exist."
    )
    assert parsed.turns[2].start_ms is None
    assert parsed.text[parsed.turns[2].start : parsed.turns[2].end] == "You do a lot in one day..."
    # The "\[08:07\]" after Tim's ninth label is his turn's time (8 min 7 s).
    assert parsed.turns[8].start_ms == 487_000
    # A timestamp in a later paragraph stays inside the multi-paragraph turn, as written
    # there, and is not the turn's time: only a timestamp that starts a turn is.
    second = parsed.text[parsed.turns[1].start : parsed.turns[1].end]
    assert "\n\n[04:08] And at some point during the day" in second
    assert parsed.turns[1].start_ms is None
    laughs = next(t for t in parsed.turns if parsed.text[t.start : t.end] == "[laughs] Right.")
    assert laughs.speaker == "Tim Smith" and laughs.start_ms is None
    said = [parsed.text[t.start : t.end] for t in parsed.turns]
    assert not any(s.startswith(("**", "Tim Smith", "Jason Snell")) for s in said)
    # "**Break:** \[11:37\]" has no speech: no turn, no speaker, a warning.
    assert "Break" not in parsed.speakers
    assert any("Break" in warning for warning in parsed.warnings)


@needs_interop
def test_spacelog_timestamp_lines_and_notes():
    path = TRANSCRIPTS / "spacelog-mr3-ATG_freedom7_en.txt"
    parsed = parse_transcript(path.name, path.read_bytes())

    assert parsed.format == "text"
    assert len(parsed.turns) == 115
    assert Counter(t.speaker for t in parsed.turns) == {
        "P": 78, "CC": 28, "CARDFILE": 5, "ICC": 2, "LCC": 1, "UNK": 1,
    }  # fmt: skip
    assert parsed.speakers == ["LCC", "P", "CC", "UNK", "ICC", "CARDFILE"]
    assert not any(speaker.startswith("_") for speaker in parsed.speakers)
    assert spoken(parsed)[:2] == [
        ("LCC", "Lift-off"),
        ("P", "Ahh, Roger; lift-off and the clock is started"),
    ]
    assert [t.start_ms for t in parsed.turns[:4]] == [0, 2_000, 4_000, 8_000]
    # "[00:00:11:04]" is day 0, 0 h, 11 min, 4 s.
    icc = next(t for t in parsed.turns if t.speaker == "ICC")
    assert icc.start_ms == 664_000
    # The "_note:" line after this turn is metadata, not part of what P said.
    how_me = next(t for t in parsed.turns if t.start_ms == 461_000)
    assert parsed.text[how_me.start : how_me.end] == (
        "Ahh, Roger, reading you loud and clear HF, Deke. How me?"
    )
    assert "HF was not received" not in "".join(s for _, s in spoken(parsed))
    assert spoken(parsed)[-1] == ("CC", "Roger")
    assert parsed.turns[-1].start_ms == 917_000


@needs_interop
def test_parlamint_ukrainian_lines_with_names_from_the_metadata_table():
    path = TRANSCRIPTS / "parlamint-UA_2014-12-02-m0_uk.txt"
    meta = TRANSCRIPTS / "parlamint-UA_2014-12-02-m0-meta_uk.tsv"
    names = speaker_names_from_parlamint_meta(meta.read_bytes())
    assert names == {
        "ParlaMint-UA_2014-12-02-m0.u1": "Борисович Гройсман, Володимир",
        "ParlaMint-UA_2014-12-02-m0.u2": "Василівна Матіос, Марія",
        "ParlaMint-UA_2014-12-02-m0.u5": "Борисович Гройсман, Володимир",
        "ParlaMint-UA_2014-12-02-m0.u6": "Борисович Гройсман, Володимир",
    }

    by_id = parse_transcript(path.name, path.read_bytes())
    assert by_id.format == "tab-turns"
    assert [t.speaker for t in by_id.turns] == [
        f"ParlaMint-UA_2014-12-02-m0.u{n}" for n in (1, 2, 5, 6)
    ]
    parsed = parse_transcript(path.name, path.read_bytes(), speaker_names=names)
    assert_well_formed(parsed)
    assert parsed.speakers == ["Борисович Гройсман, Володимир", "Василівна Матіос, Марія"]
    assert [(t.start, t.end) for t in parsed.turns] == [(t.start, t.end) for t in by_id.turns]
    first, second = (parsed.text[t.start : t.end] for t in parsed.turns[:2])
    assert first.startswith("Доброго дня, вельмишановні народні депутати!")
    assert second.startswith("Присягаю на вірність Україні.")
    assert parsed.text[parsed.turns[0].start - 1] == "\t"  # the ID is not speech
    # Inline clock times and stage directions stay in the speech.
    for marker in ("[[10:04:18]]", "[[(Оплески)]]", "[[12:36:17]]"):
        at = parsed.text.index(marker)
        assert any(t.start <= at < t.end for t in parsed.turns), marker
    assert len(parsed.text) == 5_656  # the character count ParlaMint's index gives


@needs_interop
def test_parlamint_metadata_table_is_refused_as_a_transcript():
    meta = TRANSCRIPTS / "parlamint-UA_2014-12-02-m0-meta_uk.tsv"
    with pytest.raises(TranscriptFormatError) as error:
        parse_transcript(meta.name, meta.read_bytes())
    assert meta.name in str(error.value)
    assert "not a transcript" in str(error.value)


@pytest.mark.parametrize(
    "data", [b"", b"ID\tSpeaker\nu1\tAna\n", b"\xff\xfe\x00"], ids=["empty", "columns", "bytes"]
)
def test_parlamint_metadata_helper_refuses_other_tables(data):
    with pytest.raises(TranscriptFormatError, match="ParlaMint metadata"):
        speaker_names_from_parlamint_meta(data)


@needs_interop
def test_qualcoder_bracketed_ids():
    path = TRANSCRIPTS / "qualcoder-example-transcript_en.txt"
    parsed = parse_transcript(path.name, path.read_bytes())

    assert parsed.speakers == ["id1", "id2", "id3"]
    assert [t.speaker for t in parsed.turns] == ["id1", "id2", "id3", "id1", "id3", "id1", "id2"]
    assert spoken(parsed)[-1] == (
        "id2",
        "Hmm, I will ask the tutor for more help as I am really struggling.",
    )
    assert spoken(parsed)[4] == (
        "id3",
        "yes, I am learning a lot as well. It's a good course overall",
    )


@needs_interop
def test_qualcoder_docx_without_labels_is_one_turn_per_paragraph():
    path = TRANSCRIPTS / "qualcoder-example-ID1_en.docx"
    parsed = parse_transcript(path.name, path.read_bytes())

    assert parsed.format == "docx"
    assert parsed.speakers == []
    assert len(parsed.turns) == 3
    assert all(t.speaker == "" and t.start_ms is None for t in parsed.turns)
    speeches = [s for _, s in spoken(parsed)]
    assert speeches[0].startswith("I really like learning new things.")
    assert speeches[2].endswith("I'm happy to pay €200.")
    assert parsed.text.count("\n") == 3  # four Word paragraphs, the last one empty


@needs_interop
@pytest.mark.parametrize(
    ("name", "format", "times"),
    [
        ("jfk.vtt", "vtt", (0, 11_000)),
        ("jfk.srt", "srt", (0, 11_000)),
        ("jfk.json", "whisper-json", (0, 11_000)),
        ("jfk.tsv", "tsv", (0, 11_000)),
        ("jfk.txt", "text", (None, None)),
    ],
)
def test_whisper_outputs_of_the_jfk_sample(name, format, times):
    path = JFK / name
    parsed = parse_transcript(name, path.read_bytes())

    assert parsed.format == format
    assert spoken(parsed) == [("", JFK_SPEECH)]
    assert (parsed.turns[0].start_ms, parsed.turns[0].end_ms) == times
    assert parsed.warnings == []


# --- Plain-text speaker-label styles ------------------------------------------------------------


def test_name_colon_labels_with_multi_paragraph_turns_and_a_preamble():
    parsed = parse(
        "Interview 3, recorded in Kraków.\n\n"
        "Anna: Where did you start?\n\n"
        "Ben: With the data.\n\n"
        "Then we trained the first model.\n"
        "Anna: And then?\n"
        "Ben: Then it broke.\n"
    )
    assert spoken(parsed) == [
        ("", "Interview 3, recorded in Kraków."),
        ("Anna", "Where did you start?"),
        ("Ben", "With the data.\n\nThen we trained the first model."),
        ("Anna", "And then?"),
        ("Ben", "Then it broke."),
    ]
    assert parsed.speakers == ["Anna", "Ben"]
    assert parsed.format == "text"


def test_bracketed_timestamp_before_the_label():
    parsed = parse("[00:01:02] Anna: Hello there.\n[00:01:09.5] Ben: Hi.\n")
    assert spoken(parsed) == [("Anna", "Hello there."), ("Ben", "Hi.")]
    assert [t.start_ms for t in parsed.turns] == [62_000, 69_500]


def test_parenthesised_timestamp_before_the_label():
    parsed = parse("(00:01:02) Anna: Hello there.\n(1:00:00) Ben: Hi.\n")
    assert spoken(parsed) == [("Anna", "Hello there."), ("Ben", "Hi.")]
    assert [t.start_ms for t in parsed.turns] == [62_000, 3_600_000]


def test_timestamp_between_the_name_and_the_colon():
    parsed = parse("Anna (00:01:02): Hello there.\nBen [00:01:10]: Hi.\n")
    assert spoken(parsed) == [("Anna", "Hello there."), ("Ben", "Hi.")]
    assert [t.start_ms for t in parsed.turns] == [62_000, 70_000]


def test_name_alone_on_its_line_with_the_speech_below():
    parsed = parse(
        "INTERVIEWER:\nHow did the project begin?\n\nRESPONDENT:\nSlowly.\n\nThen all at once.\n"
    )
    assert spoken(parsed) == [
        ("INTERVIEWER", "How did the project begin?"),
        ("RESPONDENT", "Slowly.\n\nThen all at once."),
    ]


def test_timestamp_alone_on_its_line_before_the_speaker_spacelog_style():
    parsed = parse(
        "\n[00:00:00:00]\nLCC: Lift-off\n\n[00:00:00:02]\nP: Roger\n_note: garbled\n\n"
        "[01:02:03:04]\nCC: Copy\n"
    )
    assert spoken(parsed) == [("LCC", "Lift-off"), ("P", "Roger"), ("CC", "Copy")]
    assert [t.start_ms for t in parsed.turns] == [0, 2_000, 93_784_000]


def test_markdown_bold_labels_and_escaped_timestamps():
    parsed = parse(
        "# Episode 1\n\n**Tim:** \\[01:46\\] Welcome.\n\n**Jason**: Thanks.\n\n"
        "\\[02:10\\] More thanks.\n",
        "episode.md",
    )
    assert parsed.format == "markdown"
    assert parsed.text == (
        "Episode 1\n\nTim: [01:46] Welcome.\n\nJason: Thanks.\n\n[02:10] More thanks.\n"
    )
    assert spoken(parsed) == [
        ("", "Episode 1"),
        ("Tim", "Welcome."),
        ("Jason", "Thanks.\n\n[02:10] More thanks."),
    ]
    # Only the timestamp that starts a turn is its time; "[02:10]" mid-turn is text.
    assert [t.start_ms for t in parsed.turns] == [None, 106_000, None]


def test_markdown_bracketed_and_role_labels_escapes_and_emphasis_in_speech():
    parsed = parse(
        "**[I5]:** I was \\[laughs\\] *really* unsure \\[04:08\\] at first.\n\n"
        "**Interviewer:** __Why__ was that?\n\n"
        "**[I5]:** My snake_case notes had 2 \\* 3 \\_items\\_ in them.\\\n"
        "A second line.\n",
        "interview.md",
    )
    assert parsed.speakers == ["I5", "Interviewer"]
    assert spoken(parsed) == [
        ("I5", "I was [laughs] really unsure [04:08] at first."),
        ("Interviewer", "Why was that?"),
        ("I5", "My snake_case notes had 2 * 3 _items_ in them.\nA second line."),
    ]
    assert [t.start_ms for t in parsed.turns] == [None, None, None]


def test_markdown_saved_as_text_is_recognised_by_its_bold_labels():
    parsed = parse("**Ana:** \\[00:05\\] Hello.\n\n**Ben:** Hi \\[laughs\\].\n", "notes.txt")
    assert parsed.format == "markdown"
    assert spoken(parsed) == [("Ana", "Hello."), ("Ben", "Hi [laughs].")]
    assert parsed.turns[0].start_ms == 5_000


def test_plain_text_keeps_backslashes_and_asterisks():
    parsed = parse("Ana: a \\[sic\\] *note*\n\nBen: ok\n")
    assert parsed.format == "text"
    assert spoken(parsed)[0] == ("Ana", "a \\[sic\\] *note*")


def test_qualcoder_id_labels():
    parsed = parse("[id1] I like it.\n\n[id2] I do not.\n\n[id1] Fair.\n")
    assert spoken(parsed) == [("id1", "I like it."), ("id2", "I do not."), ("id1", "Fair.")]


@pytest.mark.parametrize(
    "labels",
    [("I", "R"), ("Q", "A"), ("P1", "P2"), ("Interviewer", "Participant 3"), ("int", "resp")],
)
def test_interview_role_abbreviations_even_when_each_speaks_once(labels):
    first, second = labels
    parsed = parse(f"{first}: What do you do?\n{second}: I maintain the tokenizer.\n")
    assert spoken(parsed) == [(first, "What do you do?"), (second, "I maintain the tokenizer.")]


def test_otter_style_name_and_time_on_their_own_line():
    parsed = parse(
        "Jane Doe  0:03\nHello, thanks for coming.\n\n"
        "Sam Roe  0:10\nHappy to.\n\n"
        "Jane Doe  1:02:15\nLet us start.\n"
    )
    assert spoken(parsed) == [
        ("Jane Doe", "Hello, thanks for coming."),
        ("Sam Roe", "Happy to."),
        ("Jane Doe", "Let us start."),
    ]
    assert [t.start_ms for t in parsed.turns] == [3_000, 10_000, 3_735_000]


def test_a_once_only_name_joins_an_established_conversation():
    parsed = parse("P: Go.\nCC: Roger.\nP: Going.\nCC: Copy.\nLCC: Lift-off.\n")
    assert parsed.speakers == ["P", "CC", "LCC"]


def test_a_short_exchange_of_two_names_each_speaking_once():
    parsed = parse("Alice: Did it work?\nBob: It did.\n")
    assert spoken(parsed) == [("Alice", "Did it work?"), ("Bob", "It did.")]


def test_a_label_without_speech_makes_no_turn_and_a_warning():
    parsed = parse("Anna: Hello.\nBen:\n\nAnna: Still there?\n")
    assert spoken(parsed) == [("Anna", "Hello."), ("Anna", "Still there?")]
    assert parsed.warnings == [
        "Line 2: the label “Ben” has no speech after it, so it was not made a turn."
    ]


def test_text_without_labels_is_one_turn_per_paragraph():
    parsed = parse("First paragraph,\nstill the first.\n\n\nSecond paragraph.\n")
    assert spoken(parsed) == [("", "First paragraph,\nstill the first."), ("", "Second paragraph.")]
    assert parsed.speakers == []


def test_timestamps_alone_on_lines_split_unlabelled_text():
    parsed = parse("00:00:05\nWe began.\n00:01:00\nWe ended.\n")
    assert spoken(parsed) == [("", "We began."), ("", "We ended.")]
    assert [t.start_ms for t in parsed.turns] == [5_000, 60_000]


def test_speaker_names_map_labels_as_written():
    parsed = parse("I: Hello.\nR: Hi.\n", speaker_names={"I": "Interviewer", "R": "Ada"})
    assert spoken(parsed) == [("Interviewer", "Hello."), ("Ada", "Hi.")]


# --- Prose that must not be taken for speaker labels -------------------------------------------


@pytest.mark.parametrize(
    "prose",
    [
        "Note: the slides were sent after the session.\n\nWe discussed them at length.\n",
        "We met at 10:30 in the morning.\n\nAt 11:15: coffee.\n",
        "See http://example.org/a:b for details.\nhttps://example.org: the site.\n",
        "e.g.: a list of things.\n\ni.e.: another.\n",
        "In the end we all agreed on the following: open weights.\n",
        "Summary: the project grew.\n\nConclusion: it keeps growing.\n\nA third paragraph.\n",
        "the answer: yes\n\nthe answer: no\n",
        "[laughs] That was funny.\n\n[laughs] Again.\n",
        "Ratio 3:1 in favour.\n10:30 we left.\n",
        "Dear Sir: thank you for the letter.\n\nIt arrived today.\n",
        "Lunch 12:00\nDinner 18:00\n",
        "Anna: a single labelled line is too little to tell a speaker from a heading.\n",
    ],
)
def test_ordinary_prose_with_colons_has_no_speakers(prose):
    parsed = parse(prose)
    assert parsed.speakers == []
    assert all(turn.speaker == "" for turn in parsed.turns)


def test_a_note_inside_a_labelled_interview_continues_the_turn():
    parsed = parse(
        "Date: 3 May 2024\n\n"
        "I: Tell me about the release.\n"
        "R: It went well.\nNote: the slides were late.\n"
        "I: Thanks.\n"
    )
    assert parsed.speakers == ["I", "R"]
    assert spoken(parsed) == [
        ("", "Date: 3 May 2024"),
        ("I", "Tell me about the release."),
        ("R", "It went well.\nNote: the slides were late."),
        ("I", "Thanks."),
    ]


def test_a_tab_after_the_colon():
    parsed = parse("Ana:\tHello.\nBo:\tHi.\n")
    assert parsed.format == "text"
    assert spoken(parsed) == [("Ana", "Hello."), ("Bo", "Hi.")]


def test_colons_inside_speech_are_not_labels():
    parsed = parse("Anna: The time was 10:30: see https://x.org.\nBen: Ok: fine.\nAnna: Yes.\n")
    assert spoken(parsed) == [
        ("Anna", "The time was 10:30: see https://x.org."),
        ("Ben", "Ok: fine."),
        ("Anna", "Yes."),
    ]


# --- Any script ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # Thai: no spaces between words, no letter case
            "สมชาย: สวัสดีครับ ยินดีที่ได้รู้จัก\nมาลี: ค่ะ ยินดีเช่นกัน\nสมชาย: เริ่มกันเลย\n",
            [("สมชาย", "สวัสดีครับ ยินดีที่ได้รู้จัก"), ("มาลี", "ค่ะ ยินดีเช่นกัน"),
             ("สมชาย", "เริ่มกันเลย")],
        ),
        (  # Polish
            "Łukasz Żółć: Zaczęliśmy w Gdańsku.\nBadaczka: Dlaczego?\n"
            "Łukasz Żółć: Bo tam był zespół.\nBadaczka: Dziękuję.\n",
            [("Łukasz Żółć", "Zaczęliśmy w Gdańsku."), ("Badaczka", "Dlaczego?"),
             ("Łukasz Żółć", "Bo tam był zespół."), ("Badaczka", "Dziękuję.")],
        ),
        (  # Yoruba: dots below plus tone marks, some with no precomposed form
            "Ọlájùmọ̀kẹ́: Ẹ kú àárọ̀.\nAdéọlá: Ẹ kú àárọ̀ o.\nỌlájùmọ̀kẹ́: Ṣé dáadáa ni?\n",
            [("Ọlájùmọ̀kẹ́", "Ẹ kú àárọ̀."), ("Adéọlá", "Ẹ kú àárọ̀ o."),
             ("Ọlájùmọ̀kẹ́", "Ṣé dáadáa ni?")],
        ),
        (  # Chinese with full-width colons and no space after them
            "张三：我们从数据开始。\n李四：然后呢？\n张三：然后训练模型。\n",
            [("张三", "我们从数据开始。"), ("李四", "然后呢？"), ("张三", "然后训练模型。")],
        ),
        (  # emoji outside the Basic Multilingual Plane, in the label's line and in the speech
            "🎙️ Episode 12\n\nAna: 🚀 We shipped it 🎉\nBo: 👍\nAna: Done.\n",
            [("", "🎙️ Episode 12"), ("Ana", "🚀 We shipped it 🎉"), ("Bo", "👍"), ("Ana", "Done.")],
        ),
    ],
    ids=["thai", "polish", "yoruba", "chinese", "emoji"],
)  # fmt: skip
def test_any_script(text, expected):
    parsed = parse(text)
    assert spoken(parsed) == [(s, unicodedata.normalize("NFC", t)) for s, t in expected]


def test_offsets_count_code_points_not_utf16_units():
    # U+1F600 is one code point (two UTF-16 units, four UTF-8 bytes): the speech after it
    # starts one position later than after an ASCII character of the same place, not two.
    plain_text = parse("Ana: x Hello\nBo: Hi\nAna: Yes\n")
    emoji_text = parse("Ana: 😀 Hello\nBo: Hi\nAna: Yes\n")
    assert plain_text.turns[1].start == emoji_text.turns[1].start
    assert emoji_text.text.index("Hello") == plain_text.text.index("Hello") == 7
    assert emoji_text.text[emoji_text.turns[0].start : emoji_text.turns[0].end] == "😀 Hello"
    assert emoji_text.turns[0].end - emoji_text.turns[0].start == 7


def test_decomposed_input_is_normalised_to_nfc_and_offsets_follow():
    name = "Adéọlá"
    speech = "Ẹ kú àárọ̀, ọ̀rẹ́ mi."
    decomposed = unicodedata.normalize("NFD", f"{name}: {speech}\nBo: Ó dáa.\n{name}: Ó dàbọ̀.\n")
    data = decomposed.encode()
    parsed = parse_transcript("yoruba.txt", data)
    assert_well_formed(parsed)

    assert len(parsed.text) < len(decomposed)  # NFC composed what it could
    assert parsed.text == unicodedata.normalize("NFC", decomposed)
    nfc_name, nfc_speech = (unicodedata.normalize("NFC", s) for s in (name, speech))
    assert parsed.turns[0].speaker == nfc_name
    assert parsed.text[parsed.turns[0].start : parsed.turns[0].end] == nfc_speech
    assert parsed.turns[0].start == len(nfc_name) + 2


# --- Encodings and line ends --------------------------------------------------------------------


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8-sig"),
        lambda text: text.encode("utf-16"),  # with a BOM, in the machine's byte order
        lambda text: b"\xfe\xff" + text.encode("utf-16-be"),
        lambda text: b"\xff\xfe" + text.encode("utf-16-le"),
    ],
    ids=["utf-8-bom", "utf-16", "utf-16-be", "utf-16-le"],
)
def test_byte_order_marks_are_read_and_dropped(encode):
    parsed = parse_transcript("t.txt", encode("Żaneta: Cześć.\nOla: Hej.\n"))
    assert parsed.text == "Żaneta: Cześć.\nOla: Hej.\n"
    assert spoken(parsed) == [("Żaneta", "Cześć."), ("Ola", "Hej.")]


def test_crlf_and_lone_cr_become_lf():
    parsed = parse_transcript("t.txt", b"Ana: One.\r\nBo: Two.\rAna: Three.\r\n")
    assert_well_formed(parsed)
    assert parsed.text == "Ana: One.\nBo: Two.\nAna: Three.\n"
    assert spoken(parsed)[1] == ("Bo", "Two.")


def test_other_line_separators_become_lf_and_form_feeds_do_not_shift_offsets():
    parsed = parse("Ana: One.\u2028Bo: Two.\nAna: Three\x0cfour.\n")
    assert parsed.text == "Ana: One.\nBo: Two.\nAna: Three\x0cfour.\n"
    assert spoken(parsed)[2] == ("Ana", "Three\x0cfour.")


def test_windows_1252_text_is_refused_with_advice():
    with pytest.raises(TranscriptFormatError, match=r"“notes\.txt” is not UTF-8 text.*UTF-8"):
        parse_transcript("notes.txt", "Café: déjà vu\n".encode("cp1252"))


# --- Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("empty.txt", b"", "“empty.txt” is empty"),
        ("blank.txt", b" \n\t\r\n  ", "“blank.txt” is empty"),
        ("bom-only.txt", b"\xef\xbb\xbf\n", "“bom-only.txt” is empty"),
        ("nul.txt", b"Ana: hi\x00\x01\x02", "“nul.txt” is not a text file"),
        ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "“photo.txt” is a PNG image"),
        ("scan.txt", b"\xff\xd8\xff\xe0\x00\x10JFIF", "“scan.txt” is a JPEG image"),
        ("paper.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "“paper.txt” is a PDF document"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 8, "old-style Word"),
        ("talk.txt", b"\x00\x00\x00\x20ftypM4A \x00\x00", "recording"),
        ("C:\\Users\\me\\interview.docx", b"I: text\n", "“interview.docx” is not a Word .docx"),
        ("fake.docx", b"%PDF-1.4\n", "“fake.docx” is a PDF document"),
    ],
)  # fmt: skip
def test_unreadable_files_are_refused_with_a_message_naming_them(filename, data, message):
    with pytest.raises(TranscriptFormatError) as error:
        parse_transcript(filename, data)
    assert message in str(error.value)


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "files", "message"),
    [
        ("a.docx", {"notes.txt": b"hello"}, "“a.docx” is a ZIP archive, not a Word document"),
        ("a.txt", {"notes.txt": b"hello"}, "“a.txt” is a ZIP archive, not a Word document"),
        ("a.docx", {"xl/workbook.xml": b"<x/>"}, "is an Excel workbook"),
        ("p.docx", {"project.qde": b"<Project/>"}, "is a REFI-QDA project"),
        ("o.docx", {"mimetype": b"application/vnd.oasis.opendocument.text"}, "OpenDocument"),
        ("b.docx", {"word/document.xml": b"<not-word"}, "“b.docx” is a damaged Word document"),
    ],
)
def test_zip_files_that_are_not_word_documents(filename, files, message):
    with pytest.raises(TranscriptFormatError) as error:
        parse_transcript(filename, _zip(files))
    assert message in str(error.value)


def test_a_truncated_docx_is_refused():
    data = _docx(["Ana: Hello.", "Bo: Hi."])
    with pytest.raises(TranscriptFormatError, match="“cut.docx”"):
        parse_transcript("cut.docx", data[: len(data) // 2])


def test_files_over_the_size_limit_are_refused_naming_the_limit_in_megabytes():
    data = b"Ana: hello\n" * (2 * 1024 * 1024 // 11)
    with pytest.raises(TranscriptFormatError) as error:
        parse_transcript("long.txt", data, max_bytes=1024 * 1024)
    assert str(error.value) == "“long.txt” is 2 MB; the limit for a transcript is 1 MB."
    assert DEFAULT_MAX_BYTES == 20 * 1024 * 1024
    assert parse_transcript("long.txt", data[: 1024 * 1024 - 3], max_bytes=1024 * 1024).turns


@needs_interop
@pytest.mark.parametrize("path", interop_files(), ids=lambda path: path.name)
def test_damaged_copies_of_real_files_only_ever_raise_transcript_format_error(path):
    data = path.read_bytes()
    variants = [data[:cut] for cut in (1, 7, len(data) // 3, len(data) - 1)]
    variants += [data[:100] + b"\xff\xfe\x00" + data[100:], bytes(reversed(data))]
    for variant in variants:
        try:
            parsed = parse_transcript(path.name, variant)
        except TranscriptFormatError as error:
            assert path.name in str(error)
        else:
            assert_well_formed(parsed)


# --- DOCX ---------------------------------------------------------------------------------------


def _docx(paragraphs: list[str], table: list[list[str]] | None = None, after: str = "") -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, cells in zip(grid.rows, table, strict=True):
            for cell, text in zip(row.cells, cells, strict=True):
                cell.text = text
    if after:
        document.add_paragraph(after)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_with_labels_and_a_table_in_document_order():
    data = _docx(
        ["Interview 7", "Interviewer: How did it start?", "Maria: In a café.", "Then online."],
        table=[["Interviewer: And now?", "Maria: Still online."]],
        after="Interviewer: Thank you.",
    )
    parsed = parse_transcript("interview.docx", data)
    assert_well_formed(parsed)
    assert parsed.format == "docx"
    assert parsed.text == (
        "Interview 7\nInterviewer: How did it start?\nMaria: In a café.\nThen online.\n"
        "Interviewer: And now?\nMaria: Still online.\nInterviewer: Thank you."
    )
    assert spoken(parsed) == [
        ("", "Interview 7"),
        ("Interviewer", "How did it start?"),
        ("Maria", "In a café.\nThen online."),
        ("Interviewer", "And now?"),
        ("Maria", "Still online."),
        ("Interviewer", "Thank you."),
    ]


def test_docx_merged_table_cells_are_read_once():
    document = docx.Document()
    document.add_paragraph("I: First question?")
    grid = document.add_table(rows=2, cols=2)
    merged = grid.cell(0, 0).merge(grid.cell(0, 1))
    merged.text = "R: A merged answer."
    grid.cell(1, 0).text = "I: Left."
    grid.cell(1, 1).text = "R: Right."
    buffer = io.BytesIO()
    document.save(buffer)

    parsed = parse_transcript("merged.docx", buffer.getvalue())
    assert parsed.text.count("A merged answer.") == 1
    assert spoken(parsed) == [
        ("I", "First question?"),
        ("R", "A merged answer."),
        ("I", "Left."),
        ("R", "Right."),
    ]


def test_docx_keeps_tracked_insertions_and_content_controls_and_drops_deletions():
    document = docx.Document()
    paragraph = document.add_paragraph("Ana: We chose ")
    for fragment in (
        '<w:ins w:id="1" w:author="T"><w:r><w:t xml:space="preserve">open </w:t></w:r></w:ins>',
        '<w:del w:id="2" w:author="T"><w:r><w:delText>closed </w:delText></w:r></w:del>',
        "<w:sdt><w:sdtContent><w:r><w:t>weights</w:t></w:r></w:sdtContent></w:sdt>",
        "<w:r><w:br/><w:t>in 2023.</w:t></w:r>",
    ):
        paragraph._p.append(parse_xml(f"<w:root {nsdecls('w')}>{fragment}</w:root>")[0])
    document.add_paragraph("Bo: Why?")
    document.add_paragraph("Ana: Trust.")
    buffer = io.BytesIO()
    document.save(buffer)

    parsed = parse_transcript("tracked.docx", buffer.getvalue())
    assert_well_formed(parsed)
    assert spoken(parsed) == [
        ("Ana", "We chose open weights\nin 2023."),
        ("Bo", "Why?"),
        ("Ana", "Trust."),
    ]


def test_docx_without_text_is_refused():
    with pytest.raises(TranscriptFormatError, match="“blank.docx” has no text"):
        parse_transcript("blank.docx", _docx(["", "  "]))


# --- WebVTT -------------------------------------------------------------------------------------


def test_vtt_voice_tags_merge_consecutive_cues_and_markup_is_stripped():
    vtt = (
        "WEBVTT\n\nNOTE made by hand\n\n"
        "1\n00:01.000 --> 00:04.000\n<v Dr. Ada Lovelace>Hello <b>and</b> welcome,\n"
        "<i>everyone</i>.\n\n"
        "2\n00:04.500 --> 00:06.000\n<v Dr. Ada Lovelace>Shall we begin?</v>\n\n"
        "00:06.000 --> 00:08.250 align:start\n<v.loud Charles>Yes &amp; <c.yellow>gladly</c>!\n\n"
        "00:01:08.000 --> 00:01:09.000\n<v Dr. Ada Lovelace>Good.\n"
    )
    parsed = parse(vtt, "call.vtt")
    assert parsed.format == "vtt"
    assert parsed.text == (
        "Dr. Ada Lovelace: Hello and welcome, everyone. Shall we begin?\n\n"
        "Charles: Yes & gladly!\n\n"
        "Dr. Ada Lovelace: Good.\n"
    )
    assert spoken(parsed) == [
        ("Dr. Ada Lovelace", "Hello and welcome, everyone. Shall we begin?"),
        ("Charles", "Yes & gladly!"),
        ("Dr. Ada Lovelace", "Good."),
    ]
    assert [(t.start_ms, t.end_ms) for t in parsed.turns] == [
        (1_000, 6_000), (6_000, 8_250), (68_000, 69_000),
    ]  # fmt: skip
    assert "<" not in parsed.text
    assert parsed.warnings == []


def test_vtt_two_voices_in_one_cue():
    parsed = parse("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ana>Hi.</v> <v Bo>Hello.</v>\n")
    assert spoken(parsed) == [("Ana", "Hi."), ("Bo", "Hello.")]


def test_vtt_speaker_prefix_in_cue_text_zoom_style():
    parsed = parse(
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nAna Silva: Can you hear me?\n\n"
        "2\n00:00:02.500 --> 00:00:03.000\nBo: Yes.\n\n"
        "3\n00:00:03.000 --> 00:00:04.000\nAna Silva: Good.\n"
    )
    assert spoken(parsed) == [
        ("Ana Silva", "Can you hear me?"),
        ("Bo", "Yes."),
        ("Ana Silva", "Good."),
    ]


def test_vtt_cues_without_speakers_stay_separate_turns():
    parsed = parse(
        "WEBVTT\n\n00:00.000 --> 00:02.000\nFirst cue.\n\n00:02.000 --> 00:04.000\nSecond cue.\n"
    )
    assert spoken(parsed) == [("", "First cue."), ("", "Second cue.")]
    assert parsed.text == "First cue.\n\nSecond cue.\n"


def test_vtt_broken_and_empty_cues_are_skipped_with_warnings_naming_them():
    parsed = parse(
        "WEBVTT\n\n"
        "00:00:01.000 --> 00:00:02.000\nGood one.\n\n"
        "00:00:05.000 --> 00:00:03.000\nEnds before it starts.\n\n"
        "00:00:xx.000 --> 00:00:09.000\nBad timing.\n\n"
        "00:00:10.000 --> 00:00:11.000\n<i></i>\n\n"
        "00:00:12.000 --> 00:00:13.000\nGood two.\n",
        "broken.vtt",
    )
    assert spoken(parsed) == [("", "Good one."), ("", "Good two.")]
    assert parsed.warnings == [
        "Skipped cue 2 (line 6): it ends (00:00:03.000) before it starts (00:00:05.000).",
        "Skipped cue 3 (line 9): its timing line cannot be read.",
        "1 empty cue skipped.",
    ]


@pytest.mark.parametrize(
    ("vtt", "message"),
    [
        (
            "WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nBackwards.\n\n00:99.000 --> 01:00.000\nX\n",
            "“all-broken.vtt” has no readable cues: cue 1 (line 3)",
        ),
        ("WEBVTT\n\nJust some text, no timings.\n", "“all-broken.vtt” has no cues"),
        ("Not a header\n\n00:01.000 --> 00:02.000\nHi\n", "first line must be “WEBVTT”"),
        ("WEBVTT\n\n00:01.000 --> 00:02.000\n<b> </b>\n", "none of them has any text"),
    ],
)
def test_vtt_without_a_usable_cue_is_refused(vtt, message):
    with pytest.raises(TranscriptFormatError) as error:
        parse_transcript("all-broken.vtt", vtt.encode())
    assert message in str(error.value)


# --- SRT ----------------------------------------------------------------------------------------


def test_srt_speaker_prefixes_markup_and_multi_line_cues():
    srt = (
        "1\n00:00:01,000 --> 00:00:03,500\n{\\an8}<i>Interviewer:</i> How did you\nget started?\n\n"
        "2\n00:00:04,000 --> 00:00:06,000\nJosé: By <b>accident</b>.\n\n"
        "3\n00:00:06,000 --> 00:00:08,000\nJosé: Really.\n\n"
        "4\n00:00:09,000 --> 00:00:10,000\nInterviewer: Thanks.\n"
    )
    parsed = parse(srt, "talk.srt")
    assert parsed.format == "srt"
    assert spoken(parsed) == [
        ("Interviewer", "How did you get started?"),
        ("José", "By accident. Really."),
        ("Interviewer", "Thanks."),
    ]
    assert [(t.start_ms, t.end_ms) for t in parsed.turns] == [
        (1_000, 3_500), (4_000, 8_000), (9_000, 10_000),
    ]  # fmt: skip


def test_srt_is_detected_by_content_and_broken_cues_are_named():
    parsed = parse(
        "1\n00:00:01,000 --> 00:00:02,000\nFine.\n\n"
        "2\n00:00:03 --> 00:00:04,000\nNo milliseconds.\n\n"
        "3\n00:00:05,000 --> 00:00:06,000\nAlso fine.\n",
        "subtitles.txt",
    )
    assert parsed.format == "srt"
    assert spoken(parsed) == [("", "Fine."), ("", "Also fine.")]
    assert parsed.warnings == [
        "Skipped cue 2 (line 5): its timing line “00:00:03 --> 00:00:04,000” cannot be read."
    ]


def test_srt_with_only_broken_cues_is_refused():
    with pytest.raises(TranscriptFormatError, match="“x.srt” has no readable cues: cue 1"):
        parse_transcript("x.srt", b"1\n00:00:01 --> 00:00:02\nNo.\n")


# --- Whisper JSON and TSV -----------------------------------------------------------------------


def test_whisper_json_segments_with_whisperx_speakers():
    document = {
        "segments": [
            {"start": 0.0, "end": 2.5, "text": " Hello there.", "speaker": "SPEAKER_00"},
            {"start": 2.5, "end": 4.0, "text": " How are you?", "speaker": "SPEAKER_00"},
            {"start": 4.2, "end": 5.0, "text": " Fine\r\nthanks.", "speaker": "SPEAKER_01"},
            {"start": "soon", "end": 6.0, "text": "Lost."},
            {"start": 7.0, "end": 8.0, "text": "   "},
        ]
    }
    parsed = parse(json.dumps(document), "call.json", speaker_names={"SPEAKER_01": "Bo"})
    assert parsed.format == "whisper-json"
    assert spoken(parsed) == [("SPEAKER_00", "Hello there. How are you?"), ("Bo", "Fine thanks.")]
    assert [(t.start_ms, t.end_ms) for t in parsed.turns] == [(0, 4_000), (4_200, 5_000)]
    assert parsed.warnings == [
        "Skipped segment 4: its start or end time is missing or not a number of seconds.",
        "1 empty segment skipped.",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"segments": [', "“w.json” is not valid JSON (line 1"),
        (b'{"text": "hi"}', "has no list of “segments”"),
        (b'{"segments": []}', "has no segments with text"),
    ],
)
def test_bad_whisper_json_is_refused(data, message):
    with pytest.raises(TranscriptFormatError) as error:
        parse_transcript("w.json", data)
    assert message in str(error.value)


def test_csv_with_speaker_and_seconds():
    parsed = parse(
        'speaker,start,end,text\nAna,0.5,1.25,"Hello, all."\nBo,00:00:02.000,3.0,Hi.\n',
        "export.csv",
    )
    assert parsed.format == "csv"
    assert spoken(parsed) == [("Ana", "Hello, all."), ("Bo", "Hi.")]
    assert [(t.start_ms, t.end_ms) for t in parsed.turns] == [(500, 1_250), (2_000, 3_000)]


def test_tsv_rows_with_bad_times_are_skipped_and_a_table_without_text_is_refused():
    parsed = parse("start\tend\ttext\n0\t1000\tOne.\nx\t2000\tTwo.\n", "w.tsv")
    assert spoken(parsed) == [("", "One.")]
    assert parsed.warnings == ["Skipped row 3: its start time “x” cannot be read."]
    with pytest.raises(TranscriptFormatError, match="without a “text” column"):
        parse_transcript("w.tsv", b"start\tend\twords?\n0\t1\tx\n")


def test_tsv_is_read_without_csv_quoting_and_oversized_cells_are_refused():
    parsed = parse('start\tend\ttext\n0\t900\t"Hello," she said.\n900\t2000\tNext.\n', "w.tsv")
    assert spoken(parsed) == [("", '"Hello," she said.'), ("", "Next.")]
    with pytest.raises(TranscriptFormatError, match="“big.csv” is not a readable table"):
        parse_transcript("big.csv", b'speaker,text\nAna,"' + b"x" * 200_000 + b'"\n')


def test_id_tab_lines_one_turn_each():
    parsed = parse("u1\tFirst [[10:00:00]] words.\nu2\tSecond words.\n")
    assert parsed.format == "tab-turns"
    assert spoken(parsed) == [("u1", "First [[10:00:00]] words."), ("u2", "Second words.")]


def test_sha256_of_the_original_bytes():
    assert sha256(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert len(sha256("Ọlá".encode())) == 64


def test_markdown_keeps_private_use_characters_of_the_file_and_its_escaped_stars():
    parsed = parse("**Ana:** \U000f0041 \\*not bold\\* \U000f002a\n\n**Ben:** ok\n", "a.md")
    assert spoken(parsed)[0] == ("Ana", "\U000f0041 *not bold* \U000f002a")
