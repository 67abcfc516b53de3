"""The few DynamoDB calls the stream store makes, each shaped once.

Expressions name every attribute as ``#name`` (the table's names need not dodge DynamoDB's
reserved words: ``current``, ``title``...); the ``ExpressionAttributeNames`` are derived from
the expressions. A write whose condition fails answers False; any other failure is raised.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from livescreen.store import StoreUnavailableError
from livescreen.store.dynamodb_items import Item

#: Seconds to connect and to wait for an answer (twice, with the one retry).
TIMEOUT = 2

#: Keys in one BatchGetItem, and deletes in one BatchWriteItem (DynamoDB's own limits).
GET_BATCH = 100
DELETE_BATCH = 25
#: Rounds of a batch call resending what DynamoDB left unprocessed (throttling).
BATCH_ROUNDS = 5
#: Attempts of a transaction that conflicts with another one on the same items.
TRANSACT_ATTEMPTS = 3
_NAME = re.compile(r"#(\w+)")
_CONDITION_FAILED = "ConditionalCheckFailedException"
_CONFLICT_OR_CONDITION = frozenset({"TransactionConflict", "ConditionalCheckFailed"})


P = ParamSpec("P")
R = TypeVar("R")


def make_client(timeout: float = TIMEOUT, attempts: int = 2) -> Any:
    """A ``dynamodb`` client for the environment's region, with short timeouts (``timeout``
    seconds to connect and to wait for an answer) and ``attempts`` tries of a call, the first
    included (botocore's ``max_attempts`` would count the retries only)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"mode": "standard", "total_max_attempts": attempts},
    )
    return boto3.client("dynamodb", config=config)


def unavailable(method: Callable[P, R]) -> Callable[P, R]:
    """Turn a DynamoDB failure into ``StoreUnavailableError`` naming the table and the cause
    (a method of an object whose ``table`` names the table)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        table = getattr(args[0], "table", "")
        try:
            return method(*args, **kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            reason = f"{error.get('Code', '')} {error.get('Message', '')}".strip()
            raise StoreUnavailableError(
                f"The stream table {table} refused {exc.operation_name}: {reason}"
            ) from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(
                f"The stream table {table} could not be reached: {exc}"
            ) from exc

    return wrapper


def _names(*expressions: str | None) -> dict[str, Any]:
    names = {f"#{m}": m for e in expressions if e for m in _NAME.findall(e)}
    return {"ExpressionAttributeNames": names} if names else {}


def _values(values: dict[str, Any] | None) -> dict[str, Any]:
    return {"ExpressionAttributeValues": values} if values else {}


def _cancellation(exc: ClientError) -> set[str]:
    """The codes a cancelled transaction gives for its writes ("None": that write was fine)."""
    reasons = exc.response.get("CancellationReasons") or []
    return {str(reason.get("Code") or "None") for reason in reasons}


class Table:
    """One DynamoDB table, reached through a botocore ``dynamodb`` client."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def get(self, key: Item) -> Item | None:
        answer = self.client.get_item(TableName=self.name, Key=key, ConsistentRead=True)
        item: Item | None = answer.get("Item")
        return item

    def batch_get(self, keys: list[Item]) -> list[Item]:
        """The items at ``keys`` that exist, in no particular order."""
        found: list[Item] = []
        for start in range(0, len(keys), GET_BATCH):
            request: dict[str, Any] = {
                self.name: {"Keys": keys[start : start + GET_BATCH], "ConsistentRead": True}
            }
            for round_ in range(BATCH_ROUNDS):
                answer = self.client.batch_get_item(RequestItems=request)
                found.extend(answer.get("Responses", {}).get(self.name, []))
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(0.05 * 2**round_)
        return found

    def query(
        self,
        key_condition: str,
        values: dict[str, Any],
        *,
        filter_expression: str | None = None,
        newest_first: bool = False,
    ) -> Iterator[Item]:
        """Every item the query matches, page after page."""
        params: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_condition,
            "ConsistentRead": True,
            "ScanIndexForward": not newest_first,
            **_names(key_condition, filter_expression),
            **_values(values),
        }
        if filter_expression:
            params["FilterExpression"] = filter_expression
        while True:
            answer = self.client.query(**params)
            yield from answer.get("Items", [])
            last = answer.get("LastEvaluatedKey")
            if not last:
                return
            params["ExclusiveStartKey"] = last

    def put_if(self, item: Item, condition: str, values: dict[str, Any] | None = None) -> bool:
        return self._conditional(self.client.put_item, Item=item, **put(condition, values))

    def update_if(
        self, key: Item, update: str, condition: str, values: dict[str, Any] | None = None
    ) -> bool:
        return self._conditional(
            self.client.update_item, Key=key, **self._update(update, condition, values)
        )

    def delete_if(self, key: Item, condition: str, values: dict[str, Any] | None = None) -> bool:
        return self._conditional(self.client.delete_item, Key=key, **put(condition, values))

    def transact(self, writes: list[dict[str, Any]]) -> bool:
        """Apply every write or none; False when a condition failed. Retried on a conflict
        with another transaction on the same items; any other cancellation (throttling, a
        refused write, conflicts that outlast the retries) is raised."""
        for table_write in writes:
            next(iter(table_write.values()))["TableName"] = self.name
        for attempt in range(TRANSACT_ATTEMPTS):
            try:
                self.client.transact_write_items(TransactItems=writes)
                return True
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                codes = _cancellation(exc) - {"None"}
                if codes == {"ConditionalCheckFailed"}:
                    return False
                retry = "TransactionConflict" in codes and codes <= _CONFLICT_OR_CONDITION
                if not retry or attempt == TRANSACT_ATTEMPTS - 1:
                    raise
                time.sleep(0.02 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def delete_all(self, keys: list[Item]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            request: dict[str, Any] = {
                self.name: [
                    {"DeleteRequest": {"Key": k}} for k in keys[start : start + DELETE_BATCH]
                ]
            }
            for round_ in range(BATCH_ROUNDS):
                answer = self.client.batch_write_item(RequestItems=request)
                request = answer.get("UnprocessedItems") or {}
                if not request:
                    break
                time.sleep(0.05 * 2**round_)

    def _conditional(self, call: Any, **params: Any) -> bool:
        try:
            call(TableName=self.name, **params)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == _CONDITION_FAILED:
                return False
            raise
        return True

    @staticmethod
    def _update(update: str, condition: str, values: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "UpdateExpression": update,
            "ConditionExpression": condition,
            **_names(update, condition),
            **_values(values),
        }


def put(condition: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """The condition parameters of a put or a delete."""
    return {"ConditionExpression": condition, **_names(condition), **_values(values)}


def put_action(item: Item, condition: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``Put`` of TransactWriteItems (``Table.transact`` names the table)."""
    return {"Put": {"Item": item, **put(condition, values)}}


def update_action(
    key: Item, update: str, condition: str, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An ``Update`` of TransactWriteItems."""
    return {"Update": {"Key": key, **Table._update(update, condition, values)}}
