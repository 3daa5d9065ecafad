"""The `qing` command: one thin typer function per subcommand, registered in pipeline order.

Each function parses options and calls one function of the package; the package does the work and knows nothing
of typer. Errors a user can cause are QingError: shown as one sentence, exit code non-zero, no traceback (unless
--verbose). See app.py for the frame every command shares.
"""

from qing.cli import dataset, model, sources, tools  # noqa: F401 (each registers its commands on the app)
from qing.cli.app import app, main

__all__ = ["app", "main"]
