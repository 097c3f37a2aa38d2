"""Every error a person reads is marked for translation where it is raised.

Read from the source with ``ast``: every ``raise X(...)`` where ``X`` is a ``DomainError`` (or
one of click's usage errors) gives as its message a ``_(...)`` call, ``_(...).format(...)``,
``ngettext(...)`` or a choice between such calls; so do the CLI's own ``_fail(...)`` and
``self.fail(...)``. What cannot be written that way is in ``ALLOWED``, each with its reason.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import click
import pytest

from mma_core import DomainError
from mma_core.domain import errors

SRC = Path(__file__).resolve().parents[2] / "src" / "mma_core"
FILES = sorted(
    [
        *(SRC / "domain").glob("*.py"),
        *(SRC / "application").glob("*.py"),
        SRC / "paperwork" / "imports.py",
        SRC / "paperwork" / "tables.py",
        SRC / "storage" / "registries.py",
        SRC / "paperwork" / "letters" / "composer.py",
        *(p for p in (SRC / "cli").glob("*.py") if p.name != "__main__.py"),
    ]
)
MARKERS = {"_", "_t", "ngettext"}

# (file, exception or function, first argument as written): not a message to translate.
ALLOWED = {
    # ImportRejected builds its message from the row errors itself, with ngettext.
    ("imports.py", "ImportRejected", "errors"),
    # _CellError's first argument is the column; its message is the translated error it wraps.
    ("imports.py", "_CellError", "'session'"),
    # The CLI prints a DomainError's message, translated where it was raised.
    ("root.py", "_fail", "str(error)"),
    ("letters.py", "_fail", "str(error)"),
    ("plugin_commands.py", "_fail", "str(error)"),
    # mma audit prints what the verifiers found in their own words (the same table of problem
    # descriptions serves the library and the standalone tools), and a file's OS error.
    ("audit.py", "_fail", "str(error)"),
    ("audit.py", "_fail", "f'{path}: {error}'"),
    ("audit.py", "UsageError", "str(error)"),
    # The same for a copy that does not verify (CopyNotVerified, translated where raised).
    ("store.py", "_fail", "str(error)"),
}


def marked(node: ast.expr) -> bool:
    """``_("...")``, ``_("...").format(...)``, ``ngettext(...)``, or ``a if c else b`` of those."""
    if isinstance(node, ast.IfExp):
        return marked(node.body) and marked(node.orelse)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id in MARKERS
        if isinstance(func, ast.Attribute) and func.attr == "format":
            return marked(func.value)
    return False


def module_of(path: Path) -> object:
    name = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
    return importlib.import_module(name)


def is_error(module: object, func: ast.expr) -> str | None:
    """The name of the exception class ``func`` resolves to, if it is one a person reads."""
    if isinstance(func, ast.Call) and isinstance(func.func, ast.Name) and func.func.id == "type":
        return "type(error)"  # re-raises a DomainError with more said: still a message
    if isinstance(func, ast.Name):
        # A name imported inside a function is not on the module: look it up where errors live.
        found = getattr(module, func.id, None) or getattr(errors, func.id, None)
        name = func.id
    elif isinstance(func, ast.Attribute):
        owner = getattr(module, func.value.id, None) if isinstance(func.value, ast.Name) else None
        found = getattr(owner, func.attr, None)
        name = func.attr
    else:
        return None
    if inspect.isclass(found) and issubclass(found, DomainError | click.ClickException):
        return name
    return None


def messages(path: Path) -> list[tuple[str, int, ast.expr | None]]:
    """(raised class or failing function, line, first argument) of every error raised."""
    module = module_of(path)
    found: list[tuple[str, int, ast.expr | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            name = is_error(module, node.exc.func)
            if name is not None:
                found.append((name, node.lineno, node.exc.args[0] if node.exc.args else None))
        elif isinstance(node, ast.Call):
            func = node.func
            failing = (isinstance(func, ast.Name) and func.id == "_fail") or (
                isinstance(func, ast.Attribute)
                and func.attr == "fail"
                and isinstance(func.value, ast.Name)
                and func.value.id == "self"
            )
            if failing and node.args:
                found.append(
                    ("_fail" if isinstance(func, ast.Name) else "fail", node.lineno, node.args[0])
                )
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_every_error_message_is_marked_for_translation(path: Path) -> None:
    unmarked = [
        f"{path.name}:{line}: {name}({ast.unparse(arg) if arg else ''})"
        for name, line, arg in messages(path)
        if arg is None or not (marked(arg) or (path.name, name, ast.unparse(arg)) in ALLOWED)
    ]
    assert unmarked == [], "mark with _(...) and translate: " + "; ".join(unmarked)


def test_the_check_sees_the_errors() -> None:
    """The scan finds the raises it is about (a broken scan would pass every file)."""
    everything = [m for path in FILES for m in messages(path)]
    names = {name for name, _, _ in everything}
    assert len(everything) > 130
    assert {"InvalidInput", "InvalidTransition", "InvalidDate", "UnknownMunicipality"} <= names
    assert {"RuleViolation", "CapacityExceeded", "DuplicateReport", "UsageError"} <= names
    assert {"_fail", "fail"} <= names


def test_the_allow_list_is_still_needed() -> None:
    used = {
        (path.name, name, ast.unparse(arg))
        for path in FILES
        for name, _, arg in messages(path)
        if arg is not None and not marked(arg)
    }
    assert used >= ALLOWED, sorted(ALLOWED - used)
