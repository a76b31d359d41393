"""How a demo interview's coding is written down: one ``C`` per coding, the words it covers
(which must occur once in the transcript) and, where the coders differ, the reviewer's decision
(``coding.demo.interviews``)."""

from typing import NamedTuple


class C(NamedTuple):
    code: str
    words: str
    by: str = "ab"  # "ab": both coders; "a": the primary coder only; "b": the second only
    b_words: str = ""  # the second coder's span of the same code, when it differs (boundary)
    decide: str = ""  # the reviewer's decision on the disagreement this coding opens
    why: str = ""
    edit: tuple[str, str] = ("", "")  # for an edited decision: the code and words kept
