"""The service's collector policy (`consumer.collector`)."""

from __future__ import annotations

import gc

import pytest

from consumer import collector


def test_paused_turns_the_collector_off_inside_and_back_on_after_even_on_an_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector.paused():
        assert not gc.isenabled()
        raise RuntimeError("a batch failed")
    assert gc.isenabled()


def test_a_collector_someone_else_disabled_stays_disabled():
    gc.disable()
    try:
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_pass_due_inside_the_block_runs_after_it():
    passes: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            passes.append(info["generation"])

    before = gc.get_threshold()
    gc.callbacks.append(count)
    try:
        gc.set_threshold(100, 10, 10)
        with collector.paused():
            passes.clear()  # one may have run on the way in, before the pause
            held = [[i] for i in range(1_000)]  # 1,000 new containers: ten passes due
            assert passes == []
        more = [[i] for i in range(10)]
        assert passes, "no pass after the block"
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*before)
    assert len(held) + len(more) == 1_010
