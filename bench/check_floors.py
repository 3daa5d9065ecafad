"""Do the dependency floors in pyproject.toml hold? Install every dependency at its floor in a fresh venv, run tests.

Each `name>=X` of the core dependencies and of the extras (train, llm, gguf, plot, test) becomes `name==X`; what
they depend on is left to pip. torch is the exception: give it with --torch (a CPU wheel; torch's floor from PyPI is
a multi-GB CUDA build). llama-cpp-python compiles llama.cpp (minutes): --with-llama-cpp installs its floor too,
else the tests that need it skip. The checkout's qing is tested (PYTHONPATH), not an installed copy.
Not a test. Usage:
  python bench/check_floors.py --torch /path/to/torch-2.x+cpu.whl [--with-llama-cpp] [--venv DIR] [TEST_FILE ...]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pip's copy of the same parser
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = ("train", "llm", "gguf", "plot", "test")


def floors(with_llama_cpp: bool) -> list[str]:
    """`name==floor[; marker]` for every requirement with a floor, torch left out."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in EXTRAS:
        wanted += project["optional-dependencies"][extra]
    pins = {}
    for requirement in wanted:
        spec, _, marker = requirement.partition(";")
        m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([^,\s]+)", spec)
        if not m or m[1] == "torch" or (m[1] == "llama-cpp-python" and not with_llama_cpp):
            continue
        pins[m[1].lower()] = f"{m[1]}=={m[2]}" + (f"; {marker.strip()}" if marker else "")
    return sorted(pins.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch", required=True, help="what to pip install for torch (a CPU wheel's path)")
    parser.add_argument("--venv", type=Path, default=Path("/tmp/qing-floors"))
    parser.add_argument("--with-llama-cpp", action="store_true")
    parser.add_argument("tests", nargs="*", default=["tests"], help="test files or folders (default: all)")
    args = parser.parse_args()
    pins = floors(args.with_llama_cpp)
    print("floors:", ", ".join(pins))
    python = args.venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(args.venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run(pip + [args.torch], check=True)
    env = {**os.environ, "CMAKE_ARGS": os.environ.get("CMAKE_ARGS", "-DGGML_NATIVE=OFF")}
    subprocess.run(pip + pins, check=True, env=env)
    subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"], check=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    sys.exit(subprocess.run([str(python), "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args.tests],
                            cwd=ROOT, env=env).returncode)


if __name__ == "__main__":
    main()
