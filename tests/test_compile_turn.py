"""``harness.compile_turn``: SBC's fit processes compile one at a time, on every CPU of the cluster."""

import os

import pytest

from harness.compile_turn import COMPILE_CPUS_VAR, compile_cpus, compile_turn


def _lock_is_free(path) -> bool:
    import fcntl

    with open(path, "a") as other:  # a second open file: flock conflicts with the first one's lock
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(other, fcntl.LOCK_UN)
        return True


def test_compile_turn_does_nothing_unless_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("PPL_HARNESS_CACHE", str(tmp_path))
    monkeypatch.delenv(COMPILE_CPUS_VAR, raising=False)
    with compile_turn():
        assert not (tmp_path / "compile.lock").exists()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs CPU affinity and at least two CPUs")
def test_compile_turn_holds_the_lock_and_every_cpu_then_gives_both_back(tmp_path, monkeypatch):
    """SBC's fit processes compile one at a time on all the cluster's CPUs, then return to their own core."""
    every = sorted(os.sched_getaffinity(0))
    monkeypatch.setenv("PPL_HARNESS_CACHE", str(tmp_path))
    monkeypatch.setenv(COMPILE_CPUS_VAR, ",".join(map(str, every)))
    assert compile_cpus() == every
    os.sched_setaffinity(0, every[:1])  # pinned, like a worker of the embedded cluster
    try:
        with compile_turn():
            assert sorted(os.sched_getaffinity(0)) == every
            assert not _lock_is_free(tmp_path / "compile.lock")
        assert sorted(os.sched_getaffinity(0)) == every[:1]
        assert _lock_is_free(tmp_path / "compile.lock")
    finally:
        os.sched_setaffinity(0, every)


def test_sbc_fit_processes_compile_in_turn_on_the_clusters_cpus():
    from harness.cluster import pool_cpus
    from harness.sbc.child import _env

    assert _env("cpu")[COMPILE_CPUS_VAR] == ",".join(map(str, pool_cpus()))
    assert pool_cpus()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs CPU affinity and at least two CPUs")
def test_a_fit_process_starts_on_every_cpu_and_fits_on_its_own(monkeypatch):
    """XLA sizes its compile pool when it first compiles: the process is wide until then, pinned after."""
    from harness import compile_turn as module

    every = sorted(os.sched_getaffinity(0))
    monkeypatch.setenv(COMPILE_CPUS_VAR, ",".join(map(str, every)))
    monkeypatch.setattr(module, "_HOME", set())
    os.sched_setaffinity(0, every[:1])
    try:
        module.start_wide()
        assert sorted(os.sched_getaffinity(0)) == every
        module.go_home()
        assert sorted(os.sched_getaffinity(0)) == every[:1]
    finally:
        os.sched_setaffinity(0, every)


def test_go_home_does_nothing_without_start_wide(monkeypatch):
    from harness import compile_turn as module

    monkeypatch.setattr(module, "_HOME", set())
    before = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    module.go_home()
    assert (os.sched_getaffinity(0) if before is not None else None) == before
