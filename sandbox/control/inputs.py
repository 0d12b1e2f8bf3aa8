"""Typed readers for control-API JSON bodies: a wrong type is a 400, never a 500.

Why strict (issue 10 item 17): a malformed control request must be answered with a clear
400, and a value such as the string "false" must not silently read as true.
"""

from __future__ import annotations

from typing import Any


class ControlError(Exception):
    """A control request the sandbox refuses, with the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def opt_str(body: dict[str, Any], key: str) -> str | None:
    """An optional string field; numbers are accepted as their text (ids, versions)."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ControlError(400, f"{key} must be a string")
    return str(value)


def string(body: dict[str, Any], key: str, default: str) -> str:
    value = opt_str(body, key)
    return default if value is None else value


def boolean(body: dict[str, Any], key: str, default: bool) -> bool:
    """A JSON boolean; the string "false" is refused rather than read as true."""
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise ControlError(400, f"{key} must be true or false")
    return value


def number(body: dict[str, Any], key: str, default: float | None) -> float | None:
    value = body.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(400, f"{key} must be a number")
    return float(value)


def integer(body: dict[str, Any], key: str, default: int | None) -> int | None:
    value = body.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlError(400, f"{key} must be an integer")
    return value


def mapping(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ControlError(400, f"{key} must be an object")
    return value


def str_map(body: dict[str, Any], key: str) -> dict[str, str]:
    """A {string: string} object (tags); scalar values are taken as their text."""
    out = {}
    for k, v in mapping(body, key).items():
        if isinstance(v, dict | list) or v is None:
            raise ControlError(400, f"{key}.{k} must be a string")
        out[str(k)] = str(v)
    return out


def num_map(body: dict[str, Any], key: str) -> dict[str, float]:
    return {str(k): number({k: v}, str(k), None) or 0.0 for k, v in mapping(body, key).items()}


def str_list(body: dict[str, Any], key: str) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ControlError(400, f"{key} must be a list of strings")
    return list(value)


def string_list(body: dict[str, Any], key: str, default: list[str]) -> list[str]:
    """A list of strings (CIDRs, names)."""
    value = body.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ControlError(400, f"{key} must be a list of strings")
    return list(value)
