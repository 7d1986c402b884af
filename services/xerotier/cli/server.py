"""``xerotier``: the server side — run the registry, its workers, migrations and keys."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from xerotier.errors import DatabaseNotMigrated, InvalidInput
from xerotier.queue import names
from xerotier.settings import InvalidSettings, Settings, apply_overrides

app = typer.Typer(
    help="Xerotier model registry (server side). Settings: flag > XEROTIER_* variable > default.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="Project API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")


DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Where the embedded registry lives [env XEROTIER_DATA_DIR; default xerotier-data]"
    ),
]
Port = Annotated[int | None, typer.Option(help="API port [env XEROTIER_PORT; default 8000]")]
Host = Annotated[str | None, typer.Option(help="API address [env XEROTIER_HOST; default 127.0.0.1]")]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"xerotier {version('xerotier')}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit")
    ] = False,
) -> None:
    """Xerotier model registry (server side). Settings: flag > XEROTIER_* variable > default."""


def _settings(**flags: object) -> Settings:
    """The settings with this command's flags applied (flag > environment variable > default).

    A bad value (``XEROTIER_PORT=abc``) ends the command with one line naming the variable.
    """
    try:
        return apply_overrides(**flags)
    except InvalidSettings as exc:
        _fail(exc.message)
        raise  # unreachable: _fail exits


def _logging(settings: Settings) -> None:
    """Structured logs (``XEROTIER_LOG_FORMAT``: text or json) with the request and model ids."""
    from xerotier.observability.logs import configure_logging

    try:
        configure_logging(settings.log_level, settings.log_format)
    except ValueError as exc:
        _fail(str(exc))


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


def _migrated_runtime(services: list[str] | None = None):
    """The process's runtime, or a one-line exit when the database is not migrated."""
    from xerotier.db.migrate import ensure_migrated
    from xerotier.runtime import Runtime, set_runtime

    settings = _settings()
    if settings.database_url is None and not (settings.data_dir / "xerotier.db").exists():
        _fail(
            f"No registry in {settings.data_dir.resolve()}: start one there with `xerotier up`, or point "
            "this command at yours with --data-dir (or XEROTIER_DATA_DIR)."
        )
    runtime = Runtime(settings, services or [])
    try:
        ensure_migrated(runtime.engine)
    except DatabaseNotMigrated as exc:
        _fail(exc.message)
    except Exception as exc:
        _fail(f"Cannot reach the database at {runtime.engine.url.render_as_string()}: {type(exc).__name__}")
    set_runtime(runtime)
    return runtime


@app.command()
def up(data_dir: DataDir = None, port: Port = None, host: Host = None) -> None:
    """Run everything on this machine: API, workers, reconciler (SQLite, local blobs, no server)."""
    from xerotier.cli.embedded import Embedded

    settings = _settings(data_dir=data_dir, port=port, host=host)
    _logging(settings)
    Embedded(settings).run()


@app.command()
def serve(data_dir: DataDir = None, port: Port = None, host: Host = None) -> None:
    """Run the HTTP API (gateway) with the configured database and broker."""
    import uvicorn

    from xerotier.gateway.app import create_app

    settings = _settings(data_dir=data_dir, port=port, host=host)
    _logging(settings)
    runtime = _migrated_runtime()
    uvicorn.run(
        create_app(runtime),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=None,  # keep the structured logging set up above
        access_log=False,  # the gateway's middleware logs each request with its request id
    )


@app.command()
def router(data_dir: DataDir = None, port: Port = None, host: Host = None) -> None:
    """Run the OpenAI-compatible router alone (the gateway mounts it by default)."""
    import uvicorn

    from xerotier.router.app import create_router_app

    settings = _settings(data_dir=data_dir, port=port, host=host)
    _logging(settings)
    runtime = _migrated_runtime()
    uvicorn.run(
        create_router_app(runtime),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=None,
        access_log=False,
    )


