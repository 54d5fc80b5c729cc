"""Requests per second and latency of ``item2vec serve`` on loopback.

Builds a model of random vectors (10,000 items by default), starts
``python -m item2vec.serve`` on 127.0.0.1 with a free port, then for each of
``GET /similar`` and ``POST /recommend`` runs ``--clients`` threads, each
sending requests one after another for ``--seconds`` seconds (a bounded loop:
the clock ends it), and prints requests/s, p50 and p99 latency and the
number of failed requests. Only 127.0.0.1 is ever contacted.

    python benchmarks/serve_load.py [--items 10000] [--dim 64] [--clients 8] [--seconds 10]
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import httpx
import numpy as np

from item2vec import Item2Vec
from item2vec.vectors import ItemVectors
from item2vec.vocab import Vocabulary


def build_model(path: str, n_items: int, dim: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    counts = np.maximum(1, (1e5 / (np.arange(n_items) + 10)).astype(np.int64))
    model = Item2Vec(vector_size=dim)
    model.item_vectors_ = ItemVectors(
        Vocabulary(np.arange(n_items), counts),
        rng.standard_normal((n_items, dim)).astype(np.float32),
        rng.standard_normal((n_items, dim)).astype(np.float32) * 0.1,
    )
    model.save(path)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_load(base: str, endpoint: str, n_items: int, clients: int, seconds: float) -> dict:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures = [0] * clients
    deadline = time.perf_counter() + seconds

    def client(slot: int) -> None:
        rng = np.random.default_rng(slot)
        with httpx.Client(base_url=base, timeout=30) as http:
            while time.perf_counter() < deadline:
                item = int(rng.integers(n_items))
                start = time.perf_counter()
                try:
                    if endpoint == "similar":
                        reply = http.get("/similar", params={"item": str(item), "k": 10})
                    else:
                        history = rng.integers(n_items, size=5).tolist()
                        reply = http.post("/recommend", json={"history": history, "k": 10})
                    ok = reply.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies[slot].append(time.perf_counter() - start)
                failures[slot] += not ok

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    every = np.concatenate([np.asarray(x) for x in latencies]) * 1000
    return {
        "endpoint": endpoint,
        "requests": int(every.size),
        "per_second": every.size / elapsed,
        "p50_ms": float(np.percentile(every, 50)),
        "p99_ms": float(np.percentile(every, 99)),
        "failed": int(sum(failures)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.npz")
        build_model(path, args.items, args.dim, args.seed)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "item2vec.serve", path, "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):  # bounded wait for the start
                try:
                    if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            print(
                f"{args.items:,} items x {args.dim} dims, {args.clients} clients, "
                f"{args.seconds:g} s per endpoint, {os.cpu_count()} cores shared by server "
                f"and clients"
            )
            for endpoint in ("similar", "recommend"):
                result = run_load(base, endpoint, args.items, args.clients, args.seconds)
                print(
                    f"{endpoint:>10}: {result['per_second']:8.1f} requests/s  "
                    f"p50 {result['p50_ms']:6.2f} ms  p99 {result['p99_ms']:6.2f} ms  "
                    f"{result['requests']:,} requests, {result['failed']} failed"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
