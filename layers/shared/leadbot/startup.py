"""How a function's module loads: imports made with the cyclic garbage collector off, then frozen.

A cold start makes some 70,000 objects that live as long as the process: modules, classes,
pydantic-core validators, pynamodb models, then botocore's service models on the first call.
The collector runs every 700 allocations and keeps walking all of them, yet can free none;
the first collection after the imports walks them all again. Paused while the function's
modules load and then frozen (moved to the permanent generation, which collections skip), they
cost nothing more: `make bench` measured webhook_telegram's cold start at 384 ms before and
341 ms after, against a 241 ms floor. Reference counting still frees everything as usual; only
reference cycles made during the imports stay, and an import makes few.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_imports() -> Iterator[None]:
    """`with frozen_imports(): import …` at the top of a function's app.py."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