@app.command()
def worker(
    services: Annotated[list[str], typer.Argument(help="Services whose queues to consume")],
    concurrency: Annotated[int | None, typer.Option(help="Task slots")] = None,
    pool: Annotated[str, typer.Option(help="prefork, threads or solo")] = "prefork",
    data_dir: DataDir = None,
) -> None:
    """Run a Celery worker for one or more services (upload, validation, catalog, loading)."""
    unknown = [s for s in services if s not in names.SERVICE_QUEUES]
    if unknown:
        _fail(f"Unknown service {', '.join(unknown)}; choose from {', '.join(names.SERVICE_QUEUES)}")
    settings = _settings(data_dir=data_dir)
    _logging(settings)
    from xerotier.observability import worker as observability

    observability.prepare_metrics_dir(settings)  # before any metric exists (multi-process mode)
    runtime = _migrated_runtime(services)
    runtime.engine.dispose()  # children build their own connections (worker_process_init)
    from xerotier.queue import worker_signals

    worker_signals.install(services)
    observability.install(runtime.celery, settings)
    if settings.metrics_port:
        observability.serve_metrics(runtime, settings.metrics_port)
    queues = ",".join(names.SERVICE_QUEUES[s] for s in services)
    runtime.celery.worker_main(
        [
            "worker",
            "--loglevel",
            settings.log_level.upper(),
            "-Q",
            queues,
            "--hostname",
            # unique per process: two workers of one host (or a restart racing its dead predecessor)
            # never share a node name, which RabbitMQ refuses (exclusive pidbox queue)
            f"{'+'.join(services)}.{os.getpid()}@%h",
            "--pool",
            pool,
            "--concurrency",
            str(concurrency or settings.worker_concurrency),
            "--without-mingle",
            "--without-gossip",
        ]
    )


@app.command()
def agent(
    backend_id: Annotated[
        str, typer.Option("--backend-id", help="This backend's name (default: host name)")
    ] = "",
    gpu: Annotated[
        list[str] | None, typer.Option("--gpu", help='Declared GPU "name=…,memory=80GiB,cc=9.0" (repeatable)')
    ] = None,
    device: Annotated[str | None, typer.Option("--device", help="cpu: host memory is the budget")] = None,
    enable_moe_config: Annotated[
        bool, typer.Option("--enable-moe-config", help="Use tuned fused-MoE kernel configs")
    ] = False,
    moe_config_dir: Annotated[Path | None, typer.Option(help="Folder of tuned fused-MoE configs")] = None,
    gpu_memory_utilization: Annotated[float, typer.Option(help="Share of GPU memory to use")] = 0.90,
    kv_cache_dtype: Annotated[str, typer.Option(help="auto or fp8")] = "auto",
    pool: Annotated[str, typer.Option(help="Celery pool: only solo (CUDA does not survive fork)")] = "solo",
    data_dir: DataDir = None,
    engine: Annotated[
        str,
        typer.Option(
            help="auto (vllm with XEROTIER_ENGINE_COMMAND, the CPU engine with --device cpu), vllm, cpu,"
            " or builtin (a load check that serves nothing)"
        ),
    ] = "auto",
    engine_host: Annotated[
        str,
        typer.Option(
            help="Address routers reach the engines at (advertised in each load; engines listen on"
            " every interface unless it is loopback)"
        ),
    ] = "127.0.0.1",
) -> None:
    """Run a GPU worker agent: register this node as a backend and load models on it."""
    import socket

    from xerotier.agent.context import AgentContext
    from xerotier.agent.engine_choice import choose_engine
    from xerotier.agent.inventory import build_inventory
    from xerotier.agent.link import RegistryLink
    from xerotier.agent.main import run
    from xerotier.agent.nvml import NvmlUnavailable

    settings = _settings(data_dir=data_dir)
    _logging(settings)
    if not 0.05 <= gpu_memory_utilization <= 1.0:
        _fail("--gpu-memory-utilization must be between 0.05 and 1.0")
    if kv_cache_dtype not in ("auto", "fp8"):
        _fail("--kv-cache-dtype must be auto or fp8")
    if pool != "solo":
        _fail("--pool must be solo: CUDA does not survive fork")
    try:
        inventory, source = build_inventory(gpu or [], device)
    except NvmlUnavailable as exc:
        _fail(
            f"NVML is unavailable ({exc}); declare GPUs with --gpu name=…,memory=…,cc=… or use --device cpu"
        )
    except InvalidInput as exc:
        _fail(exc.message)
    name = backend_id or socket.gethostname()
    from xerotier.agent.cpu_engine import available

    chosen, note = choose_engine(engine, device, settings.engine_command, available())
    if chosen is None:
        _fail(note)
        return
    if note:
        typer.echo(note, err=True)
    from xerotier.observability import worker as observability

    observability.prepare_metrics_dir(settings)
    link = RegistryLink(settings, ["agent"])  # a broker and the blob store: never the database
    observability.install(link.celery, settings)
    if settings.metrics_port:
        observability.serve_metrics(None, settings.metrics_port)
    context = AgentContext(
        backend_id=name,
        cache_dir=settings.resolved_agent_cache_dir / name,
        engine_command=settings.engine_command,
        engine=chosen,
        engine_host=engine_host,
        health_timeout_seconds=settings.engine_health_timeout_seconds,
        moe_config_dir=moe_config_dir,
    )
    options = {
        "gpuMemoryUtilization": gpu_memory_utilization,
        "kvCacheDtype": kv_cache_dtype,
        "enableMoeConfig": enable_moe_config,
    }
    run(link, context, inventory, source, options, settings.log_level)


