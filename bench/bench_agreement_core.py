"""Benchmark of the pure agreement core (run: .venv/bin/python bench/bench_agreement_core.py).

No Django. Synthetic studies of transcripts of 60,000 code points, 400 utterances with
alternating interviewer/participant roles, two coders with 400 codings each over 80 codes
(coder B is a perturbed copy of coder A: shifted boundaries, swapped codes, dropped and extra
codings). For 17 and for 200 transcripts it times :func:`study_agreement` (every transcript's
kappa, utterance alpha and α_U, plus the study-wide pooled values), once over the whole text and
once speaker-aware (participant turns only), and :func:`find_disagreements` on every transcript.
Prints p50 / p95 / max over the repeats (after one warm-up run). Targets for the whole app
path: ≤ 300 ms (17 transcripts) and ≤ 3 s (200 transcripts).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coding.agreement import (  # noqa: E402
    SAME_UTTERANCE,
    TranscriptInput,
    find_disagreements,
    study_agreement,
)

LENGTH = 60_000
CODINGS = 400
CODES = 80
UTTERANCES = 400


def transcript(rng: np.random.Generator, key: int) -> TranscriptInput:
    bounds = np.linspace(0, LENGTH, UTTERANCES + 1).astype(int)
    roles = ["interviewer" if i % 2 == 0 else "participant" for i in range(UTTERANCES)]
    utterances = [(int(bounds[i]), int(bounds[i + 1]), roles[i]) for i in range(UTTERANCES)]
    starts = rng.integers(0, LENGTH - 2_000, CODINGS)
    lengths = rng.integers(20, 1_500, CODINGS)
    codes = rng.integers(1, CODES + 1, CODINGS)
    a = np.stack([codes, starts, starts + lengths], axis=1)
    b = a.copy()
    jitter = rng.integers(-30, 31, (CODINGS, 2))
    b[:, 1] = np.clip(b[:, 1] + jitter[:, 0], 0, LENGTH - 1)
    b[:, 2] = np.clip(b[:, 2] + jitter[:, 1], b[:, 1] + 1, LENGTH)
    swap = rng.random(CODINGS) < 0.1
    b[swap, 0] = rng.integers(1, CODES + 1, int(swap.sum()))
    keep = rng.random(CODINGS) >= 0.1
    b = b[keep]
    extra_s = rng.integers(0, LENGTH - 2_000, CODINGS - len(b))
    extra = np.stack([rng.integers(1, CODES + 1, len(extra_s)), extra_s, extra_s + 200], axis=1)
    b = np.concatenate([b, extra])
    as_rows = [tuple(int(x) for x in row) for row in a]
    bs_rows = [tuple(int(x) for x in row) for row in b]
    return TranscriptInput(key, LENGTH, (as_rows, bs_rows), utterances)


def timed(fn, repeats: int) -> list[float]:
    fn()  # warm-up: first-call costs (imports, allocator) are not what the app pays per request
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def report(label: str, ms: list[float]) -> None:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(f"{label:<62} p50 {statistics.median(ms):8.1f} ms  p95 {p95:8.1f} ms  max {ms[-1]:8.1f}")


def main() -> None:
    rng = np.random.default_rng(5)
    for n, repeats in ((17, 21), (200, 7)):
        ts = [transcript(rng, i) for i in range(n)]
        report(
            f"{n} transcripts: study_agreement, whole text",
            timed(lambda ts=ts: study_agreement(ts), repeats),
        )
        report(
            f"{n} transcripts: study_agreement, participant turns only",
            timed(lambda ts=ts: study_agreement(ts, roles={"participant"}), repeats),
        )
        report(
            f"{n} transcripts: find_disagreements, 10-char tolerance",
            timed(lambda ts=ts: [find_disagreements(*t.layers, tolerance=10) for t in ts], repeats),
        )
        report(
            f"{n} transcripts: find_disagreements, same utterance",
            timed(
                lambda ts=ts: [
                    find_disagreements(*t.layers, utterances=t.utterances, tolerance=SAME_UTTERANCE)
                    for t in ts
                ],
                repeats,
            ),
        )


if __name__ == "__main__":
    main()
