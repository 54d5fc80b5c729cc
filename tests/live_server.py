"""``item2vec serve`` in a subprocess on 127.0.0.1, shared by the service and page tests."""

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def live_server(model_path, folder: Path, *options: str):
    """Start ``item2vec serve MODEL`` on a free loopback port and wait (bounded, about
    30 s) until ``/health`` answers; yields the base URL (no trailing slash) and the
    process, whose stderr goes to ``folder / "stderr.txt"``; stops it on exit."""
    import httpx

    port = free_port()
    log_path = folder / "stderr.txt"
    log = open(log_path, "w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "item2vec.serve", str(model_path), "--port", str(port),
         *options],
        stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                break
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert process.poll() is None, log_path.read_text()
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
