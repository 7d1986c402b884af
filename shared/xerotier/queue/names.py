"""Task names, queues and routing: the one place that declares the task topology.

Producers enqueue by name (``send_task``), so no service imports another. Each service's worker
consumes its own queue; each GPU backend has its own ``gpu.<backend>`` queue.
"""

from __future__ import annotations

UPLOAD_QUEUE = "upload"
VALIDATION_QUEUE = "validation"
CATALOG_QUEUE = "catalog"
LOADING_QUEUE = "loading"
SERVICE_QUEUES: dict[str, str] = {
    "upload": UPLOAD_QUEUE,
    "validation": VALIDATION_QUEUE,
    "catalog": CATALOG_QUEUE,
    "loading": LOADING_QUEUE,
}

# Stable task names: xerotier.<service>.<verb>
VALIDATE = "xerotier.validation.validate"
REVALIDATE = "xerotier.validation.revalidate"
UPLOAD_INGEST_EVENT = "xerotier.upload.ingest_event"  # an object-storage bucket notification
UPLOAD_IMPORT_HUB = "xerotier.upload.import_hub"  # snapshot a Hugging Face repository
CATALOG_STATUS_CHANGED = "xerotier.catalog.status_changed"  # a model reached ready or error
CATALOG_ENDPOINT_CHANGED = "xerotier.catalog.endpoint_changed"  # deployment counts, demotion
LOADING_PLACE = "xerotier.loading.place"  # an endpoint needs its model loaded somewhere
LOADING_ACK = "xerotier.loading.ack"  # an agent reports a load (or its failure)
LOADING_UNLOAD = "xerotier.loading.unload"  # an endpoint no longer needs a load
LOADING_SWEEP = "xerotier.loading.sweep"  # re-place the loads of backends that missed heartbeats
LOADING_FOLLOW = "xerotier.loading.follow_latest"  # a name's latest moved: roll its endpoints out
LOADING_REGISTER = "xerotier.loading.register_backend"  # an agent starts (it writes no row itself)
LOADING_HEARTBEAT = "xerotier.loading.heartbeat"  # an agent is alive (re-registers a forgotten one)
LOADING_IDLE_SWEEP = "xerotier.loading.idle_sweep"  # scale to zero: unload idle endpoints
AGENT_LOAD = "xerotier.agent.load"  # sent to gpu.<backend>
AGENT_UNLOAD = "xerotier.agent.unload"  # sent to gpu.<backend>

#: task name → queue. A name not listed here is a programming error (``queue_for`` raises).
ROUTES: dict[str, str] = {
    VALIDATE: VALIDATION_QUEUE,
    REVALIDATE: VALIDATION_QUEUE,
    UPLOAD_INGEST_EVENT: UPLOAD_QUEUE,
    UPLOAD_IMPORT_HUB: UPLOAD_QUEUE,
    CATALOG_STATUS_CHANGED: CATALOG_QUEUE,
    CATALOG_ENDPOINT_CHANGED: CATALOG_QUEUE,
    LOADING_PLACE: LOADING_QUEUE,
    LOADING_ACK: LOADING_QUEUE,
    LOADING_UNLOAD: LOADING_QUEUE,
    LOADING_SWEEP: LOADING_QUEUE,
    LOADING_FOLLOW: LOADING_QUEUE,
    LOADING_REGISTER: LOADING_QUEUE,
    LOADING_HEARTBEAT: LOADING_QUEUE,
    LOADING_IDLE_SWEEP: LOADING_QUEUE,
}
#: Tasks sent to one GPU backend's own queue (``gpu_queue(backend_id)``), not routed by name.
GPU_TASKS = (AGENT_LOAD, AGENT_UNLOAD)

#: service → modules holding its Celery tasks (imported by that service's worker only).
TASK_MODULES: dict[str, list[str]] = {
    "upload": ["xerotier.upload.tasks"],
    "validation": ["xerotier.validation.tasks"],
    "catalog": ["xerotier.catalog.versions.tasks", "xerotier.catalog.endpoints.tasks"],
    "loading": ["xerotier.loading.tasks"],
    "agent": ["xerotier.agent.tasks"],
}


def gpu_queue(backend_id: str) -> str:
    """The queue a GPU worker (agent) consumes."""
    return f"gpu.{backend_id}"


def queue_for(task_name: str) -> str:
    try:
        return ROUTES[task_name]
    except KeyError:
        raise KeyError(f"task {task_name!r} has no route in xerotier.queue.names.ROUTES") from None
