"""Live stats: CPU % from two samples, and short histories the page hands back on each poll, drawn as sparklines."""

from __future__ import annotations

import json
import math
from typing import Any

from console import engine

HISTORY = 30  # samples kept in a chart
WIDTH, HEIGHT = 120, 30  # the sparkline's viewBox


def history(text: str) -> list[float]:
    """A history the page sent back; anything that is not a plain non-negative number is dropped."""
    values = []
    for part in text.split(",")[-HISTORY:]:
        try:
            value = float(part)
        except ValueError:
            continue
        if math.isfinite(value) and value >= 0:
            values.append(min(value, 1e6))
    return values


def cpu_percent(sample: engine.StatsSample, prev_cpu: str, prev_system: str) -> float | None:
    """As `docker stats`: the container's share of the host's CPU time since the last sample, times its CPUs."""
    try:
        cpu_delta = sample.cpu_total - int(prev_cpu)
        system_delta = sample.system_total - int(prev_system)
    except ValueError:
        return None
    if cpu_delta < 0 or system_delta <= 0:
        return None
    return cpu_delta / system_delta * sample.online_cpus * 100


def points(values: list[float], ceiling: float) -> str:
    """SVG polyline points, newest at the right edge."""
    step = WIDTH / (HISTORY - 1)
    start = WIDTH - step * (len(values) - 1)
    ceiling = max(ceiling, *values, 1e-9) if values else 1
    return " ".join(f"{start + i * step:.1f},{HEIGHT - value / ceiling * HEIGHT:.1f}" for i, value in enumerate(values))


def live(sample: engine.StatsSample, params: dict[str, str]) -> dict[str, Any]:
    """What the stats partial shows, and what the page sends back on its next poll."""
    cpu = cpu_percent(sample, params.get("cpu", ""), params.get("sys", ""))
    cpu_history = history(params.get("hcpu", ""))
    if cpu is not None:
        cpu_history = [*cpu_history, round(cpu, 2)][-HISTORY:]
    memory = sample.memory_used / sample.memory_limit * 100 if sample.memory_limit else 0.0
    memory_history = [*history(params.get("hmem", "")), round(memory, 2)][-HISTORY:]
    return {
        "sample": sample,
        "cpu": cpu,
        "cpu_points": points(cpu_history, 100),
        "memory_percent": memory,
        "memory_points": points(memory_history, 100),
        "next_vals": json.dumps(
            {
                "cpu": str(sample.cpu_total),
                "sys": str(sample.system_total),
                "hcpu": ",".join(map(str, cpu_history)),
                "hmem": ",".join(map(str, memory_history)),
            }
        ),
    }
