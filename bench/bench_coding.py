"""Benchmark of the coding view at full size (run: .venv/bin/python bench/bench_coding.py).

Builds its own PostgreSQL database (``bench_coding``, dropped and re-created; the server is
``BENCH_PG_URL``, default ``postgres://postgres@127.0.0.1:5432``) with one study: a lead, two
coders, 80 codes and one ~10,000-word interview of ~200 alternating turns (some Thai, Chinese,
Arabic, accents, an emoji), ready and assigned in independent mode, with 2,000 codings split
over the two layers: random word-aligned spans, overlapping, a few across turns (seed 2026).

Settings are production-like: DEBUG off (cached template loader, hashed static files collected
into a temporary STATIC_ROOT served by WhiteNoise), no HTTPS redirect. ``--debug`` keeps DEBUG on.

Measured, in process through Django's test client (force_login):

- the coding view, full page and htmx fragment, as coder 1 (own layer: ~1,000 codings shown)
  and as the lead (both layers: 2,000), and the coding editor fragment (click on a highlight):
  p50 / p95 / max over N requests after a warm-up; query counts at 200 and at 2,000 codings
  (they must be equal);
- applying one code (htmx POST, re-renders the workspace; the coding is deleted again outside
  the timing so the size stays constant), and the service ``coding_create`` alone;
- per request, the time in the cyclic garbage collector and the number of full (generation 2)
  collections, and the p95 less GC;
- where the time of the slow requests goes, without a profiler: exclusive time in SQL (execute
  wrapper), ORM rows → objects, ``coding.rendering.coding_page.build_turns``, template
  rendering, and the rest; with ``--profile`` (or when a target is missed) the landmarks and
  top 10 functions of cProfile.

Then in Chromium (Playwright, /usr/bin/chromium) against gunicorn (2 workers, as in the
Dockerfile) serving the same database: sign in as the lead and as coder 1 through the login
form, page loads (TTFB, first contentful paint, DOMContentLoaded, load); ten times as coder 1:
select words in a turn (DOM Range API) and open the picker with a mouseup, press "1", and time
key → new highlight in the DOM → painted (MutationObserver, then requestAnimationFrame +
setTimeout), split with the request's resource timing (server, download, htmx swap, paint);
one more apply under the Chrome CPU profiler (self time per function); parsing the workspace
fragment alone; ten clicks on a highlight → editor panel painted. ``--quick`` runs fewer
repeats (N=10, 3 in the browser).

Not a test: numbers go to bench/RESULTS.md by hand. Exits 1 if a query count grows with the
number of codings.
"""

import argparse
import cProfile
import io
import os
import platform
import pstats
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import _common  # bench/_common.py: shared interview text and scratch database
from _common import ASPECTS, OPENERS, QUESTIONS, SENTENCES, TOPICS, GCWatch, pct

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DB_NAME = "bench_coding"
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
PASSWORD = "bench-coding-password-2026"
SEED = 2026
CODINGS = 2_000
SMALL = 200  # the query counts must be the same with this many codings as with CODINGS
WORDS = 10_000
TURNS = 200
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

TARGET_VIEW_P95 = 60.0
TARGET_VIEW_QUERIES = 12
TARGET_APPLY_P95 = 25.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (10 / 3)")
    parser.add_argument("--debug", action="store_true", help="keep DEBUG on (no template cache)")
    parser.add_argument("--profile", action="store_true", help="always print the cProfile part")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium part")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    return parser.parse_args()


ARGS = parse_args()
STATIC_ROOT = tempfile.mkdtemp(prefix="bench_coding_static_")
BENCH_ENV = {
    "DATABASE_URL": f"{PG_URL}/{DB_NAME}",
    "DEBUG": "1" if ARGS.debug else "0",
    "SECRET_KEY": "bench-coding-throwaway-key-never-used-anywhere-else-0123456789abcdef",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
    "STATIC_ROOT": STATIC_ROOT,
    "LOG_LEVEL": "ERROR",
}
os.environ.update(BENCH_ENV)
os.environ["DJANGO_SETTINGS_MODULE"] = "workbench.settings"
os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.template.backends import django as template_backend  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

N = 10 if ARGS.quick else 50
BROWSER_N = 3 if ARGS.quick else 10
WARMUP = 3 if ARGS.quick else 5


# --- the database ----------------------------------------------------------------------------


def recreate_database():
    _common.recreate_database(PG_URL, DB_NAME)


def drop_database():
    _common.drop_database(PG_URL, DB_NAME)


# --- the data ----------------------------------------------------------------------------------

WORD = re.compile(r"\S+")


