"""``xeroctl whoami``, ``xeroctl login`` and ``xeroctl config set|get|list|use``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from xerotier.cli import config_file
from xerotier.cli.ctl_app import app, call, state
from xerotier.cli.output import console, emit, err_console
from xerotier.client.http import XerotierClient

config_app = typer.Typer(help="The config file and its profiles (URL and key).", no_args_is_help=True)
app.add_typer(config_app, name="config")

ProfileOption = Annotated[
    str | None, typer.Option("--profile", "-p", help="Profile to write (default: the active one)")
]


def _fail(message: str) -> None:
    err_console.print(f"Error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(1)


def _load() -> config_file.Config:
    try:
        return config_file.load()
    except config_file.ConfigError as exc:
        _fail(exc.message)
        raise


@app.command("whoami")
def whoami() -> None:
    """The project and key the requests go out with, the API URL, and where each came from."""
    target = state.target()
    me = call(lambda c: c.request("GET", "/v1/whoami"))
    emit(
        {
            "project": me["projectSlug"],
            "projectId": me["projectId"],
            "keyId": me["keyId"],
            "keyName": me.get("keyName"),
            "keyPrefix": me.get("keyPrefix"),
            "apiUrl": target.api_url,
            "apiUrlFrom": target.url_source,
            "apiKeyFrom": target.key_source,
        },
        state.output,
    )


@app.command("login")
def login(
    api_url: Annotated[str | None, typer.Option(help="API base URL (default: the one in use)")] = None,
    api_key: Annotated[str | None, typer.Option(help="API key (asked for, hidden, when not given)")] = None,
    profile: ProfileOption = None,
) -> None:
    """Check a URL and key against the registry, then save them in a profile of the config file."""
    config = _load()
    name = profile or config_file.active_profile(config, state.profile)
    target = state.target()
    url = api_url or state.api_url or target.api_url
    key = api_key or state.api_key or typer.prompt("API key", hide_input=True, err=True)

    def check(_: Any) -> dict[str, Any]:
        with XerotierClient(url, key) as client:
            return client.request("GET", "/v1/whoami")

    me = call(check)
    try:
        config_file.set_value(config, name, "api_url", url)
        config_file.set_value(config, name, "api_key", key)
    except config_file.ConfigError as exc:
        _fail(exc.message)
    config.current = config.current or name
    path = config_file.save(config)
    console.print(
        f"Logged in to {url} as project {me['projectSlug']} (key {me['keyId']}); saved in profile "
        f"{name} of {path}",
        markup=False,
        soft_wrap=True,
    )


@config_app.command("set")
def config_set(
    key: Annotated[str, typer.Argument(help="api_url or api_key")],
    value: Annotated[str, typer.Argument(help="The value")],
    profile: ProfileOption = None,
) -> None:
    """Set a value in a profile of the config file (created with mode 0600)."""
    config = _load()
    name = profile or config_file.active_profile(config, state.profile)
    try:
        config_file.set_value(config, name, key, value)
    except config_file.ConfigError as exc:
        _fail(exc.message)
    config.current = config.current or name
    path = config_file.save(config)
    shown = config_file.shown_key(value) if key == "api_key" else value
    console.print(f"{key} = {shown} in profile {name} of {path}", markup=False, soft_wrap=True)


@config_app.command("get")
def config_get(
    key: Annotated[str, typer.Argument(help="api_url or api_key")], profile: ProfileOption = None
) -> None:
    """Print one value of a profile (the key in full: it is yours)."""
    config = _load()
    name = profile or config_file.active_profile(config, state.profile)
    value = config.profile(name).get(key)
    if value is None:
        _fail(f"No {key} in profile {name} of {config_file.config_path()}")
    print(value)


@config_app.command("list")
def config_list() -> None:
    """The profiles: name, URL, key prefix, and which one is active."""
    config = _load()
    active = config_file.active_profile(config, state.profile)
    rows = [
        {
            "profile": name,
            "active": name == active,
            "apiUrl": values.get("api_url"),
            "apiKey": config_file.shown_key(values.get("api_key")),
        }
        for name, values in config.profiles.items()
    ]
    emit(
        rows,
        state.output,
        [("PROFILE", "profile"), ("ACTIVE", "active"), ("API URL", "apiUrl"), ("KEY", "apiKey")],
    )


@config_app.command("use")
def config_use(profile: Annotated[str, typer.Argument(help="The profile used when none is named")]) -> None:
    """Make a profile the current one."""
    config = _load()
    if profile not in config.profiles:
        _fail(f"No profile {profile} in {config_file.config_path()}: create it with `xeroctl config set`")
    config.current = profile
    config_file.save(config)
    console.print(f"Current profile: {profile}", markup=False)
