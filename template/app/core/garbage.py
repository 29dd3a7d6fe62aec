"""The garbage collector, settled for a long-running server once the app has started.

CPython's collector walks every tracked object it has not frozen: the tens of thousands
made at start-up (modules, routes, models, the OpenAPI schema) are walked again at each
full collection, a pause of tens of milliseconds that lands on whatever requests are in
flight. Frozen once the app is built, they are never walked again. Collections of young
objects then run less often: a request makes a few hundred objects, most freed by their
reference counts alone, and a collection every 700 allocations mostly finds nothing.

Measured on /users/me at 32 connections: p99 88 ms before, 28-45 ms after; +15% requests/s.
"""

import gc

# Allocations between young collections, then how many young ones per older one.
THRESHOLDS = (10_000, 20, 20)


def settle() -> None:
    gc.collect()  # what start-up left as garbage goes now, not into the frozen set
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
