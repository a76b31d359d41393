"""Benchmark of bounded uploads (run: .venv/bin/python bench/bench_uploads.py [--quick]).

Two parts, both on a scratch PostgreSQL database ``bench_uploads`` (dropped and re-created;
server ``BENCH_PG_URL``, default ``postgres://postgres@127.0.0.1:5432``; dropped at the end):

1. The readers, one crafted or real file per fresh process (``--case NAME``), as the import
   calls them: time, and memory growth as the kernel counts it (peak RSS, reset through
   /proc/self/clear_refs just before the call, less the RSS then; lxml's memory is invisible
   to tracemalloc). The files are built at run time by ``tests/bombs.py``: the review's 612 KB
   .docx whose document unpacks to 190 MB, its 240 MB .qdpx, a plain .qdc of 1.1 million codes,
   21 MB of text in a 90 KB .docx, 3 million empty elements in one paragraph, 8.5 million
   empty paragraphs, a ZIP of 200,000 entries, 49 MB of paragraphs of 200 empty runs (8
   million tags), the costliest .docx still under every limit (the same, 5.7 MB: 997,000 tags),
   and the real NVivo files from ../shared/interop.
   Wall time and CPU time (the box is shared).
2. gunicorn (``gunicorn.conf.py`` when there is one; 2 sync workers, timeout 900 s so a slow
   reader is measured rather than killed) serving the import page: one request of 8 × 19 MB,
   one of 5 × 19 MB and one of a single 19 MB transcript (text with Thai, Arabic, Chinese and
   an emoji, so Python holds it at 4 bytes a character), streamed from this process; the
   workers' peak RSS growth (/proc/<pid>/clear_refs before, VmHWM after). Then four review
   .docx bombs posted at once while another client loads the sign-in page every 0.2 s: their
   time, and the slowest sign-in page meanwhile (did the site stall?).

The script runs unchanged on an older checkout (copy it and tests/bombs.py there) to measure
the "before" numbers. Not a test: numbers go to bench/RESULTS.md by hand.
"""

import argparse
import gc
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
import zipfile
from pathlib import Path

import _common  # bench/_common.py: scratch database, interview sentences

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DB_NAME = "bench_uploads"
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
INTEROP = ROOT.parent / "shared" / "interop"
MB = 1024 * 1024

CASES = {
    "docx-bomb": "review's .docx: 190 MB of XML",
    "docx-near-cap": ".docx: 49 MB of 200-run paragraphs (8 M tags)",
    "docx-worst-read": ".docx: 5.7 MB of them (997 k tags)",
    "docx-paragraphs": ".docx: 8.5 M empty paragraphs (49 MB)",
    "docx-text": ".docx: 21 MB of text",
    "docx-flood": ".docx: 3 M empty runs in one paragraph",
    "zip-entries": "ZIP of 200,000 empty entries",
    "nvivo-docx": "real NVivo .docx (18.5 MB of XML)",
    "qdpx-bomb": "review's .qdpx: 240 MB project.qde",
    "qdc-codes": "plain .qdc: 1.1 M codes",
    "nvivo-qdpx": "real NVivo .qdpx codebook (152 codes)",
}


def _kib(field: str, pid: str = "self") -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+)", status, re.M).group(1))


def _reset_peak(pid: str = "self") -> int:
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return _kib("VmRSS", pid)


