"""The guard stage's rate limit (DESIGN.md §5 step 4): a token bucket per sender, kept on the lead.

A person answering questions, pressing buttons or sending a few short messages in a row stays
well inside it; a flood (a script, a stuck key, a forwarded chat dump) runs it dry. What runs
dry is not lost: the service still records every message on the lead's Timeline, but the
conversation does not advance on it, it does not count as engagement, and the sender hears one
"slow down" for the whole flood rather than one reply per message (a flood that goes on is
still answered once a token comes back, every two seconds, without another warning).

The bucket is two numbers on the lead, `rate_tokens` (None: full) as of `last_inbound_at`, so
it costs no request of its own: the lead is read and saved for every message anyway, under
optimistic locking, which also keeps concurrent deliveries of one flood from each taking the
same token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# At most this many messages at once...
BURST = 20.0
# ...and then one every two seconds (30 a minute) for as long as the sender keeps going.
REFILL_PER_S = 0.5
# A flood hears "slow down" once: not again before this long, however often it runs dry.
WARN_AGAIN_AFTER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Admission:
    allowed: bool
    tokens: float  # what is left in the bucket now, this message's token taken if allowed


def admit(tokens: float | None, since: datetime | None, now: datetime) -> Admission:
    """Take one token for a message arriving at `now` from a bucket that held `tokens` at
    `since` (the sender's previous message); refused when less than one is left."""
    level = BURST if tokens is None or since is None else tokens
    elapsed = max((now - since).total_seconds(), 0.0) if since is not None else 0.0
    level = min(BURST, level + elapsed * REFILL_PER_S)
    if level < 1.0:
        return Admission(allowed=False, tokens=round(level, 3))
    return Admission(allowed=True, tokens=round(level - 1.0, 3))


def warn(slowed_down_at: datetime | None, now: datetime) -> bool:
    """Whether a refused message should hear "slow down": not when one was said lately."""
    return slowed_down_at is None or now - slowed_down_at >= WARN_AGAIN_AFTER