def interview(rng: random.Random) -> tuple[str, int]:
    """A ~WORDS-word interview of TURNS alternating turns, and its number of spoken words."""
    asks = []
    for _ in range(TURNS // 2):
        asks.append(" ".join(rng.sample(QUESTIONS, rng.choice([1, 1, 2]))))
    asked = sum(len(q.split()) for q in asks)
    weights = [rng.lognormvariate(0, 0.5) for _ in range(TURNS // 2)]
    left = WORDS - asked
    lengths = [max(15, round(left * w / sum(weights))) for w in weights]
    answers = []
    for length in lengths:
        words = rng.choice(OPENERS).split()
        while len(words) < length:
            words += rng.choice(SENTENCES).split()
        said = " ".join(words[:length])
        answers.append(said if said.endswith((".", "?", "!")) else said.rstrip(",;:—") + ".")
    lines, second, spoken = [], 0, 0
    for ask, answer in zip(asks, answers, strict=True):
        for speaker, said in (("Interviewer", ask), ("P07", answer)):
            stamp = f"[{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}]"
            lines.append(f"{stamp} {speaker}: {said}")
            words = len(said.split())
            spoken += words
            second += max(2, round(words * 0.4))
    return "\n\n".join(lines) + "\n", spoken


def coding_spans(rng: random.Random, text: str, utterances, count: int) -> list[tuple[int, int]]:
    """``count`` word-aligned spans: mostly inside a turn, about 1 in 20 across turns."""
    turns = [
        [(m.start(), m.end()) for m in WORD.finditer(text, u.start, u.end)] for u in utterances
    ]
    weights = [
        len(w) * (1.0 if u.role == "participant" else 0.3)
        for w, u in zip(turns, utterances, strict=True)
    ]
    spans = []
    while len(spans) < count:
        if rng.random() < 0.05:
            first = rng.randrange(len(turns) - 2)
            last = first + rng.choice([1, 2])
            if not turns[first] or not turns[last]:
                continue
            a = turns[first][rng.randrange(max(0, len(turns[first]) - 8), len(turns[first]))]
            b = turns[last][rng.randrange(min(8, len(turns[last])))]
            spans.append((a[0], b[1]))
            continue
        words = rng.choices(turns, weights)[0]
        length = min(len(words), max(1, round(rng.lognormvariate(2.4, 0.7))))  # median ~11
        first = rng.randrange(len(words) - length + 1)
        spans.append((words[first][0], words[first + length - 1][1]))
    return spans


def colour(n: int) -> str:
    import colorsys

    r, g, b = colorsys.hsv_to_rgb(
        (n * 0.618034) % 1, 0.55 + 0.3 * (n % 3) / 2, 0.55 + 0.1 * (n % 4)
    )
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def build():
    """Study, people, codebook, the transcript (ready, assigned) and SMALL codings."""
    from django.contrib.auth import get_user_model

    from coding.models import Coding, CodingMode, Layer, LayerRole, LayerStatus
    from coding.services import assignments as assignment_services
    from coding.services.codebook import code_create
    from tests.factories import consented_participant, imported_transcript
    from transcripts.services import transcripts as transcript_services
    from workbench.services import members as member_services
    from workbench.services import studies as study_services

    rng = random.Random(SEED)
    User = get_user_model()
    admin = User.objects.create_user("bench_admin", password=PASSWORD, first_name="Alice")
    study = study_services.study_create(actor=admin, name="Open LLM interviews (bench)")
    people = {}
    for username, first, role in (
        ("lena", "Lena", "lead"),
        ("chen", "Chen", "coder"),
        ("kofi", "Kofi", "coder"),
    ):
        people[username] = User.objects.create_user(username, password=PASSWORD, first_name=first)
        member_services.member_set_roles(
            actor=admin, study=study, user=people[username], roles={role}
        )
    codes = [
        code_create(
            actor=admin,
            study=study,
            name=f"{topic} {aspect}",
            definition=f"The interviewee talks about {topic.lower()} in terms of {aspect}.",
            colour=colour(n),
        )
        for n, (topic, aspect) in enumerate((t, a) for t in TOPICS for a in ASPECTS)
    ]
    text, spoken = interview(rng)
    participant = consented_participant(study, "P07", actor=admin)
    transcript = imported_transcript(study, participant, text, filename="p07.txt", actor=admin)
    transcript = transcript_services.transcript_update(
        actor=admin, transcript=transcript, version=transcript.version, status="ready"
    )
    assignment_services.assignment_set(
        actor=people["lena"],
        transcript=transcript,
        primary=people["chen"],
        second=people["kofi"],
        mode=CodingMode.INDEPENDENT,
    )
    Layer.objects.filter(transcript=transcript).update(status=LayerStatus.IN_PROGRESS)
    layers = [
        Layer.objects.get(transcript=transcript, role=LayerRole.PRIMARY),
        Layer.objects.get(transcript=transcript, role=LayerRole.SECOND),
    ]
    utterances = list(transcript.utterances.order_by("index"))
    text = transcript.text
    popularity = [1 / (k + 1) ** 0.8 for k in range(len(codes))]
    rows, seen = [], set()
    while len(rows) < CODINGS:
        # One coding per code and span in a layer (coding_once_per_span): a twin is drawn again.
        for start, end in coding_spans(rng, text, utterances, CODINGS - len(rows)):
            layer, code = layers[len(rows) % 2], rng.choices(codes, popularity)[0]
            if (layer.pk, code.pk, start, end) not in seen:
                seen.add((layer.pk, code.pk, start, end))
                rows.append(
                    Coding(layer=layer, code=code, start=start, end=end, snippet=text[start:end])
                )
    Coding.objects.bulk_create(rows[:SMALL])
    return {
        "study": study,
        "transcript": transcript,
        "people": people,
        "codes": codes,
        "layers": layers,
        "utterances": utterances,
        "rest": rows[SMALL:],
        "spoken": spoken,
        "rng": rng,
    }


# --- measuring ---------------------------------------------------------------------------------


def summary(samples):
    return {
        "n": len(samples),
        "p50": pct(samples, 0.5),
        "p95": pct(samples, 0.95),
        "max": max(samples),
        "min": min(samples),
    }


def sample(fn, n, *, warmup=WARMUP, after=None):
    """Run ``fn`` ``warmup`` times, then ``n`` timed times; ``after`` (untimed) cleans up.

    Returns the times (ms), the GC time within each, and the number of full collections."""
    for _ in range(warmup):
        result = fn()
        if after:
            after(result)
    times, in_gc, full = [], [], 0
    for _ in range(n):
        with GCWatch() as watch:
            start = time.perf_counter()
            result = fn()
            times.append((time.perf_counter() - start) * 1000)
        in_gc.append(watch.ms)
        full += watch.full
        if after:
            after(result)
    return times, in_gc, full


def count_queries(fn, after=None):
    with CaptureQueriesContext(connection) as queries:
        result = fn()
    if after:
        after(result)
    return len(queries.captured_queries)


class Split:
    """Where a request's time goes, without a profiler: the exclusive time spent in SQL
    (execute wrapper), in turning rows into model objects (QuerySet._fetch_all less its SQL),
    in ``build_turns`` (splitting turns into highlight spans), in template rendering
    (less the above inside it), and the rest (view code, middleware, session, test client)."""

    KEYS = ("sql", "orm", "turns", "render")

    def __init__(self):
        self.own = dict.fromkeys(self.KEYS, 0.0)
        self.stack = []

    def timed(self, key, fn, *args, **kwargs):
        self.stack.append(0.0)
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent = time.perf_counter() - start
            self.own[key] += spent - self.stack.pop()
            if self.stack:
                self.stack[-1] += spent

    def measure(self, fn, n, after=None):
        from django.db.models.query import QuerySet

        from coding.views import codings as coding_views

        split = self
        patches = [
            (template_backend.Template, "render", "render"),
            (QuerySet, "_fetch_all", "orm"),
            (coding_views, "build_turns", "turns"),
        ]
        originals = []
        for owner, name, key in patches:
            original = getattr(owner, name)
            originals.append((owner, name, original))

            def wrapper(*args, _original=original, _key=key, **kwargs):
                return split.timed(_key, _original, *args, **kwargs)

            setattr(owner, name, wrapper)

        def execute(execute, sql, params, many, context):
            return split.timed("sql", execute, sql, params, many, context)

        total = 0.0
        try:
            with connection.execute_wrapper(execute):
                for _ in range(n):
                    start = time.perf_counter()
                    result = fn()
                    total += time.perf_counter() - start
                    if after:
                        after(result)
        finally:
            for owner, name, original in originals:
                setattr(owner, name, original)
        spent = {key: self.own[key] / n * 1000 for key in self.KEYS}
        spent["total"] = total / n * 1000
        spent["other"] = spent["total"] - sum(self.own.values()) / n * 1000
        return spent


def profile(fn, n, after=None, top=10):
    profiler = cProfile.Profile()
    for _ in range(n):
        profiler.enable()
        result = fn()
        profiler.disable()
        if after:
            after(result)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    body = [line for line in lines[start:] if line.strip()]
    # Cumulative time of a few landmarks, per request.
    landmarks = {
        "template render (backend)": ("django/template/backends/django.py", "render"),
        "_workspace_context": ("coding/views/codings.py", "_workspace_context"),
        "build_turns (split turns into spans)": ("coding/rendering/coding_page.py", "build_turns"),
        "_piece (one highlight span)": ("coding/rendering/coding_page.py", "_piece"),
        "side_panel_codes (codebook query)": ("coding/selectors/codings.py", "side_panel_codes"),
        "SQL execute": ("django/db/backends/utils.py", "_execute"),
        "ORM rows → objects (ModelIterable)": ("django/db/models/query.py", "__iter__"),
        "html escape": ("django/utils/html.py", "escape"),
    }
    found = {}
    for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
        for label, (suffix, func) in landmarks.items():
            if filename.endswith(suffix) and name == func:
                found[label] = max(found.get(label, 0.0), ct)
    total = stats.total_tt
    return (
        body,
        {label: found[label] / n * 1000 for label in landmarks if label in found},
        total / n * 1000,
    )


# --- the browser -------------------------------------------------------------------------------

NAV_JS = """
() => {
  const n = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {
    ttfb: n.responseStart - n.requestStart,
    response_end: n.responseEnd,
    dcl: n.domContentLoadedEventEnd,
    load: n.loadEventEnd,
    fcp: fcp ? fcp.startTime : null,
    bytes: n.decodedBodySize,
    transfer: n.transferSize,
    hl: document.querySelectorAll('.hl').length,
    nodes: document.getElementsByTagName('*').length,
  };
}
"""

# How much of the htmx swap is HTML parsing: fetch the workspace fragment and parse it into a
# detached <template> a few times (no htmx, no insertion into the page).
PARSE_JS = """
async ([url, n]) => {
  const response = await fetch(url, {headers: {'HX-Request': 'true'}});
  const html = await response.text();
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const template = document.createElement('template');
    template.innerHTML = html;
    times.push(performance.now() - t0);
  }
  return {chars: html.length, times, htmx: window.htmx ? htmx.version : ''};
}
"""

# Select whole words of one participant turn with the DOM Range API, as a drag would, and open
# the picker with a mouseup (as tests/browser/test_coding.py does); returns the selected text
# and how long until the picker was open and painted.
SELECT_JS = """
async ([turn, firstWord, nWords]) => {
  const saids = Array.from(
    document.querySelectorAll('#coding-workspace .cturn.role-participant .said'));
  const said = saids[turn % saids.length];
  said.scrollIntoView({block: 'center'});
  const walker = document.createTreeWalker(said, NodeFilter.SHOW_TEXT);
  const nodes = [];
  let all = '';
  while (walker.nextNode()) {
    nodes.push([walker.currentNode, all.length]);
    all += walker.currentNode.data;
  }
  const words = Array.from(all.matchAll(/\\S+/gu));
  const a = Math.min(firstWord, words.length - 1);
  const b = Math.min(a + nWords, words.length) - 1;
  const from = words[a].index;
  const to = words[b].index + words[b][0].length;
  const locate = (i) => {
    for (let k = nodes.length - 1; k >= 0; k--) {
      if (nodes[k][1] <= i) return [nodes[k][0], i - nodes[k][1]];
    }
  };
  const range = document.createRange();
  range.setStart(...locate(from));
  range.setEnd(...locate(to));
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  const text = selection.toString();
  const t0 = performance.now();
  document.querySelector('.coding-turns').dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
  await new Promise((resolve) => setTimeout(resolve, 0));  // coding.js opens it in a timeout
  const open = !document.getElementById('code-picker').hidden;
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  return {text, open, picker: performance.now() - t0};
}
"""

# Arm the apply measurement: t0 at the key press (capture listener), t1 when the swapped
# workspace holding a highlight of a coding newer than any on the page is in the DOM, t2 after
# the next frame is painted (requestAnimationFrame, then a task).
ARM_APPLY_JS = """
() => {
  let before = 0;
  document.querySelectorAll('.hl').forEach((el) => {
    for (const id of el.dataset.codings.split(' ')) before = Math.max(before, Number(id));
  });
  performance.clearResourceTimings();
  const r = {before};
  window.__benchDone = new Promise((resolve, reject) => {
    window.addEventListener('keydown', () => { r.t0 = performance.now(); },
                            {capture: true, once: true});
    const observer = new MutationObserver((records) => {
      // A refusal swaps the whole workspace; an applied code swaps its turns (out of band).
      const swapped = records.some((record) => Array.from(record.addedNodes).some(
        (node) => node.nodeType === 1 &&
          (node.id === 'coding-workspace' || node.classList.contains('cturn'))));
      if (!swapped) return;
      r.t1 = performance.now();
      observer.disconnect();
      const fresh = Array.from(document.querySelectorAll('#coding-workspace .hl')).filter(
        (el) => el.dataset.codings.split(' ').some((id) => Number(id) > before));
      r.fresh = fresh.length;
      r.text = fresh.map((el) => el.textContent).join('');
      const error = document.getElementById('coding-error');
      r.error = error ? error.textContent : '';
      if (fresh.length) {
        const rect = fresh[0].getBoundingClientRect();
        r.visible = rect.width > 0 && rect.height > 0;
      }
      r.t1layout = performance.now();
      requestAnimationFrame(() => setTimeout(() => {
        r.t2 = performance.now();
        const entry = performance.getEntriesByType('resource').filter(
          (e) => e.name.includes('/code/apply/')).pop();
        if (entry) {
          r.sent = entry.requestStart;
          r.first_byte = entry.responseStart;
          r.last_byte = entry.responseEnd;
        }
        resolve(r);
      }, 0));
    });
    observer.observe(document.body, {childList: true, subtree: true});
    setTimeout(() => reject(new Error('no new highlight within 15 s')), 15000);
  });
  return before;
}
"""

# Arm the click measurement on the k-th highlight that starts a coding in a participant turn:
# scroll it into view, empty the editor panel, t0 at mousedown, t1 when the editor shows that
# coding, t2 after the next paint. Returns where to click.
ARM_CLICK_JS = """
(k) => {
  const tip = document.getElementById('hl-tip');
  if (tip) tip.hidden = true;
  const starts = Array.from(
    document.querySelectorAll('#coding-workspace .cturn.role-participant .hl.first'));
  for (let j = 0; j < starts.length; j++) {
    const el = starts[(k + j) % starts.length];
    el.scrollIntoView({block: 'center'});
    const rect = el.getClientRects()[0];
    if (!rect || rect.width < 4) continue;
    const x = rect.left + Math.min(6, rect.width / 2);
    const y = rect.top + rect.height / 2;
    const hit = document.elementFromPoint(x, y);
    if (!hit || hit.closest('.hl') !== el) continue;
    const id = el.dataset.codings.split(' ')[0];
    document.getElementById('coding-editor').innerHTML = '';
    performance.clearResourceTimings();
    const r = {id};
    window.__benchDone = new Promise((resolve, reject) => {
      window.addEventListener('mousedown', () => { r.t0 = performance.now(); },
                              {capture: true, once: true});
      const shown = () => document.querySelector(
        '#coding-editor .editor-body[data-coding="' + id + '"]');
      const observer = new MutationObserver(() => {
        if (!shown()) return;
        observer.disconnect();
        r.t1 = performance.now();
        requestAnimationFrame(() => setTimeout(() => {
          r.t2 = performance.now();
          const entry = performance.getEntriesByType('resource').filter(
            (e) => e.name.includes('/codings/')).pop();
          if (entry) {
            r.sent = entry.requestStart;
            r.first_byte = entry.responseStart;
            r.last_byte = entry.responseEnd;
          }
          resolve(r);
        }, 0));
      });
      observer.observe(document.body, {childList: true, subtree: true});
      setTimeout(() => reject(new Error('editor did not open within 15 s')), 15000);
    });
    return {x, y, id};
  }
  throw new Error('no clickable highlight');
}
"""


def js_hotspots(profile, top=10):
    """Self time (ms) per JavaScript function of a CDP CPU profile, largest first."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    own = {}
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"], strict=True):
        frame = nodes[node_id]["callFrame"]
        where = frame["url"].rsplit("/", 1)[-1]
        name = frame["functionName"] or "(anonymous)"
        key = f"{name} {where}:{frame['lineNumber'] + 1}" if where else name
        own[key] = own.get(key, 0.0) + delta / 1000
    return sorted(own.items(), key=lambda item: -item[1])[:top]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(log):
    """gunicorn (as in the Dockerfile) with 2 sync workers on the bench database."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "workbench.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/accounts/login/", timeout=2) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("gunicorn did not answer within 30 s")


def browser_part(data, results):
    from playwright.sync_api import expect, sync_playwright

    from coding.models import Coding

    study, transcript = data["study"], data["transcript"]
    own = data["layers"][0]
    path = reverse("coding_view", args=[study.slug, transcript.pk])
    log_path = Path(tempfile.mkstemp(prefix="bench_coding_gunicorn_", suffix=".log")[1])
    log = log_path.open("w")
    proc, base_url = start_server(log)
    # Playwright's sync API runs an event loop in this thread; the ORM calls below (checking
    # and deleting the applied codings) are plain blocking calls, made between browser steps.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    rng = random.Random(SEED + 1)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            results["chromium"] = browser.version

            def signed_in(username):
                context = browser.new_context(
                    base_url=base_url, viewport={"width": 1280, "height": 900}
                )
                context.set_default_timeout(20_000)
                page = context.new_page()
                page.goto("/accounts/login/")
                page.locator("#id_username").fill(username)
                page.locator("#id_password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                expect(page.get_by_role("heading", name="Your studies", level=1)).to_be_visible()
                return context, page

            def loads(page, n):
                navs = []
                for _ in range(n):
                    page.goto(path, wait_until="load")
                    page.wait_for_function(
                        "performance.getEntriesByType('navigation')[0].loadEventEnd > 0"
                    )
                    navs.append(page.evaluate(NAV_JS))
                return navs

            expect.set_options(timeout=20_000)
            lead_context, lead_page = signed_in("lena")
            results["load_lead"] = loads(lead_page, max(2, BROWSER_N // 2))
            lead_context.close()

            context, page = signed_in("chen")
            results["load_coder"] = loads(page, max(3, BROWSER_N // 2))

            picker = page.locator("#code-picker")
            participant_turns = sum(1 for u in data["utterances"] if u.role == "participant")
            cdp = context.new_cdp_session(page)

            def apply_in_browser(profiled=False):
                turn = rng.randrange(participant_turns)
                chosen = page.evaluate(SELECT_JS, [turn, rng.randrange(10), rng.randrange(2, 12)])
                expect(picker).to_be_visible()
                before = page.evaluate(ARM_APPLY_JS)
                if profiled:
                    cdp.send("Profiler.enable")
                    cdp.send("Profiler.setSamplingInterval", {"interval": 100})
                    cdp.send("Profiler.start")
                page.locator("#picker-search").press("1")
                r = page.evaluate("() => window.__benchDone")
                if profiled:
                    r["profile"] = cdp.send("Profiler.stop")["profile"]
                    cdp.send("Profiler.disable")
                assert r["fresh"] and r["visible"], r
                created = Coding.objects.filter(layer=own, pk__gt=before)
                assert created.count() == 1, list(created)
                coding = created.get()
                assert coding.snippet == chosen["text"].strip(), (coding.snippet, chosen)
                created.delete()  # keep the size constant
                return r | {"picker": chosen["picker"], "picker_open": chosen["open"]}

            applies = [apply_in_browser() for _ in range(BROWSER_N + 1)]  # first: warm-up
            results["apply_browser"] = applies[1:]
            results["js_profile"] = js_hotspots(apply_in_browser(profiled=True)["profile"])

            clicks = []
            for k in range(BROWSER_N + 1):
                target = page.evaluate(ARM_CLICK_JS, rng.randrange(1000) + k * 37)
                page.mouse.click(target["x"], target["y"])
                clicks.append(page.evaluate("() => window.__benchDone"))
            results["click_browser"] = clicks[1:]
            results["parse"] = page.evaluate(PARSE_JS, [path, BROWSER_N])
            context.close()
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        tail = log_path.read_text(errors="replace").strip()
        if tail:
            print(f"gunicorn log:\n{tail[-2000:]}")
        log_path.unlink(missing_ok=True)


# --- the run ---------------------------------------------------------------------------------


def main():
    print(f"database: {PG_URL}/{DB_NAME} (re-created)  DEBUG={settings.DEBUG}")
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    recreate_database()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    try:
        run()
    finally:
        shutil.rmtree(STATIC_ROOT, ignore_errors=True)
        if not ARGS.keep:
            drop_database()


def run():
    from coding.models import Coding
    from coding.services import codings as coding_services

    started = time.perf_counter()
    data = build()
    study, transcript, people = data["study"], data["transcript"], data["people"]
    codes, layers = data["codes"], data["layers"]
    coder, lead = people["chen"], people["lena"]
    own = layers[0]
    rng = data["rng"]
    text = transcript.text
    utterances = data["utterances"]
    print(
        f"transcript: {data['spoken']:,} spoken words, {len(utterances)} turns, "
        f"{len(text):,} code points, {sum(1 for ch in text if ord(ch) > 127):,} non-ASCII; "
        f"80 codes; built in {time.perf_counter() - started:.1f} s"
    )

    view_url = reverse("coding_view", args=[study.slug, transcript.pk])
    apply_url = reverse("coding_apply", args=[study.slug, transcript.pk])
    coder_client, lead_client = Client(), Client()
    coder_client.force_login(coder)
    lead_client.force_login(lead)
    htmx = {"HTTP_HX_REQUEST": "true"}
    participant_words = [
        [(m.start(), m.end()) for m in WORD.finditer(text, u.start, u.end)]
        for u in utterances
        if u.role == "participant"
    ]
    version = transcript.text_sha256[:16]

    def get(client, url, **headers):
        def fn():
            response = client.get(url, **headers)
            assert response.status_code == 200, response.status_code
            return response

        return fn

    def random_span():
        words = rng.choice(participant_words)
        first = rng.randrange(len(words))
        last = min(len(words) - 1, first + rng.randrange(1, 15))
        return words[first][0], words[last][1]

    # What the coder's layer holds: applying one of these again makes nothing (idempotent), so
    # the samples draw a code and span that are not there yet.
    taken = set()

    def take_stock():
        taken.clear()
        taken.update(Coding.objects.filter(layer=own).values_list("code_id", "start", "end"))

    def random_choice():
        while True:
            start, end = random_span()
            code = rng.choice(codes)
            if (code.pk, start, end) not in taken:
                return start, end, code

    take_stock()

    def apply_once():
        start, end, code = random_choice()
        newest = Coding.objects.order_by("-pk").values_list("pk", flat=True)[0]
        response = coder_client.post(
            apply_url,
            {"start": start, "end": end, "code": [code.pk], "text_version": version},
            HTTP_HX_REQUEST="true",
            HTTP_HX_CURRENT_URL=f"http://testserver{view_url}",
        )
        assert response.status_code == 200, response.status_code
        assert b'id="coding-error"' not in response.content, response.content[:500]
        return newest

    def service_once():
        start, end, code = random_choice()
        newest = Coding.objects.order_by("-pk").values_list("pk", flat=True)[0]
        coding_services.coding_create(actor=coder, layer=own, code=code, start=start, end=end)
        return newest

    def undo_apply(newest):
        deleted, _ = Coding.objects.filter(layer=own, pk__gt=newest).delete()
        assert deleted == 1, deleted

    editor_pk = Coding.objects.filter(layer=own).values_list("pk", flat=True).first()
    editor_url = reverse("coding_editor", args=[study.slug, editor_pk])
    scenarios = [
        ("coding view, coder 1, full page", get(coder_client, view_url), None, "view"),
        ("coding view, coder 1, htmx fragment", get(coder_client, view_url, **htmx), None, "view"),
        ("coding view, lead, full page", get(lead_client, view_url), None, "view"),
        ("coding view, lead, htmx fragment", get(lead_client, view_url, **htmx), None, "view"),
        ("coding editor fragment (coder 1)", get(coder_client, editor_url, **htmx), None, ""),
        ("apply one code (htmx POST, re-render)", apply_once, undo_apply, "apply"),
        ("coding_create service alone", service_once, undo_apply, ""),
    ]

    small = {}
    for label, fn, after, _ in scenarios:
        times, _, _ = sample(fn, 10, warmup=2, after=after)
        small[label] = (count_queries(fn, after), summary(times))

    Coding.objects.bulk_create(data["rest"])
    take_stock()
    counts = [Coding.objects.filter(layer=layer).count() for layer in layers]
    print(f"codings: {sum(counts):,} ({counts[0]:,} + {counts[1]:,} in the two layers)")
    for who, client in (("coder 1", coder_client), ("lead", lead_client)):
        page = client.get(view_url).content
        spans = page.count(b'<span class="hl')
        print(f"page as {who}: {len(page) / 1024:.0f} KiB, {spans:,} highlight spans")

    rows = []
    grew = []
    for label, fn, after, target in scenarios:
        times, in_gc, full = sample(fn, N, after=after)
        queries = count_queries(fn, after)
        s = summary(times) | {
            "gc": sum(in_gc) / len(in_gc),
            "full_gc": full,
            "p95_net": pct([t - g for t, g in zip(times, in_gc, strict=True)], 0.95),
        }
        rows.append((label, s, small[label][0], queries, small[label][1], target))
        if queries != small[label][0]:
            grew.append(label)

    print()
    print(f"In process, Django test client, N={N} after {WARMUP} warm-up requests (ms)")
    print(
        f"{'request':<42} {'min':>7} {'p50':>7} {'p95':>7} {'max':>7} {'GC':>6} {'full':>4} "
        f"{'p95-GC':>7}  {'queries':>13}  "
        f"{'p50 @200':>9}  target"
    )
    missed = []
    for label, s, q_small, q_big, s_small, target in rows:
        verdict = ""
        if target == "view":
            ok = s["p95"] <= TARGET_VIEW_P95 and q_big <= TARGET_VIEW_QUERIES and q_big == q_small
            verdict = f"p95 ≤ {TARGET_VIEW_P95:.0f}, ≤ {TARGET_VIEW_QUERIES} q: " + (
                "met" if ok else "MISSED"
            )
        elif target == "apply":
            ok = s["p95"] <= TARGET_APPLY_P95
            verdict = f"p95 ≤ {TARGET_APPLY_P95:.0f}: " + ("met" if ok else "MISSED")
        if target and not ok:
            missed.append(label)
        print(
            f"{label:<42} {s['min']:7.1f} {s['p50']:7.1f} {s['p95']:7.1f} {s['max']:7.1f} "
            f"{s['gc']:6.1f} {s['full_gc']:4} {s['p95_net']:7.1f}  "
            f"{q_small:>4} → {q_big:<4}   {s_small['p50']:9.1f}  {verdict}"
        )
    print(
        "(GC: mean ms per request in the garbage collector; full: generation-2 collections in "
        f"the {N} requests; p95-GC: p95 of the time less GC;\n queries: at {SMALL} codings → at "
        f"{CODINGS:,}; p50 @200: the same request with {SMALL} codings, 10 runs)"
    )

    print()
    print("Where the time goes (mean per request, ms; no profiler)")
    split_n = 10 if ARGS.quick else 20
    print(
        f"{'request':<42} {'total':>7} {'SQL':>7} {'ORM':>7} {'_turns':>7} {'render':>7} "
        f"{'other':>7}"
    )
    by_label = {label: (fn, after) for label, fn, after, _ in scenarios}
    for label in (
        "coding view, coder 1, full page",
        "coding view, lead, full page",
        "coding view, lead, htmx fragment",
        "apply one code (htmx POST, re-render)",
    ):
        fn, after = by_label[label]
        s = Split().measure(fn, split_n, after)
        print(
            f"{label:<42} {s['total']:7.1f} {s['sql']:7.1f} {s['orm']:7.1f} {s['turns']:7.1f} "
            f"{s['render']:7.1f} {s['other']:7.1f}"
        )
    print(
        "(exclusive times: SQL = execute; ORM = rows → model objects; _turns = turns split into "
        "highlight spans; render = templates; other = view code, middleware, session, client)"
    )

    if missed or ARGS.profile:
        for label in ("coding view, lead, full page", "apply one code (htmx POST, re-render)"):
            fn, after = by_label[label]
            body, marks, total = profile(fn, 10 if ARGS.quick else 20, after)
            print()
            print(f"cProfile: {label} — {total:.1f} ms per request under the profiler")
            for mark, ms in marks.items():
                print(f"  {mark:<40} {ms:7.1f} ms cumulative")
            print("  top 10 by own time:")
            for line in body:
                print("  " + line)

    results = {}
    if not ARGS.no_browser:
        browser_part(data, results)
        print_browser(results)

    print()
    print(
        f"machine: {os.cpu_count()} cores, {platform.platform()}, Python "
        f"{platform.python_version()}, PostgreSQL {connection.pg_version // 10000}."
        f"{connection.pg_version % 10000}, Chromium {results.get('chromium', '-')}"
    )
    print("load average at end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    if missed:
        print("targets missed: " + "; ".join(missed))
    if grew:
        print("QUERY COUNT GROWS WITH CODINGS: " + "; ".join(grew))
        raise SystemExit(1)


def print_browser(results):
    def line(label, samples, unit="ms"):
        s = summary(samples)
        print(f"{label:<52} {s['p50']:7.1f} {s['p95']:7.1f} {s['max']:7.1f}  (n={s['n']})")

    print()
    print(
        f"Chromium {results['chromium']}, headless, 1280×900, htmx {results['parse']['htmx']}, "
        "gunicorn 2 workers (ms)"
    )
    print(f"{'step':<52} {'p50':>7} {'p95':>7} {'max':>7}")
    for who, key in (("coder 1", "load_coder"), ("lead", "load_lead")):
        navs = results[key]
        first = navs[0]
        print(
            f"page load as {who}: {first['bytes'] / 1024:.0f} KiB HTML "
            f"({first['transfer'] / 1024:.0f} KiB transferred), {first['hl']} highlights, "
            f"{first['nodes']:,} elements"
        )
        line(f"  {who}: server time to first byte", [n["ttfb"] for n in navs])
        line(f"  {who}: first contentful paint", [n["fcp"] or 0 for n in navs])
        line(f"  {who}: DOMContentLoaded", [n["dcl"] for n in navs])
        line(f"  {who}: load", [n["load"] for n in navs])
    applies = results["apply_browser"]
    line("select words → picker open and painted", [a["picker"] for a in applies])
    line("key '1' → new highlight in the DOM", [a["t1"] - a["t0"] for a in applies])
    line("key '1' → new highlight painted", [a["t2"] - a["t0"] for a in applies])
    line("  of which: key → request sent", [a["sent"] - a["t0"] for a in applies])
    line(
        "  of which: server (request sent → first byte)",
        [a["first_byte"] - a["sent"] for a in applies],
    )
    line(
        "  of which: download (first → last byte)",
        [a["last_byte"] - a["first_byte"] for a in applies],
    )
    line("  of which: htmx swap (last byte → in DOM)", [a["t1"] - a["last_byte"] for a in applies])
    line("  of which: layout + paint (in DOM → painted)", [a["t2"] - a["t1"] for a in applies])
    parse = results["parse"]
    line(
        f"  parse the {parse['chars'] / 1024:.0f} K-char fragment alone (template.innerHTML)",
        parse["times"],
    )
    print("  one apply under the Chrome CPU profiler, self time by function (ms):")
    for name, ms in results["js_profile"]:
        print(f"    {ms:7.1f}  {name}")
    clicks = results["click_browser"]
    line("click a highlight → editor in the DOM", [c["t1"] - c["t0"] for c in clicks])
    line("click a highlight → editor painted", [c["t2"] - c["t0"] for c in clicks])
    if all("first_byte" in c for c in clicks):
        line(
            "  of which: server (request sent → first byte)",
            [c["first_byte"] - c["sent"] for c in clicks],
        )


if __name__ == "__main__":
    main()
