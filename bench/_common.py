"""What the benchmarks share: interview-like text to build data from, and a scratch database.

Imported by the bench scripts, which run as ``python bench/<name>.py`` (this folder is then
first on ``sys.path``).
"""

import gc
import math
import time

import psycopg

# Interview material: questions, answers with several scripts and an emoji, code-name parts.
QUESTIONS = [
    "Can you tell me more about that?",
    "How did the team decide what data to include?",
    "What got in the way when you started?",
    "Who paid for the compute, in the end?",
    "How did you handle disagreements about licensing?",
    "What would you do differently next time?",
    "Could you give me an example of that?",
    "How did that feel at the time?",
    "Was there a written process for that, or was it informal?",
    "What role did the community play in the evaluation?",
    "And how did the people who wrote the data feel about it?",
    "You mentioned the steering group — who was on it?",
]
SENTENCES = [
    "We trained the model together and the community reviewed every dataset before it went "
    "into the mix.",
    "Honestly the compute budget was the hardest part; we had no GPUs at all for months.",
    "Licences matter, and so do the people who wrote the text in the first place.",
    "Our Thai subset — ภาษาไทย มีข้อมูลน้อยมาก — needed a lot of manual cleaning.",
    "A colleague in São Paulo ran the evaluation harness every night.",
    "The naïve approach was to scrape everything; the café discussions in Zürich changed that.",
    "Hugging Face 🤗 gave us credits, 真的很感谢, and that unblocked the second run.",
    "We argued about the tokenizer for weeks: byte-level BPE versus SentencePiece.",
    "Nobody was paid for the moderation work, which still bothers me.",
    "When the benchmark numbers came out, people on the forum accused us of contamination.",
    "Documentation is what makes a release usable; the model card took longer than training.",
    "I think trust in the group came from the weekly calls, not from any written policy.",
    "Our Arabic data (العربية) was mostly news, so the register was far too formal.",
    "There was a moment when we almost gave up, right after the cluster went down.",
    "Governance sounds boring, but the steering committee saved the project twice.",
    "Some contributors vanished after the launch; burnout was real.",
    "The licence question — Apache 2.0 or a responsible-AI licence — split the team.",
    "We evaluated on Swahili and Yorùbá too, though the scores were honestly embarrassing.",
    "Credit matters: people want their names on the paper, not just in a footnote.",
    "Safety filtering removed a lot of perfectly fine text written in dialect.",
    "I mean, you learn more from the failed runs than from the good ones.",
    "The Kraków meetup was where the data working group really formed.",
]
OPENERS = ["", "", "Well, ", "I mean, ", "So ", "Yeah — ", "Hmm. ", "Right. "]
TOPICS = [
    "Compute",
    "Data",
    "Licensing",
    "Community",
    "Funding",
    "Evaluation",
    "Safety",
    "Tooling",
    "Governance",
    "Language",
]
TOPICS = [
    "Compute",
    "Data",
    "Licensing",
    "Community",
    "Funding",
    "Evaluation",
    "Safety",
    "Tooling",
    "Governance",
    "Language",
]
ASPECTS = ["as a gate", "sharing", "trust", "burnout", "credit", "norms", "access", "quality"]


def recreate_database(pg_url: str, name: str) -> None:
    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")


def drop_database(pg_url: str, name: str) -> None:
    from django.db import connection

    connection.close()
    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def pct(samples, q):
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class GCWatch:
    """Time spent in the cyclic garbage collector, and full (generation 2) collections."""

    def __init__(self):
        self.ms = 0.0
        self.full = 0
        self._start = 0.0

    def __call__(self, phase, info):
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.ms += (time.perf_counter() - self._start) * 1000
            self.full += info["generation"] == 2

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self)
