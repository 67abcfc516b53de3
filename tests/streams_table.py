"""The stream store's DynamoDB table in moto, exactly as template.yaml declares it.

Every test of the ``dynamodb`` store makes its table from the template's own ``StreamsTable``
(keys, attribute types, billing, TTL), so a test cannot pass against a table the stack would
not create. ``one_request_at_a_time`` makes moto as strict as DynamoDB about requests that
arrive together.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import botocore.client
from stack.cfn_yaml import load_template

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


@cache
def table_properties() -> dict[str, Any]:
    """``StreamsTable``'s properties in template.yaml."""
    properties: dict[str, Any] = load_template(TEMPLATE)["Resources"]["StreamsTable"]["Properties"]
    return properties


def create_streams_table(name: str, client: Any = None) -> None:
    """Create the table ``name`` in moto (inside ``mock_aws``) as the stack would, TTL on."""
    dynamodb = client or boto3.client("dynamodb")
    properties = table_properties()
    dynamodb.create_table(
        TableName=name,
        KeySchema=properties["KeySchema"],
        AttributeDefinitions=properties["AttributeDefinitions"],
        BillingMode=properties["BillingMode"],
    )
    ttl = properties["TimeToLiveSpecification"]
    dynamodb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": ttl["Enabled"], "AttributeName": ttl["AttributeName"]},
    )


_REQUESTS = threading.Lock()


@contextmanager
def one_request_at_a_time() -> Iterator[None]:
    """DynamoDB applies each request atomically: a transaction's conditions and writes, or one
    conditional update, happen as one step. moto checks and writes in separate steps that two
    threads can interleave, so two requests that arrive together (a dev server answering two
    callbacks at once) could both pass a condition only one of them may pass. While this is
    on, the process's DynamoDB requests reach moto one at a time."""
    original = botocore.client.BaseClient._make_api_call

    def atomic(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name != "dynamodb":
            return original(client, operation, params)
        with _REQUESTS:
            return original(client, operation, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", atomic):
        yield
