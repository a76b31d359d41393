"""The project's import rules, read from the source with ``ast`` (function-local imports too).

- Dependencies point one way: ``workbench`` ← ``transcripts`` ← ``coding``. The workbench
  imports neither app, transcripts imports nothing of coding; where a lower app must reach a
  higher one it offers a registry that the higher one fills at start-up (``transcripts.spans``,
  ``workbench.dashboard``, ``workbench.demo``).
- Pure packages import no Django and nothing of the project but themselves.
- No module imports a private name (``from x import _name``) from another module of the project.
- No module outside migrations passes ~600 lines: split it by topic (ARCHITECTURE.md).
"""

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("workbench", "transcripts", "coding")
# What each app must not import: everything above it.
FORBIDDEN = {"workbench": {"transcripts", "coding"}, "transcripts": {"coding"}, "coding": set()}
PURE = (
    "transcripts.formats",
    "transcripts.rewriting",
    "coding.agreement",
    "coding.saturation",
    "coding.matrices",
)
DJANGO = ("django", "guardian")  # and every django_* package


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "transcripts.services.corrections"
    line: int
    target: str  # the module imported, or imported from, made absolute
    names: tuple[str, ...] = ()  # for ``from target import names``

    def __str__(self) -> str:
        what = f"from {self.target} import {', '.join(self.names)}" if self.names else self.target
        return f"{self.module}:{self.line}: {what}"


def _module_name(path: Path) -> tuple[str, bool]:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _imports_of(path: Path) -> list[Import]:
    module, is_package = _module_name(path)
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [Import(module, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:  # relative: from the package, then up one level per extra dot
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            names = tuple(alias.name for alias in node.names)
            found.append(Import(module, node.lineno, target, names))
    return found


def _all_imports() -> list[Import]:
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                found += _imports_of(path)
    return found


IMPORTS = _all_imports()


def _top(name: str) -> str:
    return name.partition(".")[0]


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _report(offenders: list[Import], rule: str) -> str:
    return f"{len(offenders)} import(s) {rule}:\n" + "\n".join(f"  {i}" for i in offenders)


def test_the_scan_sees_every_app_and_function_local_imports():
    """A guard on the guard: the scan reads all three apps, and imports inside functions."""
    assert {_top(i.module) for i in IMPORTS} == set(APPS)
    local = [
        i
        for i in _imports_of(ROOT / "coding" / "apps.py")
        if i.target == "transcripts.spans" or _within(i.target, "coding.services.spans")
    ]
    assert local, "coding/apps.py imports inside ready(): the scan must see those imports"


def test_dependencies_point_one_way():
    offenders = [i for i in IMPORTS if _top(i.target) in FORBIDDEN[_top(i.module)]]
    assert not offenders, _report(
        offenders, "against workbench ← transcripts ← coding (register in a registry instead)"
    )


def _is_django(name: str) -> bool:
    top = _top(name)
    return top in DJANGO or top.startswith("django_")


def test_pure_packages_import_no_django_and_nothing_else_of_the_project():
    for package in PURE:
        assert any(_within(i.module, package) for i in IMPORTS), f"{package} has gone"
    offenders = [
        i
        for package in PURE
        for i in IMPORTS
        if _within(i.module, package)
        and (_is_django(i.target) or (_top(i.target) in APPS and not _within(i.target, package)))
    ]
    assert not offenders, _report(offenders, "of Django or of the project in a pure package")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_module_imports_a_private_name_from_another():
    offenders = [
        i
        for i in IMPORTS
        if _top(i.target) in APPS and i.target != i.module and any(map(_private, i.names))
    ]
    assert not offenders, _report(offenders, "of a private name from another module")


MAX_LINES = 600


def test_no_module_is_too_long_to_read():
    sizes = {
        path.relative_to(ROOT): len(path.read_text(encoding="utf-8").splitlines())
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    }
    assert len(sizes) > 50  # the scan sees the apps
    too_long = {str(path): n for path, n in sorted(sizes.items()) if n > MAX_LINES}
    assert not too_long, f"split these by topic (ARCHITECTURE.md): {too_long}"
