"""The package's shape: imports go down the pipeline (sources -> dataset -> model -> cli), never back up, with no
import circle, and no module much over 600 lines; fixtures are for tests, benches and the demo only."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "qing"
LAYERS = ["base", "sources", "dataset", "model", "cli", "fixtures"]
"""Each layer may import the layers before it. `base`: the modules at the top of the package (errors, files,
config, parallel, options, extras)."""


def layer(module: str) -> str:
    if module == "qing.__main__":  # `python -m qing`: the command line
        return "cli"
    part = module.split(".")[1] if module.count(".") else "base"
    return part if part in LAYERS else "base"


def imports() -> dict[str, set[str]]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qing"):
                targets.add(node.module)
                targets.update(f"{node.module}.{a.name}" for a in node.names)  # `from qing.model import run`
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith("qing"))
        found[name] = targets
    return {name: {t for t in targets if t in found and t != name} for name, targets in found.items()}


def test_imports_only_go_down_the_pipeline():
    wrong = [f"{name} imports {target}" for name, targets in imports().items() for target in targets
             if LAYERS.index(layer(target)) > LAYERS.index(layer(name))
             and not (layer(target) == "fixtures" and name == "qing.cli.demo")]  # the demo runs on the fixtures
    assert not wrong


def test_no_import_circle():
    graph = imports()
    for package in [name for name in graph if (PACKAGE.parent / name.replace(".", "/") / "__init__.py").is_file()]:
        for child in graph:  # a package re-exporting its modules is not a circle
            if child.startswith(package + "."):
                graph[child].discard(package)
    done, path = set(), []

    def visit(name):
        if name in path:
            raise AssertionError("import circle: " + " -> ".join(path[path.index(name):] + [name]))
        if name in done:
            return
        path.append(name)
        for target in sorted(graph[name]):
            visit(target)
        path.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


def test_no_module_is_much_over_600_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 680}
    assert not long
