"""gunicorn as the Docker image runs it (gunicorn.conf.py): workers are recycled, timeouts are set.

A worker that parsed a large upload keeps its grown heap; recycling gives it back.
"""

import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, deadline: float) -> int:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_defaults_recycle_workers_with_jitter_and_bound_a_stuck_request():
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["max_requests"] >= 100 and config["max_requests_jitter"] > 0
    assert 30 <= config["timeout"] <= 300 and config["graceful_timeout"] < config["timeout"]


def test_a_worker_is_replaced_after_its_quota_of_requests(tmp_path):
    port = _free_port()
    env = os.environ | {
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_MAX_REQUESTS": "3",
        "GUNICORN_MAX_REQUESTS_JITTER": "0",
        "DJANGO_SETTINGS_MODULE": "workbench.settings",
    }
    log = tmp_path / "gunicorn.log"
    with log.open("w") as errors:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
            + ["workbench.wsgi:application"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        try:
            deadline = time.monotonic() + 60
            statuses = [
                _get(f"http://127.0.0.1:{port}/accounts/login/", deadline) for _ in range(7)
            ]
        finally:
            server.terminate()
            server.wait(timeout=30)
    output = log.read_text()
    assert statuses == [200] * 7
    assert output.count("Autorestarting worker after current request.") == 2
    assert output.count("Booting worker with pid") >= 3
