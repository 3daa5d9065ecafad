"""The `qing` command: one thin typer function per subcommand, registered in pipeline order.

Each function parses options and calls one function of the package; the package does the work and knows nothing
of typer. Errors a user can cause are QingError: shown as one sentence, exit code non-zero, no traceback (unless
--verbose). See app.py for the frame every command shares.
"""

# each module registers its commands on the app when imported, and `qing --help` lists them in that order: the
# pipeline's (so not sorted by name)
# isort: off
from qing.cli import sources  # noqa: F401
from qing.cli import dataset  # noqa: F401
from qing.cli import model  # noqa: F401
from qing.cli import tools  # noqa: F401
from qing.cli.app import app, main
# isort: on

__all__ = ["app", "main"]
