"""leadbot.startup: a function's imports are made with the collector paused, then frozen."""

import gc
from collections.abc import Iterator

import pytest

from leadbot.startup import frozen_imports


@pytest.fixture(autouse=True)
def collector() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


class Node:
    """An object the collector tracks."""


def test_the_collector_is_paused_inside_and_back_on_afterwards() -> None:
    gc.enable()
    with frozen_imports():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_what_was_made_inside_is_frozen_out_of_later_collections() -> None:
    gc.enable()
    before = gc.get_freeze_count()
    with frozen_imports():
        made = [Node() for _ in range(1_000)]
    assert gc.get_freeze_count() >= before + len(made)
    # A collection now walks none of them: they sit in no generation.
    in_generations = {id(o) for generation in range(3) for o in gc.get_objects(generation)}
    assert not any(id(node) in in_generations for node in made)


def test_a_failed_import_still_turns_the_collector_back_on() -> None:
    gc.enable()
    with pytest.raises(ModuleNotFoundError), frozen_imports():
        import leadbot.no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert gc.isenabled()


def test_a_process_that_turned_the_collector_off_keeps_it_off() -> None:
    gc.disable()
    with frozen_imports():
        pass
    assert not gc.isenabled()
