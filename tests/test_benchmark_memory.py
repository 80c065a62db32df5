"""``benchmarks.scale``'s memory readers: a process's peak and the processes below it (Linux)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.scale import descendants, vm_hwm_mb

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")

#: A child that starts a grandchild, prints its pid and waits for it (the shape of a JVM
#: under the pilot and of Spark's Python daemon with its workers).
TREE = (
    "import subprocess, sys; "
    "grandchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "print(grandchild.pid, flush=True); grandchild.wait()"
)


def test_descendants_finds_children_and_grandchildren_and_not_the_process_itself():
    child = subprocess.Popen([sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True)
    try:
        grandchild = int(child.stdout.readline())
        found = descendants(os.getpid())
        assert child.pid in found and grandchild in found
        assert os.getpid() not in found
        assert descendants(grandchild) == []
    finally:
        subprocess.run(["kill", str(grandchild)], check=False)
        child.wait(timeout=30)


def test_vm_hwm_reads_a_living_process_and_none_for_a_gone_one():
    ballast = bytearray(64 * 2**20)  # 64 MB touched: the peak is at least that
    ballast[::4096] = b"x" * len(ballast[::4096])
    assert vm_hwm_mb(os.getpid()) >= 64
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    time.sleep(0.1)
    assert vm_hwm_mb(gone.pid) is None
