"""Project rules that keep the shape: core knows no platform; modules stay small."""

from __future__ import annotations

import ast
import importlib
import re
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


def public_core_api() -> dict[str, set[str]]:
    """The "Public core API" list of docs/ARCHITECTURE.md: module -> names ("*" = all)."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text("utf-8")
    section = text.split("## Public core API", 1)[1].split("\n## ", 1)[0]
    api: dict[str, set[str]] = {}
    for module, names in re.findall(r"^- (core[\w.]*): (.+)$", section, re.M):
        api[module] = {name.strip() for name in names.split(",")}
    return api


def core_imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every ``core`` import in a file, TYPE_CHECKING ones included
    (``name`` is "" for ``import core.x``)."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names
                      if alias.name.split(".")[0] == "core"]
        elif (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
              and node.module.split(".")[0] == "core"):
            found += [(node.module, alias.name) for alias in node.names]
    return found


def test_the_public_core_api_list_names_real_modules_and_names() -> None:
    api = public_core_api()
    assert {"core.app", "core.events", "core.parts", "core.config"} <= set(api)
    for module, names in api.items():
        loaded = importlib.import_module(module)
        assert not names - {"*"} - set(dir(loaded)), module


def test_adapters_and_bots_import_only_the_public_core_api() -> None:
    api = public_core_api()
    offenders = sorted(
        f"{path.relative_to(ROOT)}: {module}{'.' + name if name else ''}"
        for folder in ("adapters", "bots")
        for path in (ROOT / folder).rglob("*.py")
        for module, name in core_imports(path)
        if module not in api or (name and "*" not in api[module] and name not in api[module])
    )
    assert offenders == []


def test_the_checker_catches_an_internal_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from core.conversation.engine import ConversationEngine\n"
                      "import core.storage.store\nfrom core.app import ChatCore\n", "utf-8")
    api = public_core_api()
    bad = [(m, n) for m, n in core_imports(sample)
           if m not in api or (n and "*" not in api[m] and n not in api[m])]
    assert bad == [("core.conversation.engine", "ConversationEngine"),
                   ("core.storage.store", "")]


def module_imports(path: Path) -> set[str]:
    """Absolute project modules a file imports (any level, TYPE_CHECKING included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_no_import_cycles_between_adapter_modules() -> None:
    modules = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
        for folder in ("adapters", "bots") for path in (ROOT / folder).rglob("*.py")}
    graph = {name: {m for m in module_imports(path) if m in modules and m != name
                    and not name.startswith(m + ".")}  # a module imports its package
             for name, path in modules.items()}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        for nxt in graph[node]:
            if nxt in trail:
                cycles.append([*trail[trail.index(nxt):], nxt])
            elif nxt not in done:
                visit(nxt, [*trail, nxt])
        done.add(node)

    done: set[str] = set()
    for start in sorted(graph):
        if start not in done:
            visit(start, [start])
    assert cycles == []


def test_every_command_spec_has_one_handler_and_en_zh_texts() -> None:
    from core.commands.handlers import CommandHandlers
    from core.commands.registry import COMMANDS

    names = [spec.name for spec in COMMANDS]
    assert len(names) == len(set(names))
    built_in = {name.removeprefix("_cmd_") for name in dir(CommandHandlers)
                if name.startswith("_cmd_")}
    added = set(_added_handlers())
    assert not built_in & added, "a command has two handlers"
    assert set(names) == built_in | added
    for spec in COMMANDS:
        assert spec.description.get("en") and spec.description.get("zh"), spec.name
        for param in spec.params:
            assert param.description.get("en") and param.description.get("zh"), \
                (spec.name, param.name)


def _added_handlers() -> list[str]:
    """Names registered with ``CommandHandlers.add`` by a real ``ChatCore.__init__``."""
    import asyncio
    import tempfile

    from core.app import ChatCore
    from core.config import AppSettings
    from core.gateway import GatewayClient
    from core.models import ModelCatalog
    from core.storage import Store

    async def build() -> list[str]:
        with tempfile.TemporaryDirectory() as tmp:
            settings = AppSettings(_env_file=None, data_dir=tmp,  # type: ignore[call-arg]
                                   database_url=f"sqlite+aiosqlite:///{tmp}/a.db")
            store = await Store.open(settings.database_url)
            gateway = GatewayClient("http://127.0.0.1:9", "k")
            try:
                real = ChatCore(settings, store=store, gateway=gateway,
                                catalog=ModelCatalog.shipped())
                return list(real._handlers._extra)
            finally:
                await gateway.aclose()
                await store.close()

    return asyncio.run(build())
