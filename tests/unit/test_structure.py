"""The shape a newcomer relies on, checked from the source: small modules, pure policy that
imports no SQL, SQL only under store/, OS differences read in one place, no import cycles."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agent", "store")
MAX_LINES = 350

LAYERS = ("policy", "system", "notifiers", "engine", "web", "tray", "cli")
"""The agent's folders, lowest first: a module imports only from its own folder and those
before it (`agent/__init__.py`, the name and version, from anywhere)."""
PURE_POLICY = {p.relative_to(ROOT).as_posix() for p in (ROOT / "agent" / "policy").glob("*.py")} - {
    "agent/policy/__init__.py"
}
"""Everything in agent/policy: plain functions over plain values, no clock reads, no I/O,
no SQL."""
PURE_STORE = {
    "traycourier.store.model",
    "traycourier.store.rows",
    "traycourier.store.timestamps",
    "traycourier.store.actions",
    "traycourier.store.choices",
}
"""The only store modules pure policy may import: the vocabulary, the user's choices, the
timestamp format, and what `actions_json` holds."""
PLATFORM_MODULE = "agent/system/ostype.py"
SQL_MARKERS = ("sqlalchemy", "sqlite3")


def sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def agent_sources() -> list[Path]:
    return [p for p in sources() if p.relative_to(ROOT).parts[0] == "agent"]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, with `from X import y` counted as X and X.y."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(("traycourier", *parts))


def layer_of(module: str) -> int | None:
    """The index in LAYERS of an agent module's folder; None outside them."""
    parts = module.split(".")
    if len(parts) > 2 and parts[:2] == ["traycourier", "agent"] and parts[2] in LAYERS:
        return LAYERS.index(parts[2])
    return None


