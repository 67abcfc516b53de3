"""Checks every DynamoDB call a client makes against what AWS itself would accept.

moto answers most malformed calls as if they were fine, so a botocore hook
(``before-parameter-build``, run before the request is built) checks each call's parameters:

- against the client's own service model (``botocore.validate.validate_parameters``: the
  shapes, types, required members and length limits AWS's SDK model declares);
- DynamoDB's expression rules: every ``#name`` and ``:value`` an expression uses is defined,
  every one defined is used (DynamoDB refuses unused ones), and no attribute is named bare
  (a bare name can be a reserved word: ``current``, ``title``, ``size``...);
- the batch limits: 100 actions in a transaction, 25 writes and 100 keys in a batch.

A call that breaks a rule raises ``AssertionError`` from inside the call.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.validate import validate_parameters

from livescreen.store import PARTITION_KEY, SORT_KEY

_EXPRESSION_WORDS = frozenset(
    {
        "AND",
        "OR",
        "NOT",
        "SET",
        "ADD",
        "REMOVE",
        "DELETE",
        "BETWEEN",
        "IN",
        "attribute_exists",
        "attribute_not_exists",
        "attribute_type",
        "begins_with",
        "contains",
        "size",
        "if_not_exists",
        "list_append",
    }
)
_TOKEN = re.compile(r"[#:]?[A-Za-z_][A-Za-z0-9_]*")
_LIMITS = {"TransactItems": 100}


def _expressions(request: dict[str, Any]) -> list[str]:
    return [value for key, value in request.items() if key.endswith("Expression")]


def check_expressions(request: dict[str, Any]) -> None:
    """DynamoDB's rules for the expressions of one request (or one transaction action)."""
    expressions = _expressions(request)
    tokens = [token for expression in expressions for token in _TOKEN.findall(expression)]
    names = {token for token in tokens if token.startswith("#")}
    values = {token for token in tokens if token.startswith(":")}
    bare = {t for t in tokens if t[0] not in "#:" and t not in _EXPRESSION_WORDS}
    assert not bare, f"attribute names used bare (may be reserved words): {sorted(bare)}"
    defined_names = set(request.get("ExpressionAttributeNames", {}))
    defined_values = set(request.get("ExpressionAttributeValues", {}))
    assert names == defined_names, f"names used {sorted(names)}, defined {sorted(defined_names)}"
    assert values == defined_values, (
        f"values used {sorted(values)}, defined {sorted(defined_values)}"
    )


def _item_key(request: dict[str, Any]) -> str:
    item = request.get("Key") or request["Item"]
    return repr([item[PARTITION_KEY], item[SORT_KEY]])


def check_call(params: dict[str, Any], model: Any, **_: Any) -> None:
    """The ``before-parameter-build`` hook: raise ``AssertionError`` for a call AWS refuses."""
    report = validate_parameters(params, model.input_shape)
    assert report is None, f"{model.name}: {report}"
    check_expressions(params)
    actions = params.get("TransactItems", [])
    assert len(actions) <= _LIMITS["TransactItems"], f"{len(actions)} actions in a transaction"
    for action in actions:
        (request,) = action.values()
        check_expressions(request)
    for writes in params.get("RequestItems", {}).values():
        if isinstance(writes, list):
            assert len(writes) <= 25, f"{len(writes)} writes in one BatchWriteItem"
        else:
            assert len(writes["Keys"]) <= 100, f"{len(writes['Keys'])} keys in one BatchGetItem"
    keys = [_item_key(next(iter(action.values()))) for action in actions]
    assert len(keys) == len(set(keys)), "a transaction acts twice on one item"


def check_every_call(client: Any) -> Any:
    """Install ``check_call`` on ``client`` (a botocore ``dynamodb`` client); returns it."""
    client.meta.events.register("before-parameter-build.dynamodb", check_call)
    return client
