"""Project rules that keep the shape: core knows no platform; modules stay small."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_LIBRARIES = {"aiogram", "discord"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_nothing_under_core_imports_a_platform_library() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & PLATFORM_LIBRARIES)
        for path in (ROOT / "core").rglob("*.py")
        if imported_roots(path) & PLATFORM_LIBRARIES
    }
    assert offenders == {}


def test_importing_the_core_loads_no_platform_library() -> None:
    probe = ("import sys, core.app, core.commands.registry; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in {'aiogram','discord'}))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_modules_stay_under_400_lines() -> None:
    long_modules = {
        str(path.relative_to(ROOT)): len(path.read_text("utf-8").splitlines())
        for folder in ("core", "adapters", "bots")
        for path in (ROOT / folder).rglob("*.py")
        if len(path.read_text("utf-8").splitlines()) >= 400
    }
    assert long_modules == {}
