"""``xeroctl models share|unshare``, ``catalog list|get``, ``endpoints create|list|get|delete``,
``tiers list``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from xerotier.cli.ctl_app import Yes, app, call, confirm, models_app, state
from xerotier.cli.output import emit
from xerotier.client import sharing

catalog_app = typer.Typer(help="Browse the public catalog of shared models.", no_args_is_help=True)
endpoints_app = typer.Typer(help="Manage endpoints.", no_args_is_help=True)
tiers_app = typer.Typer(help="Service tiers.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(endpoints_app, name="endpoints")
app.add_typer(tiers_app, name="tiers")

CATALOG_COLUMNS = [
    ("ID", "id"),
    ("NAME", "name"),
    ("VERSION", "version"),
    ("ARCH", "architecture"),
    ("PARAMS", "parameterCount"),
    ("CONTEXT", "contextLength"),
    ("WORKLOAD", "workloadType"),
    ("ROLE", "catalogRole"),
    ("DEPLOYMENTS", "deploymentCount"),
    ("FEATURED", "featured"),
]
ENDPOINT_COLUMNS = [
    ("ID", "id"),
    ("MODEL", "modelName"),
    ("VERSION", "version"),
    ("SERVING", "servingVersion"),
    ("ROLLING TO", "rollingToVersion"),
    ("TIER", "tier"),
    ("STATUS", "status"),
]
TIER_COLUMNS = [("SLUG", "slug"), ("NAME", "name"), ("SHARED", "isShared"), ("ROLES", "allowedRoles")]


@models_app.command("share")
def models_share(model_id: str) -> None:
    """Publish a ready model's manifest in the public catalog (role deployable)."""
    emit(call(lambda c: sharing.share(c, model_id)), state.output)


@models_app.command("unshare")
def models_unshare(model_id: str) -> None:
    """Remove a model from the catalog; provisioned endpoints keep serving."""
    emit(call(lambda c: sharing.unshare(c, model_id)), state.output)


@catalog_app.command("list")
def catalog_list(
    workload_type: Annotated[str | None, typer.Option("--workload-type")] = None,
    architecture: Annotated[str | None, typer.Option()] = None,
    multimodal: Annotated[bool | None, typer.Option("--multimodal/--text-only")] = None,
    min_parameters: Annotated[int | None, typer.Option("--min-parameters")] = None,
    max_parameters: Annotated[int | None, typer.Option("--max-parameters")] = None,
    min_context_length: Annotated[int | None, typer.Option("--min-context-length")] = None,
    max_context_length: Annotated[int | None, typer.Option("--max-context-length")] = None,
    pre_quantized: Annotated[bool | None, typer.Option("--pre-quantized/--not-pre-quantized")] = None,
    search: Annotated[str | None, typer.Option("--search", "-q", help="Text in the name")] = None,
    limit: Annotated[int, typer.Option(help="Page size")] = 50,
    cursor: Annotated[str | None, typer.Option(help="nextCursor of the previous page")] = None,
) -> None:
    """List shared models of every project (one page; the next cursor goes to stderr)."""
    page = call(
        lambda c: sharing.catalog_page(
            c,
            workloadType=workload_type,
            architecture=architecture,
            isMultimodal=multimodal,
            minParameters=min_parameters,
            maxParameters=max_parameters,
            minContextLength=min_context_length,
            maxContextLength=max_context_length,
            isPreQuantized=pre_quantized,
            q=search,
            limit=limit,
            cursor=cursor,
        )
    )
    if state.output.value != "table":
        emit(page, state.output)
        return
    emit(page["models"], state.output, CATALOG_COLUMNS)
    if page.get("nextCursor"):
        typer.echo(f"next page: --cursor {page['nextCursor']}", err=True)


@catalog_app.command("get")
def catalog_get(model_id: str) -> None:
    """Show one catalog entry (manifest, deployment count, role)."""
    emit(call(lambda c: sharing.catalog_get(c, model_id)), state.output)


@endpoints_app.command("create")
def endpoints_create(
    model_id: Annotated[str, typer.Argument(help="Your model's id or a catalog model's id")],
    tier: Annotated[str, typer.Option(help="Service tier slug (see `xeroctl tiers list`)")] = "self_hosted",
) -> None:
    """Create an endpoint serving the latest version of the model's name."""
    emit(call(lambda c: sharing.create_endpoint(c, model_id, tier)), state.output)


@endpoints_app.command("list")
def endpoints_list() -> None:
    """List the project's endpoints."""
    emit(call(sharing.list_endpoints), state.output, ENDPOINT_COLUMNS)


@endpoints_app.command("get")
def endpoints_get(endpoint_id: str) -> None:
    """Show one endpoint: the version it follows, serves now (servingVersion) and rolls to."""
    emit(call(lambda c: sharing.get_endpoint(c, endpoint_id)), state.output)


@endpoints_app.command("delete")
def endpoints_delete(endpoint_id: str, yes: Yes = False) -> None:
    """Delete an endpoint (its load is released). Asks first unless --yes."""
    confirm(f"Delete endpoint {endpoint_id}? Requests to it will fail.", yes)
    emit(call(lambda c: sharing.delete_endpoint(c, endpoint_id)), state.output)


@tiers_app.command("list")
def tiers_list() -> None:
    """List service tiers and the catalog roles each may select."""
    emit(call(sharing.tiers), state.output, TIER_COLUMNS)
