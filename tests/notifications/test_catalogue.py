"""The catalogue of emails (maf.notifications.catalogue) lists every email the code can send.

The code is read, not run: every `enqueue(dedupe_key=...)` in maf/ is followed back to the
text its key starts with, through the variables, helper functions and wrapper parameters
(circulation's `_queue(meeting, person, key, ...)`) that carry it. A key whose prefix cannot be
read that way fails too, so a new email can be neither added silently nor hidden.
"""

import ast
import re
from pathlib import Path

import maf
from maf.notifications.catalogue import BY_KIND, BY_PREFIX, CATALOGUE

MAF = Path(maf.__file__).parent
PREFIX = re.compile(r"[a-z][a-z-]*:(?:[a-z][a-z-]*:)*")


class _Module:
    def __init__(self, name: str, source: str):
        self.name = name
        self.tree = ast.parse(source)
        self.parent: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node
        self.functions: dict[str, list[ast.FunctionDef]] = {}
        # What each imported name stands for: ("module", path) or ("name", (path, name)).
        self.imports: dict[str, tuple[str, object]] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.FunctionDef):
                self.functions.setdefault(node.name, []).append(node)
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    local = alias.asname or alias.name
                    self.imports[local] = ("name", (node.module, alias.name))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = ("module", alias.name)

    def enclosing_function(self, node: ast.AST) -> ast.FunctionDef | None:
        while node in self.parent:
            node = self.parent[node]
            if isinstance(node, ast.FunctionDef):
                return node
        return None

    def calls_to(self, defined_in: str, function: str):
        """The calls in this module of `function` defined in module `defined_in`."""
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call):
                continue
            callee = node.func
            if isinstance(callee, ast.Name):
                local = callee.id == function and self.name == defined_in
                imported = self.imports.get(callee.id) == ("name", (defined_in, function))
                if local or imported:
                    yield node
            elif isinstance(callee, ast.Attribute) and callee.attr == function:
                target = self.imports.get(getattr(callee.value, "id", None))
                stands_for = {("module", defined_in)}
                package, _, module = defined_in.rpartition(".")
                stands_for.add(("name", (package, module)))
                if target in stands_for:
                    yield node


class Scan:
    """Every dedupe-key prefix found, with where; and every key that could not be read."""

    def __init__(self, sources: dict[str, str]):
        self.modules = {name: _Module(name, source) for name, source in sources.items()}
        self.prefixes: dict[str, set[str]] = {}
        self.unreadable: list[str] = []
        for module in self.modules.values():
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Call) and _callee_name(node) == "enqueue":
                    key = next((k.value for k in node.keywords if k.arg == "dedupe_key"), None)
                    where = f"{module.name}:{node.lineno}"
                    if key is None:
                        self.unreadable.append(f"{where}: enqueue without dedupe_key=")
                    else:
                        self._resolve(module, key, where, depth=0)

    def _found(self, prefix: str, where: str) -> None:
        self.prefixes.setdefault(prefix, set()).add(where)

    def _resolve(self, module: _Module, expr: ast.expr, where: str, depth: int) -> None:
        if depth > 6:
            self.unreadable.append(f"{where}: key passed through too many hands")
            return
        if isinstance(expr, ast.JoinedStr):
            first = expr.values[0] if expr.values else None
            text = first.value if isinstance(first, ast.Constant) else ""
            if PREFIX.fullmatch(text):
                self._found(text, where)
            else:
                self.unreadable.append(f"{where}: key {text!r} has no written-out prefix")
        elif isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            text = expr.value[: expr.value.rfind(":") + 1]
            if PREFIX.fullmatch(text):
                self._found(text, where)
            else:
                self.unreadable.append(f"{where}: key {expr.value!r} has no prefix")
        elif isinstance(expr, ast.IfExp):
            self._resolve(module, expr.body, where, depth + 1)
            self._resolve(module, expr.orelse, where, depth + 1)
        elif isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            self._resolve(module, expr.left, where, depth + 1)
        elif isinstance(expr, ast.Name):
            self._resolve_name(module, expr, where, depth)
        elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
            returns = [
                node.value
                for function in module.functions.get(expr.func.id, [])
                for node in ast.walk(function)
                if isinstance(node, ast.Return) and node.value is not None
            ]
            if not returns:
                self.unreadable.append(f"{where}: key made by {expr.func.id}(), not found")
            for value in returns:
                self._resolve(module, value, where, depth + 1)
        else:
            self.unreadable.append(f"{where}: key made by {ast.dump(expr)[:60]}")

    def _resolve_name(self, module: _Module, name: ast.Name, where: str, depth: int) -> None:
        function = module.enclosing_function(name)
        if function is None:
            self.unreadable.append(f"{where}: key {name.id} outside a function")
            return
        assigned = [
            node.value
            for node in ast.walk(function)
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name.id for t in node.targets)
        ]
        for value in assigned:
            self._resolve(module, value, where, depth + 1)
        if assigned:
            return
        positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        keyword_only = [a.arg for a in function.args.kwonlyargs]
        if name.id not in positional + keyword_only:
            self.unreadable.append(f"{where}: key {name.id} neither assigned nor a parameter")
            return
        callers = [
            (caller, call)
            for caller in self.modules.values()
            for call in caller.calls_to(module.name, function.name)
        ]
        if not callers:
            self.unreadable.append(f"{where}: {function.name}() is never called")
        for caller, call in callers:
            here = f"{caller.name}:{call.lineno}"
            argument = next((k.value for k in call.keywords if k.arg == name.id), None)
            if argument is None and name.id in positional:
                index = positional.index(name.id)
                if index < len(call.args) and not isinstance(call.args[index], ast.Starred):
                    argument = call.args[index]
            if argument is None:
                self.unreadable.append(f"{here}: {function.name}() called without {name.id}")
            else:
                self._resolve(caller, argument, here, depth + 1)


