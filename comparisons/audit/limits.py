"""The limits a learner's code runs under, set by the worker on itself before any of it runs."""

from __future__ import annotations

import os
import resource

__all__ = ["FILE_SIZE_MIB", "OPEN_FILES", "PROCESSES", "drop_to", "limit_resources"]


FILE_SIZE_MIB = 64  # the largest file the user's code may write (its result is far smaller)


OPEN_FILES = 256


PROCESSES = 256  # per user: binds unless the audit runs as root


def _limit(kind: int, value: int, grace: int = 0) -> None:
    """Soft limit ``value``, hard ``value + grace`` (never above the hard limit we were given)."""
    _, hard = resource.getrlimit(kind)
    soft, new_hard = value, value + grace
    if hard != resource.RLIM_INFINITY:
        soft, new_hard = min(soft, hard), min(new_hard, hard)
    resource.setrlimit(kind, (soft, new_hard))


def limit_resources(memory_mib: int, cpu_seconds: int) -> None:
    """Before any user code: address space, CPU time, file size, open files, processes, no core dumps."""
    _limit(resource.RLIMIT_AS, memory_mib * 1024 * 1024)
    _limit(resource.RLIMIT_CPU, cpu_seconds, grace=1)  # SIGXCPU at the soft limit, SIGKILL a second later
    _limit(resource.RLIMIT_FSIZE, FILE_SIZE_MIB * 1024 * 1024)
    _limit(resource.RLIMIT_NOFILE, OPEN_FILES)
    _limit(resource.RLIMIT_NPROC, PROCESSES)
    _limit(resource.RLIMIT_CORE, 0)


def drop_to(uid: int) -> None:
    """A root grader's sandboxed child becomes ``uid`` (one of its own) before any user code:
    the process limit binds (the kernel exempts root from it) and nothing root owns is writable."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