def _case_input(name: str) -> bytes:
    from tests import bombs

    if name == "docx-bomb":
        return bombs.expanding_docx(190 * MB)
    if name == "docx-near-cap":
        return bombs.busy_paragraphs_docx(49 * MB)
    if name == "docx-worst-read":
        return bombs.busy_paragraphs_docx(int(5.7 * MB))
    if name == "docx-paragraphs":
        return bombs.empty_paragraphs_docx(49 * MB // 6)
    if name == "docx-text":
        return bombs.text_docx(21 * MB)
    if name == "docx-flood":
        return bombs.flat_markup_docx(3_000_000, in_one_paragraph=True)
    if name == "zip-entries":
        return bombs.many_members(200_000)
    if name == "qdpx-bomb":
        return bombs.expanding_qdpx(240 * MB)
    if name == "qdc-codes":
        codes = b'<Code guid="g" name="c"/>' * 1_100_000
        return (
            b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>' + codes + b"</Codes></CodeBook>"
        )
    nvivo = zipfile.ZipFile(INTEROP / "refi-qda/nvivo/nvivo-12.6_oltas0517_hu.qdpx")
    if name == "nvivo-docx":
        return nvivo.read("Sources/68bbdc14-c361-4432-b4dd-ae1dbfc12890.docx")
    return (INTEROP / "refi-qda/nvivo/nvivo-12.6_oltas0517_hu.qdpx").read_bytes()


def run_case(name: str) -> None:
    """In a fresh process: build the input, then time one call of the reader."""
    import django

    django.setup()
    from coding.formats import codebook
    from transcripts.formats import TranscriptFormatError, parse_transcript
    from workbench.models import Study

    data = _case_input(name)
    codebook_file = name.startswith(("qdpx", "qdc", "nvivo-qdpx"))
    study = Study.objects.first() if codebook_file else None
    gc.collect()
    before = _reset_peak()
    start, cpu = time.perf_counter(), time.process_time()
    try:
        if codebook_file:
            parsed = codebook.parse_qdc(data, study)
            outcome = (
                f"refused: {parsed.errors[0]}" if parsed.errors else f"{len(parsed.rows)} codes"
            )
        else:
            outcome = f"{len(parse_transcript(name + '.docx', data).turns)} turns"
    except TranscriptFormatError as error:
        outcome = f"refused: {error}"
    except Exception as error:  # the old code's failures are part of the numbers
        outcome = f"crashed: {type(error).__name__}"
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    growth = (_kib("VmHWM") - before) / 1024
    row = {"size": len(data), "seconds": seconds, "cpu": cpu, "mb": growth, "outcome": outcome}
    print(json.dumps(row))


def readers_part(env: dict) -> None:
    print(f"\n{'reader input':<46} {'file':>9} {'time':>8} {'CPU':>8} {'memory':>9}  outcome")
    for name, label in CASES.items():
        if name.startswith("nvivo") and not INTEROP.exists():
            continue
        result = subprocess.run(
            [sys.executable, __file__, "--case", name],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            print(f"{label:<46} failed: {result.stderr.strip()[-300:]}")
            continue
        row = json.loads(result.stdout.strip().splitlines()[-1])
        print(
            f"{label:<46} {row['size'] / 1024:>6.0f} KB {row['seconds']:>6.2f} s "
            f"{row['cpu']:>6.2f} s {row['mb']:>+7.1f} MB  {row['outcome'][:90]}"
        )


# --- gunicorn --------------------------------------------------------------------------------


def setup_study() -> tuple[str, str, int]:
    """A lead, a study and a consented participant: the lead's session cookie, the import
    page's path and the participant's id."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from tests.factories import consented_participant
    from workbench.services import members as member_services
    from workbench.services import studies as study_services

    call_command("migrate", verbosity=0)
    lead = get_user_model().objects.create_user("bench-lead", password="bench-uploads-2026")
    study = study_services.study_create(actor=lead, name="Bench uploads")
    member_services.member_set_roles(actor=lead, study=study, user=lead, roles={"admin", "lead"})
    participant = consented_participant(study, "I1", actor=lead)
    client = Client()
    client.force_login(lead)
    path = reverse("transcript_import", kwargs={"study_slug": study.slug})
    return client.cookies["sessionid"].value, path, participant.pk


def start_server(env: dict, log) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    args = [sys.executable, "-m", "gunicorn", "workbench.wsgi:application"]
    if (ROOT / "gunicorn.conf.py").exists():
        args += ["--config", "gunicorn.conf.py"]
    args += ["--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "900"]
    args += ["--access-logfile", "/dev/null", "--log-level", "warning"]
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/accounts/login/", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def workers(master: int) -> list[str]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                found.append(stat.parent.name)
        except (OSError, IndexError, ValueError):
            pass
    return found


def post_files(url: str, cookie: str, participant: int, files: list[tuple[str, int]]) -> str:
    """POST the import form with ``files`` (name, size) streamed as multipart; the page's
    first refusal or preview line, shortened."""
    import http.client

    boundary = uuid.uuid4().hex
    body_line = (" ".join(_common.SENTENCES) + "\n").encode()

    def part(name, filename=None):
        disposition = f'form-data; name="{name}"'
        if filename:
            disposition += f'; filename="{filename}"'
        return f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()

    pieces = [part("participant"), str(participant).encode(), b"\r\n"]
    for index, (filename, size) in enumerate(files):
        head = f"I1: file {index}\n".encode()
        count = (size - len(head)) // len(body_line)
        pieces += [part("files", filename), (head, body_line, count), b"\r\n"]
    pieces.append(f"--{boundary}--\r\n".encode())
    length = sum(len(p) if isinstance(p, bytes) else len(p[0]) + len(p[1]) * p[2] for p in pieces)

    def stream():
        for piece in pieces:
            if isinstance(piece, bytes):
                yield piece
            else:
                head, line, count = piece
                yield head
                block = line * 2000
                for _ in range(count // 2000):
                    yield block
                yield line * (count % 2000)

    where = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(where.netloc, timeout=600)
    connection.request(
        "POST", where.path, body=stream(), headers=_headers(cookie, boundary, length)
    )
    page = connection.getresponse().read().decode()
    return _summary(page)


def _headers(cookie, boundary, length):
    token = "b" * 32  # a CSRF cookie we choose, sent back as the header: Django accepts it
    return {
        "Cookie": f"sessionid={cookie}; csrftoken={token}",
        "X-CSRFToken": token,
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(length),
    }


def _summary(page: str) -> str:
    import html

    found = re.findall(r'<ul class="errorlist[^"]*">\s*<li>(.*?)</li>', page, re.S)
    found += re.findall(r'<ul class="rejected">\s*<li>(.*?)</li>', page, re.S)
    previews = len(re.findall(r'name="f\d+-skip"', page))
    text = html.unescape(found[0]) if found else ""
    return f"{previews} previewed" + (f"; {text[:80]}" if text else "")


def server_part(env: dict, quick: bool) -> None:
    cookie, import_path, participant = setup_study()
    with tempfile.TemporaryFile() as log:
        proc, base = start_server(env, log)
        try:
            measure_uploads(proc, f"{base}{import_path}", cookie, participant)
            parallel_bombs(f"{base}{import_path}", base, cookie, participant, 2 if quick else 4)
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def measure_uploads(proc, url, cookie, participant) -> None:
    print(f"\n{'through gunicorn (2 workers)':<46} {'time':>9} {'worker memory':>14}  page")
    for label, files in [
        ("one request of 8 × 19 MB transcripts", [(f"t{n}.txt", 19 * MB) for n in range(8)]),
        ("one request of 5 × 19 MB transcripts", [(f"t{n}.txt", 19 * MB) for n in range(5)]),
        ("one request of 1 × 19 MB transcript", [("t.txt", 19 * MB)]),
    ]:
        pids = workers(proc.pid)
        before = {pid: _reset_peak(pid) for pid in pids}
        start = time.perf_counter()
        summary = post_files(url, cookie, participant, files)
        seconds = time.perf_counter() - start
        growth = max((_kib("VmHWM", pid) - before[pid]) / 1024 for pid in pids)
        print(f"{label:<46} {seconds:>7.2f} s {growth:>+11.1f} MB  {summary}")


def parallel_bombs(url, base, cookie, participant, count) -> None:
    """``count`` review .docx bombs at once, while the sign-in page is loaded every 0.2 s."""
    from tests import bombs

    bomb = bombs.expanding_docx(190 * MB)
    slowest = [0.0]
    done = threading.Event()

    def ping():
        while not done.is_set():
            start = time.perf_counter()
            with urllib.request.urlopen(f"{base}/accounts/login/", timeout=600):
                pass
            slowest[0] = max(slowest[0], time.perf_counter() - start)
            time.sleep(0.2)

    def post():
        boundary = uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="participant"\r\n\r\n'
            f"{participant}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f'name="files"; filename="notes.docx"\r\n\r\n'
        ).encode()
        body = head + bomb + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            url, data=body, headers=_headers(cookie, boundary, len(body))
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            results.append(_summary(response.read().decode()))

    results: list[str] = []
    pinger = threading.Thread(target=ping)
    pinger.start()
    start = time.perf_counter()
    posters = [threading.Thread(target=post) for _ in range(count)]
    for thread in posters:
        thread.start()
    for thread in posters:
        thread.join()
    seconds = time.perf_counter() - start
    done.set()
    pinger.join()
    label = f"{count} review .docx bombs at once"
    print(f"{label:<46} {seconds:>7.2f} s {'':>14}  {results[0] if results else 'no answer'}")
    print(f"{'slowest sign-in page meanwhile':<46} {slowest[0]:>7.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 parallel bombs instead of 4")
    parser.add_argument("--case", choices=sorted(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--no-server", action="store_true", help="only the readers")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    if args.case:
        run_case(args.case)
        return
    _common.recreate_database(PG_URL, DB_NAME)
    media = tempfile.TemporaryDirectory(prefix="bench_uploads_media_")
    env = os.environ | {"DATABASE_URL": f"{PG_URL}/{DB_NAME}", "MEDIA_ROOT": media.name}
    os.environ.update(env)
    import django

    django.setup()
    print(f"Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}")
    try:
        if not args.no_server:
            server_part(env, args.quick)
        else:
            setup_study()
        readers_part(env)
    finally:
        _common.drop_database(PG_URL, DB_NAME)
        media.cleanup()


if __name__ == "__main__":
    main()
