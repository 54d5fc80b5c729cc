"""Helpers shared by the benchmark scripts: peak memory and the JSON report."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any


def peak_rss_mb() -> float:
    """VmHWM, the peak resident size of this process image, in MiB (Linux).

    Not ``ru_maxrss``, which Linux carries over from the parent across exec.
    """
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def write_report(path: Path, report: Any) -> None:
    """Write the benchmark's results as indented JSON and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {path}")


def machine(load: float) -> dict[str, Any]:
    """What a report says of the machine it ran on, with the load average before."""
    return {"platform": platform.platform(), "processor": platform.processor(),
            "cpus": os.cpu_count(), "python": sys.version.split()[0],
            "load_average_before": load}  # fmt: skip


def finish(args: Any, load: float, results: list[dict[str, Any]]) -> dict[str, Any]:
    """The report of a run (machine, settings from ``args``, results), written to
    ``args.json``; returned too."""
    report = {
        "machine": machine(load),
        "settings": vars(args) | {"json": str(args.json)},
        "results": results,
    }
    write_report(args.json, report)
    return report
