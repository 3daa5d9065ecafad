"""Run `qing export` on real exports of other tools and print what it read from each: the check of the readers
against real files, which the tests cannot ship (they are other projects' files, under their own licenses).

Usage: python bench/check_real_samples.py [FOLDER] (default: ../shared/samples beside the checkout). Not a test.

Every file in FOLDER that qing recognises as a QQ Chat Exporter, WeClone CSV or Telegram export is exported
with --tz UTC into a temporary folder. When qing asks which sender is the owner, the export runs again with
--me set to the first sender it lists (the one with the most messages), and the line says so. Each line: the
file, its format, messages, how many are the owner's, chats, and messages by kind. Exit status 1 when a
recognised file fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "samples"
_FIRST_SENDER = re.compile(r"senders: .*?\((?:user)?(\d+)\) \d+")


def export(path: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    """`qing export` of this checkout, in an empty folder (so no .env of the caller's counts)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env = {k: v for k, v in env.items() if not k.startswith("QING_")}
    return subprocess.run([sys.executable, "-m", "qing", "export", str(path), "-o", str(out), "--tz", "UTC",
                           "--force", *extra], capture_output=True, text=True, cwd=out.parent, env=env)


def counts(out: Path) -> str:
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    kinds = Counter(r["kind"] for r in rows)
    chats = len({r["chat"] for r in rows})
    return (f"{len(rows)} messages, {sum(r['is_me'] for r in rows)} yours, {chats} chat{'s' * (chats != 1)}; "
            + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()))


def check(path: Path, work: Path) -> bool:
    """Print one line for `path`; False when qing recognises it and fails to export it."""
    from qing.errors import QingError
    from qing.sources.export_other import detect

    try:
        source = detect(path)
    except (QingError, OSError):
        print(f"{path.name}: skipped, not an export qing reads")
        return True
    if source not in ("qce", "weclone-csv", "telegram"):
        print(f"{path.name}: skipped, {source} (export it on its own)")
        return True
    out, note = work / f"{path.name}.jsonl", ""
    result = export(path, out)
    first = _FIRST_SENDER.search(result.stdout + result.stderr)
    if result.returncode == 1 and "--me" in result.stderr and first:
        note = f" (--me {first.group(1)}, the first sender listed)"
        result = export(path, out, "--me", first.group(1))
    if result.returncode != 0:
        print(f"{path.name} [{source}]{note}: FAILED, exit {result.returncode}: "
              f"{(result.stderr or result.stdout).strip()[-400:]}")
        return False
    print(f"{path.name} [{source}]{note}: {counts(out)}")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=DEFAULT, help=f"default: {DEFAULT}")
    args = parser.parse_args()
    if not args.folder.is_dir():
        sys.exit(f"{args.folder} is not a folder")
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="qing-samples-") as work:
        ok = [check(path, Path(work)) for path in sorted(args.folder.iterdir()) if path.is_file()]
    sys.exit(0 if all(ok) else 1)


if __name__ == "__main__":
    main()
