"""Find a server's worker process by its listening port and read its memory and CPU from /proc."""

from __future__ import annotations

import os
from dataclasses import dataclass
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


def port_holders(port: int) -> list[int]:
    """Return the pids of every process holding the socket that listens on `port`."""
    inodes: set[int] = set()
    for table in ("tcp", "tcp6"):
        inodes |= listening_inodes((PROC / "net" / table).read_text(), port)
    return sorted(_holders(inodes))


def worker_pid(port: int) -> int:
    """Return the pid of the worker serving `port`: the holder of the socket whose parent holds it.

    Gunicorn's master binds the socket and its forked worker inherits it; with one worker the
    child is the process that answers requests.
    """
    holders = port_holders(port)
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


def command_name(pid: int) -> str:
    """Return the short command name of a process (what `ps -o comm` shows)."""
    return (PROC / str(pid) / "comm").read_text().strip()


@dataclass
class Usage:
    """The CPU time and memory one process used over a run, from samples the caller takes."""

    label: str
    pid: int
    cpu_start_s: float
    cpu_end_s: float
    rss_peak_mib: float = 0.0
    rss_end_mib: float = 0.0
    gone: bool = False

    @classmethod
    def start(cls, label: str, pid: int) -> Usage:
        """Start following a process."""
        usage = cls(label, pid, cpu_seconds(pid), cpu_seconds(pid))
        usage.sample()
        return usage

    def sample(self) -> None:
        """Read the process's CPU time and memory now (it may have ended: then say so)."""
        if self.gone:
            return
        try:
            self.cpu_end_s = cpu_seconds(self.pid)
            self.rss_end_mib = rss_mib(self.pid)
        except (OSError, KeyError):
            self.gone = True
            return
        self.rss_peak_mib = max(self.rss_peak_mib, self.rss_end_mib)

    def cpu_percent(self, wall_s: float) -> float:
        """Return the share of one core the process used over `wall_s` seconds."""
        return 100 * (self.cpu_end_s - self.cpu_start_s) / wall_s if wall_s > 0 else 0.0
