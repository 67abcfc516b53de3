"""Which ivs-realtime operations a deployed function can reach, read from the source itself.

The IVS modules are parsed, not imported. From an entry point (an ``IvsProvider`` method an
endpoint file calls, or a module's Lambda ``handler``) the walk follows every method of the same
class it calls or references, the value any other attribute it uses got in ``__init__``, and
every module function it calls or references, across the
``livescreen.providers.ivs`` imports. A method called on an object the class built from one of these
modules (``self._live.get()``) is followed alone, with the constructor's parameters bound to the
arguments the class passed. Each ``<...client>.<operation>(`` whose operation is in botocore's
ivs-realtime model is an IAM action the function needs. ``CreateStage`` with ``tags`` also
needs ``ivs:TagResource`` (AWS's resource schema for AWS::IVS::Stage lists it for tags set at
creation); its ``participantTokenConfigurations`` need nothing more (AWS documents no
permission for them beyond CreateStage).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import botocore.session
from botocore import xform_name

PACKAGE = "livescreen.providers.ivs"
MODULES = (
    "provider",
    "client",
    "stages",
    "tokens",
    "stage_events",
    "reaper",
    "live_stage",
    "audience",
    "audience_runs",
)
PROVIDER_CLASS = "IvsProvider"

Node = tuple[str, str]  # (module, "function" or "Class.method")
#: constructor parameter -> (argument given, and the module and class it was given in)
Bindings = tuple[tuple[str, ast.expr, str, "str | None"], ...]
Work = tuple[ast.AST, str, "str | None", Bindings]


def operations_by_method_name() -> dict[str, str]:
    """``create_stage`` -> ``CreateStage`` for every ivs-realtime operation."""
    model = botocore.session.get_session().get_service_model("ivs-realtime")
    return {xform_name(name): name for name in model.operation_names}


def _is_client(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id.endswith("client")
    return isinstance(node, ast.Attribute) and node.attr.endswith("client")


@dataclass
class IvsCallGraph:
    package_dir: Path
    functions: dict[Node, ast.AST] = field(default_factory=dict)
    imports: dict[str, dict[str, Node]] = field(default_factory=dict)
    init_values: dict[tuple[str, str], dict[str, ast.expr]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.operations = operations_by_method_name()
        for module in MODULES:
            tree = ast.parse((self.package_dir / f"{module}.py").read_text(encoding="utf-8"))
            self.imports[module] = {}
            for node in tree.body:
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE):
                    source = (node.module or "").rsplit(".", 1)[-1]
                    for alias in node.names:
                        self.imports[module][alias.asname or alias.name] = (source, alias.name)
                elif isinstance(node, ast.FunctionDef):
                    self.functions[(module, node.name)] = node
                elif isinstance(node, ast.ClassDef):
                    self._add_class(module, node)

    def _add_class(self, module: str, cls: ast.ClassDef) -> None:
        values: dict[str, ast.expr] = {}
        for item in cls.body:
            if not isinstance(item, ast.FunctionDef):
                continue
            self.functions[(module, f"{cls.name}.{item.name}")] = item
            if item.name == "__init__":
                for statement in ast.walk(item):
                    if isinstance(statement, ast.Assign):
                        for target in statement.targets:
                            if (
                                isinstance(target, ast.Attribute)
                                and isinstance(target.value, ast.Name)
                                and target.value.id == "self"
                            ):
                                values[target.attr] = statement.value
        self.init_values[(module, cls.name)] = values

    def actions(self, *entries: Node) -> set[str]:
        """The ``ivs:`` actions reachable from ``entries``."""
        found: set[str] = set()
        seen: set[tuple[int, Bindings]] = set()
        pending: list[Work] = []
        for entry in entries:
            assert entry in self.functions, f"no such function or method: {entry}"
            pending.append(self._work(entry, ()))
        while pending:
            tree, module, cls, bindings = pending.pop()
            if (id(tree), bindings) in seen:
                continue
            seen.add((id(tree), bindings))
            pending += self._visit(tree, module, cls, bindings, found)
        return {f"ivs:{action}" for action in found}

    def _work(self, node: Node, bindings: Bindings) -> Work:
        module, name = node
        cls = name.split(".")[0] if "." in name else None
        return self.functions[node], module, cls, bindings

    def _visit(
        self, tree: ast.AST, module: str, cls: str | None, bindings: Bindings, found: set[str]
    ) -> list[Work]:
        nexts: list[Work] = []
        called_on_attr: set[int] = set()
        stack = [tree]
        while stack:
            node = stack.pop()
            stack.extend(ast.iter_child_nodes(node))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                operation = self.operations.get(node.func.attr)
                if operation and _is_client(node.func.value):
                    found.add(operation)
                    if operation == "CreateStage" and any(k.arg == "tags" for k in node.keywords):
                        found.add("TagResource")
                # self.<attr>.<method>(...) on an object the class built from one of ours: follow
                # only that method, its constructor's parameters bound to the arguments given
                target = node.func.value
                if cls and _is_self_attr(target):
                    assert isinstance(target, ast.Attribute)
                    built = self._built_object(module, cls, target.attr, bindings, node.func.attr)
                    if built is not None:
                        nexts.append(built)
                        called_on_attr.add(id(target))
            if cls and _is_self_attr(node) and id(node) not in called_on_attr:
                assert isinstance(node, ast.Attribute)
                method = (module, f"{cls}.{node.attr}")
                if method in self.functions:
                    nexts.append(self._work(method, bindings))
                value = self.init_values.get((module, cls), {}).get(node.attr)
                if value is not None:
                    nexts.append((value, module, cls, bindings))
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                bound = next((b for b in bindings if b[0] == node.id), None)
                if bound is not None:
                    _, expr, outer_module, outer_cls = bound
                    nexts.append((expr, outer_module, outer_cls, ()))
                elif (module, node.id) in self.functions:
                    nexts.append(self._work((module, node.id), ()))
                elif self.imports[module].get(node.id) in self.functions:
                    nexts.append(self._work(self.imports[module][node.id], ()))
        return nexts

    def _built_object(
        self, module: str, cls: str, attr: str, bindings: Bindings, method: str
    ) -> Work | None:
        value = self.init_values.get((module, cls), {}).get(attr)
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
            return None
        name = value.func.id
        home = (module, name) if (module, f"{name}.{method}") in self.functions else None
        home = home or self.imports[module].get(name)
        if home is None or (home[0], f"{home[1]}.{method}") not in self.functions:
            return None
        init = self.functions.get((home[0], f"{home[1]}.__init__"))
        params: list[str] = []
        if isinstance(init, ast.FunctionDef):
            params = [a.arg for a in init.args.args[1:] + init.args.kwonlyargs]
        given = dict(zip(params, value.args, strict=False))
        given.update({k.arg: k.value for k in value.keywords if k.arg})
        new_bindings = tuple((p, expr, module, cls) for p, expr in given.items())
        return self._work((home[0], f"{home[1]}.{method}"), new_bindings)


def _is_self_attr(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def provider_methods_called(function_file: Path) -> list[Node]:
    """The ``IvsProvider`` methods an endpoint file calls as ``provider.<method>(...)``."""
    tree = ast.parse(function_file.read_text(encoding="utf-8"))
    return [
        ("provider", f"{PROVIDER_CLASS}.{node.func.attr}")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "provider"
    ]
