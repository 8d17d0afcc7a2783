"""Measurements on this machine: latency percentiles, memory, CPU, disk, free ports.

Memory and CPU are read from /proc (Linux): VmRSS/VmHWM per process, PSS from
smaps_rollup (shared pages split between the processes that map them), and CPU ticks.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def latencies_ms(fn: Callable[[T], object], inputs: Iterable[T]) -> dict[str, float]:
    """p50, p95 and mean of `fn(item)` over `inputs`, one call at a time, in ms."""
    times = []
    for item in inputs:
        start = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
            "mean_ms": round(statistics.fmean(times), 2), "n": len(times)}


def ms_each(fn: Callable[[], object], n: int) -> float:
    """Mean ms of `n` calls of `fn` in a row."""
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return round(1000 * (time.perf_counter() - started) / n, 2)


# -- memory -----------------------------------------------------------------------------


def peak_rss_mib() -> float:
    """This process's peak RSS since it started."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def proc_kib(pid: int | str, key: str, file: str = "status") -> int:
    """A `Key:  N kB` line of /proc/PID/FILE (0 if the process or the line is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rss_mib(pid: int | str = "self") -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of one process, MiB, and what VmRSS holds: RssAnon
    (the process's own memory) and RssFile (mapped files' pages: shared with other processes
    mapping them, and dropped first under memory pressure)."""
    return {key: round(proc_kib(pid, key) / 1024, 1)
            for key in ("VmRSS", "VmHWM", "RssAnon", "RssFile")}


def reset_peak() -> bool:
    """Reset this process's VmHWM so the next phase reports its own peak (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def phase_peak() -> float:
    """VmHWM since the last `reset_peak()`, MiB."""
    return rss_mib().get("VmHWM") or round(peak_rss_mib(), 1)


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def tree_memory_mib(pids: list[int]) -> dict[str, object]:
    """RSS and PSS summed over processes (RSS counts shared pages once per process)."""
    rss = [proc_kib(p, "VmRSS") for p in pids]
    pss = [proc_kib(p, "Pss", "smaps_rollup") for p in pids]
    return {"rss_sum": round(sum(rss) / 1024, 1), "pss_sum": round(sum(pss) / 1024, 1),
            "rss_per_process": [round(r / 1024, 1) for r in rss], "processes": len(pids)}


def du(path: Path) -> int:
    """Bytes on disk of a file or under a directory (0 if missing): allocated blocks, so a
    sparse file (a vector tier's matrix while its backfill runs, index/dense.py) counts
    what it holds, not its length."""
    if path.is_file():
        return _allocated(path)
    if not path.exists():
        return 0
    return sum(_allocated(f) for f in path.rglob("*") if f.is_file())


def _allocated(path: Path) -> int:
    stat = path.stat()
    return min(stat.st_size, stat.st_blocks * 512)


# -- CPU --------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds one process has used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> float:
    """Busy CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    """CPU seconds of this process's children that have been waited for (e.g. wrk)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wait_for_quiet(cores: float, limit_s: float = 90) -> float:
    """Wait (up to `limit_s`) until the machine uses less than `cores`; seconds waited.
    The machine is shared: a run started while others compile or test measures them."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        busy = machine_cpu()
        time.sleep(1)
        if machine_cpu() - busy < cores:
            break
    return round(time.monotonic() - started - 1, 1)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
