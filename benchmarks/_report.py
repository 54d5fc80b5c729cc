"""Helpers shared by the benchmark scripts: peak memory and the JSON report."""

from __future__ import annotations

import json
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
