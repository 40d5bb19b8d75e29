"""`meritline serve` as an operator starts it: a real process on loopback, one or more workers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_health_with_every_worker_count(tmp_path: Path, workers: int) -> None:
    port = free_port()
    env = {**os.environ, "MERITLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    command = [sys.executable, "-m", "meritline", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", str(workers)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start within 60 s"
                time.sleep(0.1)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "ok"
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert f"meritline API on http://127.0.0.1:{port}" in output
