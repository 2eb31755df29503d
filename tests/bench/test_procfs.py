"""Reading a worker's listening socket, memory and CPU from /proc text."""

from __future__ import annotations

import os

from bench.procfs import cpu_ticks, listening_inodes, parent_pid, rss_mib, status_kib

PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1
   1: 0100007F:1F40 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4343 1
   2: 0100007F:1389 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1
"""


def test_listening_inodes_skip_connections_and_other_ports():
    assert listening_inodes(PROC_NET_TCP, 8000) == {4242}
    assert listening_inodes(PROC_NET_TCP, 5001) == {4444}
    assert listening_inodes(PROC_NET_TCP, 9999) == set()


def test_stat_fields_survive_a_process_name_with_spaces_and_parentheses():
    stat = "123 (gunicorn: worker (x)) S 99 123 123 0 -1 4194560 1 0 0 0 250 40 0 0 20 0 1"

    assert parent_pid(stat) == 99
    assert cpu_ticks(stat) == 290


def test_status_fields_and_this_process_rss():
    assert status_kib("Name:\tpython\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n", "VmRSS") == 1024
    assert 1 < rss_mib(os.getpid()) < 100_000
