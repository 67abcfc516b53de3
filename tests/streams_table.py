"""The stream store's DynamoDB table in moto, exactly as template.yaml declares it.

Every test of the ``dynamodb`` store makes its table from the template's own ``StreamsTable``
(keys, attribute types, billing, TTL), so a test cannot pass against a table the stack would
not create.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import boto3
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
