"""Load on ``item2vec serve``: requests/s, p50/p99 latency and errors, with a reload mid-run.

On loopback only (127.0.0.1, a free port), for a model of ``--items`` planted
vectors (a Gaussian mixture of ``items / 100`` topics, the structure of item
embeddings) saved without and with the approximate index
(``Item2Vec.build_index``, its defaults), the script starts
``item2vec serve MODEL`` as a subprocess and sends, from ``--clients``
concurrent clients (threads with one keep-alive httpx connection each):

- ``GET /health`` (the ceiling of this client and the framework; once);
- ``GET /similar?item=ID&k=10``, a uniformly random item per request;
- ``POST /recommend`` with ``{"history": [5 items of one topic], "k": 10}``.

Each endpoint gets ``--requests`` requests in all, split evenly among the
clients; a client stops after its share or at ``--max-seconds`` (both bound
every loop). Half-way through the ``/similar`` and the ``/recommend`` run the
model file is replaced atomically (``os.replace``) by another valid model (the
same ids, other vectors) and ``POST /reload`` is sent; the run counts every
failed request (a status other than 200 or a transport error), and afterwards
checks that the server answers as the new model does.

The table gives requests/s, p50/p99/max latency and errors per endpoint and
index, and the CPU seconds the server and this client used (the two share
the machine's cores). ``uptime`` is recorded before and after; ``--out``
writes all of it as JSON.

    python benchmarks/serve.py [--items 100000] [--dim 64] [--clients 50]
        [--requests 20000] [--max-seconds 600] [--index both|none|hnsw]
        [--workers 1] [--out benchmarks/results/serve.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from item2vec import Item2Vec
from item2vec.vectors import ItemVectors
from item2vec.vocab import Vocabulary

HOST = "127.0.0.1"  # the only address this script contacts
HISTORY = 5
K = 10


# --- models ----------------------------------------------------------------------------


def planted_model(n_items: int, dim: int, seed: int) -> tuple[Item2Vec, np.ndarray]:
    """A model of clustered vectors (items around ``n_items / 100`` topic centres) with
    Zipf-like counts, and each item's topic. The ids are 0..n_items-1 whatever the seed,
    so the models of two seeds answer the same requests."""
    rng = np.random.default_rng(seed)
    n_topics = max(1, n_items // 100)
    centres = rng.standard_normal((n_topics, dim), dtype=np.float32)
    topic = rng.integers(0, n_topics, n_items)
    vectors = centres[topic] + 0.7 * rng.standard_normal((n_items, dim), dtype=np.float32)
    outputs = centres[topic] + 0.7 * rng.standard_normal((n_items, dim), dtype=np.float32)
    counts = np.maximum(1, (1e6 / (np.arange(n_items) + 10)).astype(np.int64))
    model = Item2Vec(vector_size=dim)
    model.item_vectors_ = ItemVectors(Vocabulary(np.arange(n_items), counts), vectors, outputs)
    return model, topic


def build_models(folder: Path, n_items: int, dim: int, indexed: bool) -> dict[str, Any]:
    """Models "a" and "b" (seeds 1 and 2) saved in ``folder``, with the index if asked;
    the topics of model "a" (its histories) and the build times."""
    made: dict[str, Any] = {"build_seconds": {}}
    for name, seed in (("a", 1), ("b", 2)):
        model, topic = planted_model(n_items, dim, seed)
        began = time.perf_counter()
        if indexed:
            model.build_index()
        made["build_seconds"][name] = time.perf_counter() - began
        path = folder / f"{name}{'_hnsw' if indexed else ''}.npz"
        model.save(path)
        made[name] = path
        if name == "a":
            made["topic"] = topic
    return made


# --- the server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def replace_model(source: Path, served: Path) -> None:
    """Put a copy of ``source`` at ``served`` in one step (a copy beside it, then
    ``os.replace``): a reader sees the old file or the new one, never half of one."""
    partial = served.with_name(served.name + ".partial")
    shutil.copyfile(source, partial)
    os.replace(partial, served)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """``item2vec serve`` in a subprocess on 127.0.0.1, stopped on exit."""

    def __init__(self, model: Path, workers: int, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.log = open(log, "w+")  # closed in __exit__
        command = ["serve", str(model), "--host", HOST, "--port", str(self.port),
                   "--workers", str(workers)]  # fmt: skip
        self.command = "item2vec " + " ".join(command)
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from item2vec.cli import main; sys.exit(main())",
             *command],
            stdout=subprocess.DEVNULL, stderr=self.log,
        )  # fmt: skip

    def __enter__(self) -> Server:
        began = time.perf_counter()
        for _ in range(1200):  # at most about two minutes for the start
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    self.start_seconds = time.perf_counter() - began
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.__exit__()
        self.log.seek(0)
        raise RuntimeError(f"{self.command} did not start:\n{self.log.read()}")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def cpu(self) -> float:
        """CPU seconds of the server (its workers too, when there are several)."""
        total = cpu_seconds(self.process.pid)
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            for pid in children.read_text().split():
                try:
                    total += cpu_seconds(int(pid))
                except FileNotFoundError:
                    pass
        return total


# --- the load ----------------------------------------------------------------------------


def request_maker(endpoint: str, n_items: int, topic: np.ndarray, seed: int) -> Any:
    """The request function of one client: ``make(http)`` sends one request."""
    rng = np.random.default_rng(seed)
    by_topic = np.argsort(topic, kind="stable")
    starts = np.searchsorted(topic[by_topic], np.arange(topic.max() + 2))

    def make(http: httpx.Client) -> httpx.Response:
        if endpoint == "health":
            return http.get("/health")
        if endpoint == "similar":
            return http.get("/similar", params={"item": int(rng.integers(n_items)), "k": K})
        # a session-like history: items of one topic (a topic with fewer items than
        # HISTORY repeats some, as a real history may)
        t = int(topic[rng.integers(n_items)])
        members = by_topic[starts[t] : starts[t + 1]]
        history = rng.choice(members, size=HISTORY).tolist()
        return http.post("/recommend", json={"history": history, "k": K})

    return make


def run_phase(
    server: Server, endpoint: str, args: argparse.Namespace, topic: np.ndarray,
    reload_to: Path | None, served_path: Path,
) -> dict[str, Any]:  # fmt: skip
    """``args.requests`` requests of one endpoint from ``args.clients`` client threads (a
    keep-alive connection each; httpx's blocking client costs this process less CPU per
    request than its asyncio one), with a reload half-way if ``reload_to`` is given."""
    share = [args.requests // args.clients + (i < args.requests % args.clients)
             for i in range(args.clients)]  # fmt: skip
    latencies: list[list[float]] = [[] for _ in range(args.clients)]
    failures: list[str] = []
    done = [0] * args.clients
    half = threading.Event()
    began = time.perf_counter()
    deadline = began + args.max_seconds

    def client(slot: int) -> None:
        make = request_maker(endpoint, args.items, topic, seed=1000 * slot + len(endpoint))
        with httpx.Client(base_url=server.base, timeout=60) as http:
            for _ in range(share[slot]):  # bounded by count ...
                if time.perf_counter() > deadline:  # ... and by time
                    break
                start = time.perf_counter()
                try:
                    reply = make(http)
                    if reply.status_code != 200:
                        failures.append(f"{reply.status_code}: {reply.text[:200]}")
                except httpx.HTTPError as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                latencies[slot].append(time.perf_counter() - start)
                done[slot] += 1
                if sum(done) * 2 >= args.requests:
                    half.set()

    reload: dict[str, Any] = {}

    def reloader() -> None:
        if not half.wait(timeout=args.max_seconds):
            return
        reload["after_requests"] = sum(done)
        replace_model(reload_to, served_path)  # type: ignore[arg-type]
        start = time.perf_counter()
        try:
            reply = httpx.post(f"{server.base}/reload", timeout=300)
            reload.update(status=reply.status_code, answer=reply.json())
        except httpx.HTTPError as exc:
            reload.update(status=None, answer=f"{type(exc).__name__}: {exc}")
        reload["seconds"] = time.perf_counter() - start

    cpu_before, client_before = server.cpu(), time.process_time()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    if reload_to is not None:
        threads.append(threading.Thread(target=reloader))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    every = np.concatenate([np.asarray(x, dtype=np.float64) for x in latencies]) * 1000
    return {
        "endpoint": endpoint,
        "requests": int(every.size),
        "seconds": elapsed,
        "per_second": every.size / elapsed,
        "p50_ms": float(np.percentile(every, 50)),
        "p99_ms": float(np.percentile(every, 99)),
        "max_ms": float(every.max()),
        "errors": len(failures),
        "first_errors": failures[:5],
        "stopped_by_time": bool(every.size < args.requests),
        "server_cpu_seconds": server.cpu() - cpu_before,
        "client_cpu_seconds": time.process_time() - client_before,
        "reload": reload or None,
    }


def serves_as(server: Server, model_path: Path, items: list[int]) -> bool:
    """Whether the server's exact neighbours of ``items`` are those of the model file."""
    model = Item2Vec.load(model_path)
    for item in items:
        got = httpx.get(f"{server.base}/similar", params={"item": item, "k": K, "exact": "true"})
        expected = [other for other, _ in model.most_similar(item, topn=K, exact=True)]
        if [n["item"] for n in got.json()["neighbors"]] != expected:
            return False
    return True


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


