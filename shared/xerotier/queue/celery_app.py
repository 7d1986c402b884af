"""The one Celery app factory; its settings lose nothing (see reference/reliability.md §0)."""

from __future__ import annotations

from celery import Celery
from kombu import Exchange, Queue

from xerotier.queue import fs_transport, names
from xerotier.settings import Settings


def is_amqp(settings: Settings) -> bool:
    """Whether the broker is RabbitMQ (``amqp://``, ``amqps://`` or ``pyamqp://``)."""
    return settings.resolved_broker_url.startswith(("amqp://", "amqps://", "pyamqp://"))


def broker_transport_options(settings: Settings) -> dict:
    if settings.is_embedded_broker:
        folder = settings.broker_dir
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "polling_interval": settings.broker_polling_interval,
        }
    url = settings.resolved_broker_url
    if url.startswith("sqla+"):
        return {}  # kombu's SQLAlchemy transport passes its options to create_engine()
    options: dict = {"visibility_timeout": settings.visibility_timeout_seconds}
    if url.startswith(("redis://", "rediss://")):
        options |= {
            "socket_timeout": 30,
            "socket_connect_timeout": 10,
            "socket_keepalive": True,
            "health_check_interval": 25,
            "retry_on_timeout": True,
        }
        if settings.broker_key_prefix:
            options["global_keyprefix"] = settings.broker_key_prefix
    if is_amqp(settings):
        options |= {"confirm_publish": True}
    return options


def make_celery(settings: Settings, services: list[str] | None = None) -> Celery:
    """A Celery app for ``settings``; ``services`` selects which task modules it registers."""
    include = [m for s in (services or []) for m in names.TASK_MODULES.get(s, [])]
    app = Celery("xerotier", broker=settings.resolved_broker_url, include=include, set_as_current=False)
    amqp = is_amqp(settings)
    # on RabbitMQ every queue is a quorum queue (replicated, durable); publisher confirms are on
    arguments = {"x-queue-type": "quorum"} if amqp else None
    queues = [
        Queue(q, Exchange(q, type="direct"), routing_key=q, queue_arguments=arguments)
        for q in names.SERVICE_QUEUES.values()
    ]
    app.conf.update(
        task_queues=queues,
        task_routes={name: {"queue": q, "routing_key": q} for name, q in names.ROUTES.items()},
        task_default_queue=names.CATALOG_QUEUE,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_time_limit=3600,
        task_soft_time_limit=3300,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_transport_options=broker_transport_options(settings),
        visibility_timeout=settings.visibility_timeout_seconds,
        worker_enable_remote_control=not settings.is_embedded_broker,
        task_create_missing_queues=True,
        task_create_missing_queue_type="quorum" if amqp else "classic",
        enable_utc=True,
    )
    if settings.is_embedded_broker:
        app.conf.broker_transport = fs_transport.TRANSPORT  # messages appear whole (see the module)
    return app
