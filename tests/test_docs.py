"""The docs that are generated from the code are up to date."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_command_reference_matches_the_cli_help():
    # a process of its own: the script sets TYPER_USE_RICH before typer is imported
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "make_commands.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, (
        f"docs/commands.md is out of date with `qing <command> --help`: run `python docs/make_commands.py` and "
        f"commit docs/commands.md.\n{result.stdout}{result.stderr}")