def _callee_name(call: ast.Call) -> str:
    callee = call.func
    return callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")


def _maf_sources() -> dict[str, str]:
    sources = {}
    for path in sorted(MAF.rglob("*.py")):
        module = ".".join(path.relative_to(MAF.parent).with_suffix("").parts)
        if module != "maf.circulation.outbox":  # where enqueue is defined
            sources[module.removesuffix(".__init__")] = path.read_text(encoding="utf-8")
    return sources


def test_every_email_the_code_can_send_is_in_the_catalogue():
    scan = Scan(_maf_sources())
    assert scan.unreadable == []
    missing = {prefix: sorted(where) for prefix, where in scan.prefixes.items()}
    missing = {prefix: where for prefix, where in missing.items() if prefix not in BY_PREFIX}
    assert missing == {}, "add these emails to maf/notifications/catalogue.py"


def test_the_catalogue_lists_no_email_the_code_cannot_send():
    scan = Scan(_maf_sources())
    assert sorted(set(BY_PREFIX) - set(scan.prefixes)) == []


def test_the_scan_finds_the_emails_known_to_be_sent_through_each_kind_of_path():
    prefixes = Scan(_maf_sources()).prefixes
    # Written in the call; through circulation's _queue wrapper, directly and via a variable;
    # made by a helper function (progress); chosen by a condition (action reminders).
    for prefix in (
        "password-reset:",
        "reminder:members:",
        "agenda:",
        "progress:",
        "action-due:",
        "action-overdue:",
        "actions:",
    ):
        assert prefix in prefixes, prefix


def test_a_new_email_added_anywhere_without_a_catalogue_entry_is_caught():
    planted = {
        "maf.newsletters.services": (
            "from maf.circulation import outbox\n"
            "from maf.circulation.services import _queue\n"
            "def send(person, issue):\n"
            "    outbox.enqueue(dedupe_key=f'newsletter:{issue}:{person}', recipient_email='')\n"
            "def nudge(meeting, person):\n"
            "    _queue(meeting, person, f'nudge:{meeting.id}', 'Subject', 'template')\n"
            "def hidden(person, kind):\n"
            "    outbox.enqueue(dedupe_key=f'{kind}:{person}', recipient_email='')\n"
        )
    }
    scan = Scan({**_maf_sources(), **planted})
    assert {"newsletter:", "nudge:"} <= set(scan.prefixes) - set(BY_PREFIX)
    # A key whose prefix is chosen at run time cannot be checked: it is refused too.
    assert [line for line in scan.unreadable if line.startswith("maf.newsletters")] == [
        "maf.newsletters.services:8: key '' has no written-out prefix"
    ]


def test_each_entry_says_who_gets_it_and_what_it_contains_and_prefixes_are_not_shared():
    prefixes = [prefix for email in CATALOGUE for prefix in email.prefixes]
    assert len(prefixes) == len(set(prefixes))
    assert len(BY_KIND) == len(CATALOGUE)
    for email in CATALOGUE:
        assert email.name and email.recipients and email.contains, email.kind
        assert all(PREFIX.fullmatch(prefix) for prefix in email.prefixes), email.kind
