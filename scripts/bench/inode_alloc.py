#!/usr/bin/env python3
"""Cost of creating sandbox-shaped trees after earlier ones were deleted (no meso involved).

Each round creates SANDBOXES trees shaped like an agent's sandboxes
(`<root>/slaves/<agent>/frameworks/fw/executors/<ex>/runs/<c>/{stdout,stderr,latest}`),
then deletes the whole work dir, as `scripts/bench/tasks.sh` does after each run. On ext4
without a journal, inodes deleted in the last 60 s (360 s while their inode-table block is
dirty) are skipped one by one by every later allocation in their group, so the rounds
slow down. `--topdir` marks each `executors/` directory FS_TOPDIR_FL first, as the agent
does (agent/src/topdir.rs), so each executor's tree is placed by ext4's Orlov allocator.

Usage: scripts/bench/inode_alloc.py [--topdir] [--rounds 4] [--sandboxes 4000] [--dir /tmp]
Prints `inode_alloc_us_per_sandbox_round_K: X us` per round and `..._last_over_first`.
"""
import argparse
import fcntl
import os
import shutil
import struct
import tempfile
import time

FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_TOPDIR_FL = 0x80086601, 0x40086602, 0x00020000


def mark_top(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        flags = struct.unpack("i", fcntl.ioctl(fd, FS_IOC_GETFLAGS, struct.pack("i", 0)))[0]
        fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("i", flags | FS_TOPDIR_FL))
    finally:
        os.close(fd)


def one_round(base, sandboxes, topdir):
    work = tempfile.mkdtemp(dir=base)
    executors = os.path.join(work, "slaves", os.urandom(8).hex(), "frameworks", "fw", "executors")
    os.makedirs(executors)
    if topdir:
        mark_top(executors)
    start = time.perf_counter()
    for i in range(sandboxes):
        run = os.path.join(executors, f"task-{os.urandom(6).hex()}", "runs", os.urandom(8).hex())
        os.makedirs(run)
        for name in ("stdout", "stderr"):
            open(os.path.join(run, name), "w").close()
        os.symlink(os.path.basename(run), os.path.join(os.path.dirname(run), "latest"))
    took = time.perf_counter() - start
    shutil.rmtree(work)
    return took / sandboxes * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--topdir", action="store_true")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--sandboxes", type=int, default=4000)
    ap.add_argument("--dir", default=tempfile.gettempdir())
    args = ap.parse_args()
    if args.rounds < 1 or args.sandboxes < 1:
        ap.error("--rounds and --sandboxes must be positive")
    first = last = None
    for k in range(1, args.rounds + 1):
        us = one_round(args.dir, args.sandboxes, args.topdir)
        first = first or us
        last = us
        print(f"inode_alloc_us_per_sandbox_round_{k}: {us:.0f} us", flush=True)
    print(f"inode_alloc_us_per_sandbox_last_over_first: {last / first:.2f} ratio")


if __name__ == "__main__":
    main()
