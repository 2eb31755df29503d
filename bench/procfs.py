"""Find a server's worker process by its listening port and read its memory and CPU from /proc."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
TCP_LISTEN = "0A"


def listening_inodes(proc_net_tcp: str, port: int) -> set[int]:
    """Return the socket inodes listening on `port` in the text of /proc/net/tcp (or tcp6)."""
    inodes = set()
    for line in proc_net_tcp.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10:
            continue
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == TCP_LISTEN:
            inodes.add(int(fields[9]))
    return inodes


def status_kib(proc_status: str, name: str) -> int:
    """Return a `kB` field (VmRSS, VmHWM...) of the text of /proc/PID/status."""
    for line in proc_status.splitlines():
        key, _, value = line.partition(":")
        if key == name:
            return int(value.split()[0])
    raise KeyError(name)


def parent_pid(proc_stat: str) -> int:
    """Return the parent pid from the text of /proc/PID/stat (the name may hold spaces)."""
    return int(proc_stat.rsplit(")", 1)[1].split()[1])


def cpu_ticks(proc_stat: str) -> int:
    """Return user plus system clock ticks from the text of /proc/PID/stat."""
    fields = proc_stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _holders(inodes: set[int]) -> list[int]:
    wanted = {f"socket:[{inode}]" for inode in inodes}
    holders = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in wanted for fd in (entry / "fd").iterdir()):
                holders.append(int(entry.name))
        except OSError:
            continue
    return holders


def worker_pid(port: int) -> int:
    """Return the pid of the worker serving `port`: the holder of the socket whose parent holds it.

    Gunicorn's master binds the socket and its forked worker inherits it; with one worker the
    child is the process that answers requests.
    """
    inodes: set[int] = set()
    for table in ("tcp", "tcp6"):
        inodes |= listening_inodes((PROC / "net" / table).read_text(), port)
    holders = _holders(inodes)
    children = [pid for pid in holders if parent_pid(read_stat(pid)) in holders]
    if len(children) != 1:
        raise RuntimeError(f"expected one worker on port {port}; holders {holders}")
    return children[0]


def read_stat(pid: int) -> str:
    """Return the text of /proc/PID/stat."""
    return (PROC / str(pid) / "stat").read_text()


def rss_mib(pid: int) -> float:
    """Return the resident memory of a process in MiB."""
    return status_kib((PROC / str(pid) / "status").read_text(), "VmRSS") / 1024


def cpu_seconds(pid: int) -> float:
    """Return the CPU time a process has used so far."""
    return cpu_ticks(read_stat(pid)) / os.sysconf("SC_CLK_TCK")