# --- the run -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--requests",
        type=int,
        default=20_000,
        help="requests per endpoint and index setting, split among the clients",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=600.0,
        help="each endpoint's run stops after this long even if unfinished",
    )
    parser.add_argument("--index", choices=("both", "none", "hnsw"), default="both")
    parser.add_argument("--workers", type=int, default=1, help="item2vec serve --workers")
    parser.add_argument("--out", type=Path, default=None, help="JSON report")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.requests < args.clients:
        parser.error("need --clients >= 1 and --requests >= --clients")

    report: dict[str, Any] = {
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "cpus": os.cpu_count(),
        "uptime_before": uptime(),
        "runs": [],
    }
    print(report["uptime_before"])
    settings = {"none": [False], "hnsw": [True], "both": [False, True]}[args.index]
    with tempfile.TemporaryDirectory(prefix="item2vec-serve-bench-") as work:
        folder = Path(work)
        for indexed in settings:
            name = "hnsw index" if indexed else "exact"
            made = build_models(folder, args.items, args.dim, indexed)
            print(f"{name}: models built in "
                  f"{', '.join(f'{s:.1f} s' for s in made['build_seconds'].values())}")  # fmt: skip
            served_path = folder / "served.npz"
            replace_model(made["a"], served_path)
            run: dict[str, Any] = {"index": name, "build_seconds": made["build_seconds"],
                                   "phases": []}  # fmt: skip
            with Server(served_path, args.workers, folder / "server.log") as server:
                run["command"] = server.command.replace(str(served_path), "model.npz")
                run["start_seconds"] = server.start_seconds
                print(f"{name}: {run['command']} answered after {server.start_seconds:.1f} s")
                plan = [("similar", made["b"]), ("recommend", made["a"])]
                if indexed == settings[0]:
                    plan.insert(0, ("health", None))
                for endpoint, reload_to in plan:
                    phase = run_phase(server, endpoint, args, made["topic"], reload_to, served_path)
                    if reload_to is not None:
                        phase["serves_new_model"] = serves_as(
                            server, reload_to, [0, 1, 12345 % args.items]
                        )
                    run["phases"].append(phase)
                    print(f"  {endpoint}: {phase['per_second']:.0f}/s, "
                          f"{phase['errors']} errors")  # fmt: skip
            report["runs"].append(run)
    report["uptime_after"] = uptime()
    print(report["uptime_after"])
    print_table(report, args)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, default=str))
        print(f"\nwrote {args.out}")
    return report


def print_table(report: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"\n{args.items:,} items x {args.dim} dims, {args.clients} clients, "
          f"{args.requests:,} requests per endpoint, {report['cpus']} cores shared by the "
          f"server and the clients\n")  # fmt: skip
    print(
        "| index | endpoint | requests | requests/s | p50 ms | p99 ms | max ms | errors "
        "| server / client CPU s | reload mid-run |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for run in report["runs"]:
        for p in run["phases"]:
            reload = p["reload"]
            said = "" if reload is None else (
                f"{reload['status']} after {reload['after_requests']:,} requests, "
                f"{reload['seconds']:.2f} s; new model served: {p['serves_new_model']}"
            )  # fmt: skip
            print(f"| {run['index']} | /{p['endpoint']} | {p['requests']:,} | "
                  f"{p['per_second']:,.0f} | {p['p50_ms']:.1f} | {p['p99_ms']:.1f} | "
                  f"{p['max_ms']:.0f} | {p['errors']} | {p['server_cpu_seconds']:.0f} / "
                  f"{p['client_cpu_seconds']:.0f} | {said} |")  # fmt: skip


if __name__ == "__main__":
    main()
