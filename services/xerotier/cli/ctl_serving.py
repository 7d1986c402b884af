"""``xeroctl chat <endpoint> "prompt"``: chat with an endpoint through the router, streamed."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from xerotier.cli.ctl_app import app, state
from xerotier.cli.output import OutputFormat, err_console
from xerotier.client import serving
from xerotier.client.http import ApiError


@app.command("chat")
def chat(
    endpoint: Annotated[str, typer.Argument(help="The endpoint: its id or its model's name")],
    prompt: Annotated[str, typer.Argument(help="What to say")],
    system: Annotated[str | None, typer.Option(help="A system message first")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="At most this many tokens")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature")] = None,
) -> None:
    """Send one chat message to an endpoint and print the answer as it streams."""
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": prompt}
    ]
    try:
        with state.client() as client:
            stream = serving.chat(client, endpoint, messages, max_tokens=max_tokens, temperature=temperature)
            pieces = []
            for piece in stream:
                pieces.append(piece)
                if state.output is OutputFormat.table:
                    sys.stdout.write(piece)
                    sys.stdout.flush()
    except ApiError as exc:
        prefix = f"Error ({exc.status})" if exc.status else "Error"
        err_console.print(f"{prefix}: {exc.message}", markup=False)
        raise typer.Exit(1) from None
    if state.output is OutputFormat.json:
        import json

        doc = {"content": "".join(pieces), "version": stream.version, "usage": stream.usage}
        print(json.dumps(doc | {"finishReason": stream.finish_reason}, indent=2))
        return
    sys.stdout.write("\n")
    err_console.print(f"[{stream.version}, {stream.finish_reason}, {stream.usage or {}}]", markup=False)
