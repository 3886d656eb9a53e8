"""The layout shows the architecture: imports inside bot/ point one way (DESIGN.md, "Layout").

tg and cli on top; reminders and watch over answers, the catalog and the store; answers over the catalog;
the catalog over the shared base. Every `bot.*` import anywhere in a module (also inside functions) counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"

BASE = {"backoff", "clock", "errors", "money", "i18n", "markets", "zones", "telegram_text"}

# What each part of bot/ may import besides itself. A part is a package under bot/ or a top-level module.
ALLOWED: dict[str, set[str]] = {
    "base": {"base"},
    "catalog": {"base"},
    "answers": {"base", "catalog"},
    "store": {"base", "catalog"},
    "config": {"base", "catalog"},
    "skus": {"base", "catalog", "answers", "store"},  # a seller's SKUs and the impact of fee changes
    "reminders": {"base", "catalog", "answers", "store", "skus"},
    "watch": {"base", "catalog", "answers", "store"},
    "feed": {"base", "catalog", "store"},  # the signed catalog feed (issue #19)
    "monitoring": {"base", "catalog", "store", "config", "feed"},
    "channels": {
        "base",
        "catalog",
        "answers",
        "store",
        "config",
        "reminders",
    },  # destinations beside Telegram
    "retention": {"base", "catalog", "store", "config", "reminders", "watch", "skus"},  # the daily prune
    "tg": {
        "base",
        "catalog",
        "answers",
        "store",
        "config",
        "reminders",
        "watch",
        "skus",
        "monitoring",
        "channels",
        "feed",
        "retention",
    },
    "terminal": {"base"},
    "cli": {
        "base",
        "catalog",
        "answers",
        "store",
        "config",
        "reminders",
        "watch",
        "tg",
        "skus",
        "monitoring",
        "retention",
        "terminal",
        "channels",
        "feed",
    },
    "__main__": {"cli"},
    "__init__": set(),
}


def part_of(dotted: str) -> str:
    """The part a module belongs to: 'bot.answers.core' -> 'answers', 'bot.money' -> 'base'."""
    name = dotted.split(".")[1] if "." in dotted else "__init__"
    return "base" if name in BASE else name


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 2:
        parts.pop()
    return ".".join(parts)


def bot_imports(path: Path, root: Path) -> list[tuple[int, str]]:
    """Every `bot...` module a file imports, with its line (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "bot"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != "bot":
                continue
            if target == "bot":  # `from bot import answers` names a part
                found += [(node.lineno, f"bot.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, target))
    return found


def violations(root: Path = BOT) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        where = path.relative_to(root.parent)
        mine = part_of(module_name(path, root))
        allowed = ALLOWED.get(mine)
        if allowed is None:
            problems.append(f"{where}: '{mine}' is not a known part; add it to ALLOWED")
            continue
        for line, target in bot_imports(path, root):
            theirs = part_of(target)
            if theirs != mine and theirs not in allowed:
                problems.append(f"{where}:{line}: {mine} must not import {target}")
    return problems


def test_imports_point_one_way() -> None:
    assert violations() == []


def test_every_part_is_known() -> None:
    packages = {p.parent.name for p in BOT.glob("*/__init__.py")}
    assert packages <= set(ALLOWED), packages - set(ALLOWED)


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    """A catalog module that imports the store, or answers that import tg, is reported."""
    fake = tmp_path / "bot"
    (fake / "catalog").mkdir(parents=True)
    (fake / "answers").mkdir()
    (fake / "catalog" / "__init__.py").write_text("")
    (fake / "answers" / "__init__.py").write_text("")
    (fake / "catalog" / "load.py").write_text("from bot.store import Store\n")
    (fake / "answers" / "core.py").write_text("def f():\n    from ..tg import app\n")
    (fake / "money.py").write_text("from bot.answers.core import f\n")
    assert violations(fake) == [
        "bot/answers/core.py:2: answers must not import bot.tg",
        "bot/catalog/load.py:1: catalog must not import bot.store",
        "bot/money.py:1: base must not import bot.answers.core",
    ]


def test_few_modules_sit_directly_under_bot() -> None:
    """Capabilities live in packages; only the faces, configuration, store and shared base sit at the top."""
    top = sorted(p.name for p in BOT.glob("*.py"))
    assert len(top) <= 14, top


def _type_checking_lines(tree: ast.Module) -> set[int]:
    """Lines under `if TYPE_CHECKING:`: those imports never run, so they make no cycle."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def import_graph(root: Path = BOT) -> dict[str, set[str]]:
    """Module -> the bot modules it imports (anywhere in it, TYPE_CHECKING blocks aside)."""
    modules = {module_name(path, root): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        skip = _type_checking_lines(ast.parse(path.read_text(encoding="utf-8")))
        targets = set()
        for line, target in bot_imports(path, root):
            # `from bot.catalog import schema` names a module; `from bot.catalog.schema import Rule`, a name.
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if line not in skip and target in modules and target != name:
                targets.add(target)
        graph[name] = targets
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def test_no_import_cycles() -> None:
    assert import_cycles(import_graph()) == []


def test_the_cycle_check_finds_a_cycle(tmp_path: Path) -> None:
    fake = tmp_path / "bot"
    (fake / "catalog").mkdir(parents=True)
    (fake / "catalog" / "__init__.py").write_text("")
    (fake / "catalog" / "schema.py").write_text("from bot.catalog.fba_schema import Card\n")
    (fake / "catalog" / "fba_schema.py").write_text("from bot.catalog.schema import Strict\n")
    (fake / "catalog" / "fields.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.catalog.schema import Rule\n"
    )
    assert import_cycles(import_graph(fake)) == [["bot.catalog.fba_schema", "bot.catalog.schema"]]


def test_tests_are_grouped_by_package() -> None:
    """Each test sits in the folder of the part of bot/ it tests; only project-wide checks sit at the top."""
    tests = BOT.parent / "tests"
    parts = {p.parent.name for p in BOT.glob("*/__init__.py")} | {"store", "cli", "base"}
    top = sorted(p.name for p in tests.glob("test_*.py"))
    assert top == ["test_layout.py", "test_quality.py"]
    # The folders have no __init__.py: pytest imports each test module by its file name alone.
    names = [path.name for path in tests.rglob("*.py") if path.name != "__init__.py"]
    assert sorted({name for name in names if names.count(name) > 1}) == []
    for path in tests.rglob("test_*.py"):
        folder = path.relative_to(tests).parts[0]
        if path.parent != tests and folder != "fake_telegram":
            assert folder in parts, f"{path.relative_to(tests)}: '{folder}' is no part of bot/"


# Telegram stays in the adapter (DESIGN.md, decision 5): the rest of the bot sends through the `Sender`
# protocol (bot/reminders/sender.py); cli.py wires the adapter.
TELEGRAM_ALLOWED = ("bot/tg/", "bot/cli.py")


def telegram_imports(root: Path = BOT) -> list[str]:
    """Every `import telegram...` / `from telegram... import` outside bot/tg/ and bot/cli.py."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        where = path.relative_to(root.parent).as_posix()
        if where.startswith(TELEGRAM_ALLOWED):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            problems += [
                f"{where}:{node.lineno}: imports {n}" for n in names if n.split(".")[0] == "telegram"
            ]
    return problems


def test_only_tg_and_cli_import_telegram() -> None:
    assert telegram_imports() == []


def test_the_telegram_check_catches_an_import(tmp_path: Path) -> None:
    """A reminders module importing telegram in any form is reported; tg and cli may, telegram_text is
    only a name that starts alike."""
    fake = tmp_path / "bot"
    (fake / "reminders").mkdir(parents=True)
    (fake / "tg").mkdir()
    (fake / "reminders" / "dispatcher.py").write_text("from telegram.error import RetryAfter\n")
    (fake / "reminders" / "text.py").write_text("def f():\n    import telegram\n")
    (fake / "reminders" / "plain.py").write_text(
        "from bot.telegram_text import split_html\nimport telegramx\n"
    )
    (fake / "tg" / "sender.py").write_text("from telegram import Bot\n")
    (fake / "cli.py").write_text("import telegram.ext\n")
    assert telegram_imports(fake) == [
        "bot/reminders/dispatcher.py:1: imports telegram.error",
        "bot/reminders/text.py:2: imports telegram",
    ]


def package_exports(root: Path = BOT) -> dict[str, set[str]]:
    """Each package's `__all__` (the names it lets other parts use), read from its __init__.py."""
    exports: dict[str, set[str]] = {}
    for init in root.glob("*/__init__.py"):
        names: set[str] = set()
        for node in ast.parse(init.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
            ):
                names = {ast.literal_eval(item) for item in node.value.elts}  # type: ignore[attr-defined]
        exports[init.parent.name] = names
    return exports


def private_imports(root: Path = BOT) -> list[str]:
    """Imports of another package's names that go past its `__init__`, or that it does not list."""
    exports = package_exports(root)
    problems = []
    for path in sorted(root.rglob("*.py")):
        where = path.relative_to(root.parent)
        mine = part_of(module_name(path, root))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            bits = node.module.split(".")
            if bits[0] != "bot" or len(bits) < 2 or bits[1] not in exports or bits[1] == mine:
                continue
            package = bits[1]
            if len(bits) > 2:
                problems.append(f"{where}:{node.lineno}: imports {node.module}, inside {package}")
                continue
            for alias in node.names:
                if alias.name not in exports[package]:
                    problems.append(f"{where}:{node.lineno}: {alias.name} is not in bot.{package}.__all__")
    return problems


def test_packages_are_used_through_their_public_names() -> None:
    assert private_imports() == []


def test_every_package_says_what_it_is_for_and_lists_its_names() -> None:
    for init in BOT.glob("*/__init__.py"):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{init.parent.name}: no docstring"
        assert any(
            isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__all__"
            for node in tree.body
        ), f"{init.parent.name}: no __all__"


def test_the_public_names_check_catches_a_private_import(tmp_path: Path) -> None:
    fake = tmp_path / "bot"
    (fake / "catalog").mkdir(parents=True)
    (fake / "answers").mkdir()
    (fake / "catalog" / "__init__.py").write_text('"""The catalog."""\n__all__ = ["Catalog"]\n')
    (fake / "answers" / "__init__.py").write_text('"""Answers."""\n__all__ = []\n')
    (fake / "answers" / "core.py").write_text(
        "from bot.catalog import Catalog, Rule\nfrom bot.catalog.load import load_catalog\n"
    )
    assert private_imports(fake) == [
        "bot/answers/core.py:1: Rule is not in bot.catalog.__all__",
        "bot/answers/core.py:2: imports bot.catalog.load, inside catalog",
    ]
