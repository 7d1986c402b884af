"""Statuses of loads and of the endpoints the loading service moves (strings stored in the rows)."""

from __future__ import annotations

# loads
LOAD_LOADING = "loading"  # sent to the backend's queue, waiting for its acknowledgment
LOAD_LOADED = "loaded"  # acknowledged: serving
LOAD_FAILED = "failed"  # the agent reported a failure (integrity, engine)
LOAD_UNLOADED = "unloaded"  # the endpoint no longer needs it
LOAD_LOST = "lost"  # its backend died; the endpoint was placed again
LIVE_LOADS = (LOAD_LOADING, LOAD_LOADED)

# endpoints (the part of their status the loading service owns)
ENDPOINT_LOADING = "loading"
ENDPOINT_SERVING = "serving"
ENDPOINT_FAILED = "failed"
