"""CPU time and RSS of the server's processes, sampled from /proc while the load runs (Linux only).

CPU is utime + stime of the process (all its threads) from /proc/<pid>/stat, as a share of one core over each
interval; memory is VmRSS from /proc/<pid>/status. The busy share of each core (/proc/stat) is sampled too,
to show how much else ran on the machine (it is shared: other processes' work shows up there).
"""

from __future__ import annotations

import os
import threading
import time

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
    return (int(fields[11]) + int(fields[12])) / TICKS


def _proc_rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _cores() -> dict[str, tuple[int, int]]:
    """{cpuN: (busy ticks, total ticks)}."""
    cores = {}
    try:
        with open("/proc/stat") as handle:
            for line in handle:
                if line.startswith("cpu") and line[3].isdigit():
                    name, *values = line.split()
                    numbers = [int(v) for v in values]
                    idle = numbers[3] + (numbers[4] if len(numbers) > 4 else 0)
                    cores[name] = (sum(numbers) - idle, sum(numbers))
    except OSError:
        pass
    return cores


class ProcSampler:
    def __init__(self, pids: dict[str, int], interval: float = 0.5):
        self.pids = pids
        self.interval = interval
        self.samples: list[tuple[float, dict[str, float | None], dict[str, int | None]]] = []
        self.core_start: dict = {}
        self.core_end: dict = {}
        self.loadavg_start = self.loadavg_end = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="proc-sampler")

    def start(self) -> None:
        self.core_start = _cores()
        self.loadavg_start = os.getloadavg()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.core_end = _cores()
        self.loadavg_end = os.getloadavg()

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            cpu = {name: _proc_cpu_seconds(pid) for name, pid in self.pids.items()}
            rss = {name: _proc_rss_kib(pid) for name, pid in self.pids.items()}
            self.samples.append((now, cpu, rss))
            self._stop.wait(self.interval)

    def summary(self) -> dict:
        """Per process: peak RSS, mean CPU over the run, peak CPU over 1-second windows; per core: busy share."""
        result: dict = {"processes": {}, "cores": {}, "samples": len(self.samples)}
        for name in self.pids:
            points = [(t, cpu[name], rss[name]) for t, cpu, rss in self.samples if cpu[name] is not None]
            if len(points) < 2:
                continue
            rss_values = [r for _, _, r in points if r is not None]
            duration = points[-1][0] - points[0][0]
            mean = (points[-1][1] - points[0][1]) / duration if duration > 0 else 0.0
            peak = 0.0
            step = max(1, round(1.0 / self.interval))
            for i in range(step, len(points)):
                dt = points[i][0] - points[i - step][0]
                if dt > 0:
                    peak = max(peak, (points[i][1] - points[i - step][1]) / dt)
            # (seconds since the first sample, CPU % of a core over the last interval, RSS MiB)
            series = [
                (
                    round(points[i][0] - points[0][0], 2),
                    100 * (points[i][1] - points[i - 1][1]) / (points[i][0] - points[i - 1][0]),
                    (points[i][2] or 0) / 1024,
                )
                for i in range(1, len(points))
                if points[i][0] > points[i - 1][0]
            ]
            result["processes"][name] = {
                "rss_start_mib": round(rss_values[0] / 1024, 1) if rss_values else None,
                "rss_peak_mib": round(max(rss_values) / 1024, 1) if rss_values else None,
                "cpu_mean_percent": round(100 * mean, 1),
                "cpu_peak_percent": round(100 * peak, 1),
                "cpu_seconds": round(points[-1][1] - points[0][1], 2),
                "seconds": round(duration, 1),
                "cpu_series": series,
            }
        for core, (busy, total) in self.core_end.items():
            start = self.core_start.get(core)
            if start and total > start[1]:
                result["cores"][core] = round(100 * (busy - start[0]) / (total - start[1]), 1)
                result.setdefault("core_busy_seconds", {})[core] = round((busy - start[0]) / TICKS, 2)
        result["loadavg_start"] = self.loadavg_start
        result["loadavg_end"] = self.loadavg_end
        return result
