"""CPython's garbage collector, set for a server that holds thousands of idle sockets.

With 10,000 visitors connected, a full (oldest-generation) collection walks
every container object of the process: 2.3-2.6 s of CPU in which nobody is
answered (``bench/idle.py`` with a GC probe,
docs/performance.md). Engine.IO's pings make objects that live about 25 s, long
enough to reach the oldest generation, so CPython's default started a full
collection every 15-20 s. Waiting for many more young collections first makes
them rare without changing what is collected: reference counting frees most
objects at once, and the collections of the young generations still run as
usual.
"""

from __future__ import annotations

import gc

# Collections of generation 1 between two full collections (CPython's default: 10).
FULL_COLLECTION_EVERY = 1000


def tune() -> None:
    """Make full collections rare; ``chatbot serve`` calls it once per process before it listens."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