@app.command()
def reconciler(data_dir: DataDir = None) -> None:
    """Relay the outbox and re-drive overdue models, forever (run one or more per deployment)."""
    import signal
    import threading

    from xerotier.queue.reconciler import Housekeeper

    settings = _settings(data_dir=data_dir)
    _logging(settings)
    runtime = _migrated_runtime()
    keeper = Housekeeper(runtime)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    keeper.start()
    while True:
        if keeper._thread.is_alive():  # liveness: the same heartbeat file the workers touch
            settings.heartbeat_file.parent.mkdir(parents=True, exist_ok=True)
            settings.heartbeat_file.touch()
        if done.wait(settings.heartbeat_interval_seconds):
            break
    keeper.stop()


@app.command()
def revalidate(
    extractor_older_than: Annotated[
        int, typer.Option("--extractor-older-than", help="Revalidate versions extracted below this version")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the versions, enqueue nothing")] = False,
    data_dir: DataDir = None,
) -> None:
    """Send every model version whose metadata came from an older extractor back to validation."""
    from xerotier.validation import bulk

    _settings(data_dir=data_dir)
    runtime = _migrated_runtime()
    if dry_run:
        ids = bulk.stale_versions(runtime, extractor_older_than)
    else:
        ids = bulk.revalidate_stale(runtime, extractor_older_than)
    for model_id in ids:
        typer.echo(str(model_id))
    verb = "would be revalidated" if dry_run else "enqueued for revalidation"
    typer.echo(f"{len(ids)} model versions {verb} (extractor older than {extractor_older_than}).", err=True)


@app.command()
def operator(
    namespace: Annotated[
        list[str] | None, typer.Option(help="Namespace(s) to watch (default: all namespaces)")
    ] = None,
    liveness: Annotated[
        str, typer.Option(help="kopf liveness endpoint (empty: none)")
    ] = "http://0.0.0.0:8080/healthz",
) -> None:
    """Run the Kubernetes operator: reconcile ``Model`` resources through the HTTP API."""
    from xerotier.operator.main import run_operator

    settings = _settings()
    _logging(settings)
    if not settings.api_key:
        _fail("The operator needs XEROTIER_API_KEY (and XEROTIER_API_URL) to reach the registry.")
    run_operator(settings, namespace or [], liveness or None)


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """Apply every pending schema migration (creating the embedded registry's database if need be)."""
    from xerotier.db.engine import make_engine
    from xerotier.db.migrate import upgrade

    settings = _settings(data_dir=data_dir)
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    engine.dispose()
    typer.echo("Database is up to date.")


@keys_app.command("create")
def keys_create(
    project: Annotated[str, typer.Option(help="Project slug (created if new)")],
    name: Annotated[str | None, typer.Option(help="A label for the key")] = None,
    data_dir: DataDir = None,
) -> None:
    """Mint an API key for a project; the key is printed once and never stored."""
    from xerotier.db.projects import create_key, get_or_create_project

    _settings(data_dir=data_dir)
    runtime = _migrated_runtime()
    try:
        with runtime.unit_of_work() as session:
            proj = get_or_create_project(session, project)
            _, key = create_key(session, proj, name)
    except InvalidInput as exc:
        _fail(exc.message)
    typer.echo(key)


@keys_app.command("list")
def keys_list(project: Annotated[str, typer.Option(help="Project slug")], data_dir: DataDir = None) -> None:
    """List a project's keys: id, name, shown prefix, created, last used, revoked (never a secret)."""
    from xerotier.db.api_keys import list_keys
    from xerotier.errors import NotFound

    _settings(data_dir=data_dir)
    runtime = _migrated_runtime()
    try:
        with runtime.session_factory() as session:
            keys = list_keys(session, project)
    except NotFound as exc:
        _fail(exc.message)
    for k in keys:
        when = lambda t: t.isoformat(timespec="seconds") if t else "-"  # noqa: E731
        state = f"revoked {when(k.revoked_at)}" if k.revoked_at else "active"
        typer.echo(
            f"{k.id}  {k.prefix}  {k.name or '-'}  created {when(k.created_at)}  "
            f"last used {when(k.last_used_at)}  {state}"
        )


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="The key's id, or its shown prefix")],
    project: Annotated[str, typer.Option(help="Project slug")],
    data_dir: DataDir = None,
) -> None:
    """Revoke a key: requests presenting it get 401 from now on."""
    from xerotier.db.api_keys import revoke_key
    from xerotier.errors import NotFound

    _settings(data_dir=data_dir)
    runtime = _migrated_runtime()
    try:
        with runtime.unit_of_work() as session:
            info = revoke_key(session, project, key)
    except NotFound as exc:
        _fail(exc.message)
    typer.echo(f"Revoked {info.id} ({info.prefix})")


catalog_app = typer.Typer(help="Operator-only catalog administration.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


@catalog_app.command("set-role")
def catalog_set_role(
    model_id: Annotated[str, typer.Argument(help="A shared model's id")],
    role: Annotated[str, typer.Argument(help="deployable or shared")],
    featured: Annotated[bool | None, typer.Option("--featured/--not-featured", help="Featured flag")] = None,
    data_dir: DataDir = None,
) -> None:
    """Assign a shared model's catalog role (no automatic path promotes to `shared` today)."""
    import uuid

    from xerotier.catalog.sharing.handlers import set_catalog_role
    from xerotier.domain.tiers import parse_role
    from xerotier.errors import PermanentError

    _settings(data_dir=data_dir)
    runtime = _migrated_runtime()
    try:
        model = set_catalog_role(runtime, uuid.UUID(model_id), parse_role(role), featured)
    except ValueError:
        _fail("Invalid model ID")
    except PermanentError as exc:
        _fail(exc.message)
    typer.echo(f"{model.id}  role {model.catalog_role}  featured {model.featured}")


def main() -> None:
    from xerotier.cli import server_blobs  # noqa: F401  (registers `xerotier blobs`)

    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