@pytest.mark.parametrize("path", agent_sources(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_agent_imports_only_its_own_layer_and_those_below(path: Path) -> None:
    """Every top-level and late import: no folder reaches one above it."""
    own = layer_of(module_name(path))
    if own is None:
        return  # agent/__init__.py and __main__.py
    above = sorted(
        m for m in imported_modules(path) if (layer := layer_of(m)) is not None and layer > own
    )
    assert above == [], f"{rel(path)} ({LAYERS[own]}) imports from above: {above}"


def test_every_agent_module_is_in_a_layer() -> None:
    loose = [rel(p) for p in agent_sources() if len(p.relative_to(ROOT).parts) == 2]
    assert sorted(loose) == ["agent/__init__.py", "agent/__main__.py"]


@pytest.mark.parametrize("path", sources(), ids=rel)
def test_no_module_is_too_long_to_read_in_one_sitting(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{rel(path)} has {lines} lines; split it by what it holds"


def store_imports(path: Path) -> set[str]:
    """The store modules a file imports (`from traycourier.store import x` counts as x)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "traycourier.store":
            found.update(f"traycourier.store.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "traycourier.store."
        ):
            found.add(str(node.module))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("traycourier.store"))
    return found


def where_things_live() -> list[tuple[str, set[str]]]:
    """docs/decisions.md "Where things live": each row's step and the modules it names (a
    name without a folder is in the folder of the row's first module)."""
    text = (ROOT / "docs" / "decisions.md").read_text(encoding="utf-8")
    section = text.split("## Where things live", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) != 3 or "`" not in cells[1]:
            continue
        names = re.findall(r"`([\w/]+\.py)`", cells[1])
        folder = names[0].rsplit("/", 1)[0]
        rows.append((cells[0], {n if "/" in n else f"{folder}/{n}" for n in names}))
    return rows


def test_where_things_live_names_every_module_once() -> None:
    named = [m for _, modules in where_things_live() for m in modules]
    on_disk = {rel(p) for p in sources() if p.name != "__init__.py"}
    assert sorted(set(named) - on_disk) == [], "named in docs/decisions.md but not in the tree"
    assert sorted(on_disk - set(named)) == [], "in the tree but not in docs/decisions.md"
    assert len(named) == len(set(named)), "a module named twice"


def test_the_documented_policy_is_the_checked_policy() -> None:
    policy = next(mods for step, mods in where_things_live() if step.startswith("agent/policy"))
    assert policy == PURE_POLICY


@pytest.mark.parametrize("name", sorted(PURE_POLICY))
def test_pure_policy_imports_types_never_sql(name: str) -> None:
    path = ROOT / name
    assert store_imports(path) <= PURE_STORE, f"{name} imports {store_imports(path)}"
    imports = imported_modules(path)
    assert not [m for m in imports if m.split(".")[0] in SQL_MARKERS], name
    assert not {"time", "subprocess", "os", "socket"} & imports, f"{name} does I/O or reads time"


@pytest.mark.parametrize("name", ["model.py", "choices.py"])
def test_the_vocabulary_modules_run_no_sql(name: str) -> None:
    imports = imported_modules(ROOT / "store" / name)
    assert not [m for m in imports if m.split(".")[0] in SQL_MARKERS]
    assert imports & {"traycourier.store.db", "traycourier.store.schema"} == set()


@pytest.mark.parametrize("path", agent_sources(), ids=rel)
def test_sql_lives_in_store_only(path: Path) -> None:
    imports = imported_modules(path)
    assert not [m for m in imports if m.split(".")[0] in SQL_MARKERS], rel(path)
    text = path.read_text(encoding="utf-8")
    for keyword in ("SELECT ", "UPDATE notification", "INSERT INTO"):
        assert keyword not in text, f"{rel(path)} holds SQL ({keyword.strip()})"


def test_store_never_imports_the_agent() -> None:
    for path in sources():
        if path.relative_to(ROOT).parts[0] == "store":
            assert not [m for m in imported_modules(path) if m.startswith("traycourier.agent")]


BACKENDS = ("sqlitefile", "sqlitedb", "sqlitewake", "pg", "pgdb", "pgwake", "wake")


@pytest.mark.parametrize("path", agent_sources(), ids=rel)
def test_the_agent_names_no_backend(path: Path) -> None:
    """The agent talks to `Database` and `Wakeable` only: which backend serves them is the
    store's business (`Database.open`, `db.listen()`)."""
    named = {m for m in store_imports(path) if m.rsplit(".", 1)[-1] in BACKENDS}
    assert named == set(), f"{rel(path)} imports {named}"


@pytest.mark.parametrize("path", sources(), ids=rel)
def test_the_os_is_read_in_one_place(path: Path) -> None:
    if rel(path) == PLATFORM_MODULE:
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) not in {("sys", "platform"), ("os", "name")}, (
                f"{rel(path)}:{node.lineno} reads the OS; ask agent.ostype.current() instead"
            )
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "system":
            assert getattr(node.func.value, "id", "") != "platform", rel(path)


def test_no_import_cycles_between_modules() -> None:
    """Top-level imports only (a function-level import is a deliberate late load)."""
    graph: dict[str, set[str]] = {}
    known = {module_name(p) for p in sources()}
    for path in sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        deps: set[str] = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                deps.add(node.module)
                deps.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[module_name(path)] = {d for d in deps if d in known} - {module_name(path)}

    def visit(node: str, trail: tuple[str, ...]) -> None:
        assert node not in trail, " -> ".join((*trail, node))
        for dep in graph.get(node, ()):
            visit(dep, (*trail, node))

    for start in graph:
        visit(start, ())


def test_make_run_installs_what_running_needs_and_make_test_the_rest() -> None:
    """A user who only runs the agent gets no packaging toolchain and no test desktops."""

    def listed(what: str) -> set[str]:
        done = subprocess.run(
            ["bash", "scripts/setup.sh", what, "--list"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return set(done.stdout.split())

    run, test = listed("run"), listed("test")
    assert {"gir1.2-gtk-3.0", "libnotify-bin"} <= run
    assert "gir1.2-ayatanaappindicator3-0.1" in test - run  # StatusNotifier: the agent's item
    # pip compiles dbus-python and PyGObject on a fresh Debian: the compiler and the headers
    assert {"build-essential", "python3-dev", "libdbus-1-dev", "libgirepository1.0-dev"} <= run
    toolchain = {"lintian", "debootstrap", "imagemagick", "xvfb", "dunst", "trayer", "sway"}
    assert not run & toolchain
    assert run | toolchain <= test
    makefile = (ROOT / "Makefile").read_text()
    assert "run: setup-run\n" in makefile and "scripts/setup.sh run\n" in makefile


def test_a_producer_loads_no_file_watcher_and_no_agent() -> None:
    """`import traycourier.store` and one `enqueue` are all a Python producer does: the
    waker's file watcher and its threads come only when an agent listens, SQLAlchemy's
    PostgreSQL dialect only when a server is used."""
    code = (
        "import sys, tempfile, pathlib; from traycourier.store import Database, enqueue; "
        "db = Database.open(pathlib.Path(tempfile.mkdtemp()) / 'p.db'); enqueue(db, 'hi'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'watchdog' "
        "or m.startswith(('traycourier.agent', 'sqlalchemy.dialects.postgresql'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"


def test_an_agent_loads_no_history_window_until_it_is_wanted() -> None:
    """The agent's own modules (the command, the headless loop, the tray) load none of the
    window, its server or Python's HTTP server: an agent whose window is never opened pays
    nothing for it (`agent/web/demand.py`)."""
    code = (
        "import sys; import traycourier.agent.cli.main, traycourier.agent.cli.process, "
        "traycourier.agent.tray.app; "
        "print(sorted(m for m in sys.modules if m.startswith(('traycourier.agent.web.', "
        "'http.server', 'http.cookies')) and m != 'traycourier.agent.web.demand'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"
