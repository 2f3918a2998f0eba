"""What the benchmarks read of processes, from ``/proc`` (Linux; no psutil needed)."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    raw = (PROC / str(pid) / "stat").read_text()
    # the command name is in parentheses and may hold spaces: split after its closing one
    return raw[raw.rindex(")") + 2:].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (0 if it is gone)."""
    try:
        fields = _stat_fields(pid)
    except (OSError, ValueError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def rss_bytes(pid: int) -> int:
    """Resident memory (VmRSS) of ``pid``; 0 if it is gone."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cmdline(pid: int) -> list[str]:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def comm(pid: int) -> str:
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


def all_pids() -> list[int]:
    return [int(p.name) for p in PROC.iterdir() if p.name.isdigit()]


def parents() -> dict[int, int]:
    out = {}
    for pid in all_pids():
        try:
            out[pid] = int(_stat_fields(pid)[1])
        except (OSError, ValueError, IndexError):
            continue
    return out


def descendants(root: int) -> list[int]:
    """``root`` and every process below it (children in new sessions included)."""
    ppid = parents()
    children: dict[int, list[int]] = {}
    for pid, parent in ppid.items():
        children.setdefault(parent, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def by_comm(name: str) -> list[int]:
    """Every process whose command name is ``name`` (e.g. ``postgres``, ``beam.smp``)."""
    return [pid for pid in all_pids() if comm(pid) == name]


def role_of(pid: int) -> str:
    """A platform process's name from its command line: ``ticketing``, ``gateway``..."""
    args = cmdline(pid)
    if "-m" in args:
        module = args[args.index("-m") + 1] if args.index("-m") + 1 < len(args) else ""
        if module.startswith("services."):
            return module.split(".", 1)[1]
        if module == "devtools.run":
            return "make run (supervisor)"
        if module == "nameko" and args[-1].startswith("bench."):
            return args[-1]
        return module
    if args and os.path.basename(args[0]) == "make":
        return "make"
    return comm(pid)
