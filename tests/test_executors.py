"""The local executor: tasks run in spawned worker processes and their messages come back."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from imr_audio.executors import LocalExecutor


def _task(channel: Any, n: int) -> tuple[int, int]:
    for step in range(n):
        channel.put(("step", step))
    return os.getpid(), n * n


def _fails(channel: Any) -> None:
    raise ValueError("nope")


def _sleeps(channel: Any, seconds: float) -> str:
    channel.put(("sleeping",))
    time.sleep(seconds)
    return "woke"


def test_tasks_run_in_other_processes_and_their_messages_arrive() -> None:
    with LocalExecutor(2) as executor:
        futures = [executor.submit(_task, n) for n in (3, 4)]
        results = [f.result(timeout=60) for f in futures]
        messages: list[tuple[Any, ...]] = []
        deadline = time.monotonic() + 10
        while len(messages) < 7 and time.monotonic() < deadline:
            messages += executor.messages(0.2)
    assert [r[1] for r in results] == [9, 16]
    assert all(pid != os.getpid() for pid, _ in results)
    expected = [("step", s) for s in range(3)] + [("step", s) for s in range(4)]
    assert sorted(messages) == sorted(expected)
    assert executor.max_workers == 2


def test_a_failing_task_fails_only_its_future() -> None:
    with LocalExecutor(1) as executor:
        bad = executor.submit(_fails)
        good = executor.submit(_task, 2)
        with pytest.raises(ValueError, match="nope"):
            bad.result(timeout=60)
        assert good.result(timeout=60)[1] == 4


def test_stop_ends_a_running_task() -> None:
    executor = LocalExecutor(1)
    try:
        future = executor.submit(_sleeps, 60.0)
        deadline = time.monotonic() + 60
        while not executor.messages(0.2) and time.monotonic() < deadline:
            pass
        started = time.monotonic()
        executor.stop()
        with pytest.raises(Exception):  # noqa: B017 - BrokenProcessPool
            future.result(timeout=30)
        assert time.monotonic() - started < 30
    finally:
        executor.shutdown()
