"""The step thread pool: bounded, reused across steps, safe to nest, and errors wait for the others."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from videogen.pipeline.concurrency import run_parallel, use_persistent_connections


@pytest.fixture(autouse=True)
def four_at_once(settings):
    settings.PROVIDER_CONCURRENCY = 4


def test_results_come_back_in_the_order_of_the_calls():
    def slow_then(value, delay):
        time.sleep(delay)
        return value

    calls = [lambda v=v, d=d: slow_then(v, d) for v, d in (("a", 0.2), ("b", 0.0), ("c", 0.1))]

    assert run_parallel(calls) == ["a", "b", "c"]


def test_no_more_calls_than_the_limit_run_at_once():
    running, peak, lock = [0], [0], threading.Lock()

    def tracked():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    run_parallel([tracked] * 12)

    assert peak[0] == 4


def test_the_same_threads_serve_one_step_after_another():
    marks, serials = threading.local(), iter(range(1000))

    def thread_serial():
        if not hasattr(marks, "serial"):
            marks.serial = next(serials)  # a thread seen for the first time
        time.sleep(0.01)
        return marks.serial

    seen = set()
    for _step in range(5):
        seen |= set(run_parallel([thread_serial] * 4))

    assert len(seen) <= 4  # five steps of four calls, no new threads after the first


def test_a_nested_call_runs_inline_in_the_pool_thread_instead_of_waiting_for_a_free_one():
    def outer():
        return run_parallel([lambda: threading.get_ident()] * 3)

    results = run_parallel([outer] * 4)  # every pool thread busy with an outer call

    assert all(len(set(inner)) == 1 for inner in results)


def test_a_failing_call_raises_only_after_every_other_call_finished():
    finished = []

    def fails():
        raise ValueError("bad scene")

    def slow():
        time.sleep(0.2)
        finished.append(True)

    with pytest.raises(ValueError, match="bad scene"):
        run_parallel([fails, slow, slow])

    assert finished == [True, True]


def test_persistent_connections_apply_to_the_connections_this_process_already_made(settings, db, monkeypatch):
    connection.ensure_connection()
    for database in (settings.DATABASES["default"], connection.settings_dict):  # restored after the test
        monkeypatch.setitem(database, "CONN_MAX_AGE", 0)
        monkeypatch.setitem(database, "CONN_HEALTH_CHECKS", False)

    use_persistent_connections(60)

    assert connection.settings_dict["CONN_MAX_AGE"] == 60
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
