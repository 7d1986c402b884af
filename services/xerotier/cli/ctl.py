"""``xeroctl``: the user's command-line client, over HTTP only.

The app and its command groups live in ``ctl_app``; each area registers its commands in its own
module, imported here for that side effect.
"""

from __future__ import annotations

from xerotier.cli import (  # noqa: F401  (each module registers its commands)
    ctl_config,
    ctl_downloads,
    ctl_inspect,
    ctl_loading,
    ctl_models,
    ctl_serving,
    ctl_sharing,
    ctl_upload,
    ctl_versions,
)
from xerotier.cli.ctl_app import app  # noqa: F401  (the app, for anyone embedding it)
from xerotier.cli.ctl_app import main as run


def main() -> None:
    """``xeroctl``: every command also takes ``-o/--output`` and ``--wide`` (see ``ctl_app``)."""
    run()
