"""Subscribe rules (Track Subscriptions API): what a participant receives, validated as Twilio
documents for error 53215, and applied in order, a later rule overriding an earlier one."""

from __future__ import annotations

import json
from typing import Any

from twilio_emulator.errors import ApiError, missing

TRACK_KINDS = ("audio", "video", "data")
RULE_TYPES = ("include", "exclude")
RULE_KEYS = frozenset({"type", "all", "publisher", "track", "kind", "priority"})
RULE_PRIORITIES = ("low", "standard", "high")
MAX_RULES = 20


def invalid_rules(reason: str) -> ApiError:
    return ApiError(400, 53215, f"Invalid Subscribe Rule(s): {reason}")


def check_rules(raw: str | None) -> list[dict[str, Any]]:
    """The subscribe rules in ``Rules``, or ``ApiError`` 53215 naming what is wrong."""
    if raw is None or raw == "":
        raise missing("Rules")
    try:
        rules = json.loads(raw)
    except ValueError:
        raise invalid_rules("Rules must be a JSON array") from None
    if not isinstance(rules, list):
        raise invalid_rules("Rules must be a JSON array")
    if not rules:
        raise invalid_rules("an empty set of rules is not allowed")
    if len(rules) > MAX_RULES:
        raise invalid_rules(f"at most {MAX_RULES} rules are allowed")
    for rule in rules:
        if not isinstance(rule, dict):
            raise invalid_rules("every rule must be a JSON object")
        unknown = set(rule) - RULE_KEYS
        if unknown:
            raise invalid_rules(f"unknown field {sorted(unknown)[0]!r}")
        if rule.get("type") not in RULE_TYPES:
            raise invalid_rules("every rule needs a type, include or exclude")
        if "all" in rule:
            if rule["all"] is not True or set(rule) != {"type", "all"}:
                raise invalid_rules("'all' must be true and go with 'type' alone")
        elif not set(rule) & {"publisher", "track", "kind"}:
            raise invalid_rules("a rule must name all, a publisher, a track or a kind")
        if "kind" in rule and rule["kind"] not in TRACK_KINDS:
            raise invalid_rules("kind must be audio, video or data")
        if "priority" in rule and rule["priority"] not in RULE_PRIORITIES:
            raise invalid_rules("priority must be low, standard or high")
        for key in ("publisher", "track"):
            if key in rule and not isinstance(rule[key], str):
                raise invalid_rules(f"{key} must be a string")
    return rules


def subscribed(rules: list[dict[str, Any]], publisher: str, kind: str, track: str) -> bool:
    """Whether ``rules`` subscribe to one track of ``publisher``."""
    result = False
    for rule in rules:
        matches = rule.get("all") is True or (
            rule.get("publisher", publisher) == publisher
            and rule.get("kind", kind) == kind
            and rule.get("track", track) == track
        )
        if matches:
            result = rule["type"] == "include"
    return result
