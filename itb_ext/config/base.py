"""Typed, immutable configuration objects and the helpers that validate raw JSON into them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from itb_ext.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class FrozenModel(BaseModel):
    """Base of every configuration object: immutable, no unknown keys, no silent type coercion.

    Lists in the JSON become tuples (see :func:`freeze`), so sequence fields are declared as tuples.
    """

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")


def freeze(value: Any) -> Any:
    """Turn JSON lists into tuples recursively so they validate against frozen tuple fields.

    :param value: a value decoded from JSON.
    :return: the same structure with every list replaced by a tuple (mappings stay dicts).
    """
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, Mapping):
        return {k: freeze(v) for k, v in value.items()}
    return value


def one_or_many(value: Any) -> Any:
    """ITB accepts one item where a list is expected: normalise a single value to a 1-tuple.

    Lists and tuples become tuples; a mapping is left for the field's own validation to reject.
    Used as a ``mode="before"`` field validator.
    """
    if isinstance(value, list | tuple):
        return tuple(value)
    if isinstance(value, Mapping):
        return value
    return (value,)


def one_of(value: str, names: Sequence[str]) -> str:
    """``value`` if it is one of ``names``, else pydantic's message for a wrong ``Literal``.

    For string fields whose allowed values come from a registry instead of a ``Literal``.
    """
    if value not in names:
        quoted = [f"'{n}'" for n in names]
        listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
        raise PydanticCustomError(
            "literal_error", "Input should be {expected}", {"expected": listed}
        )
    return value


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def format_validation_error(exc: ValidationError) -> str:
    """Render the first problem of a pydantic error as ``key: message (got value)`` on one line."""
    err = exc.errors()[0]
    # Union members add their type name to the location; it means nothing to a user.
    loc = tuple(p for p in err["loc"] if not _is_union_tag(p))
    path = _loc_to_path(loc) or "(entry)"
    if err["type"] == "extra_forbidden":
        return f"unknown key '{path}'"
    if err["type"] == "missing":
        return f"missing required key '{path}'"
    got = err.get("input")
    shown = repr(got)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return f"{path}: {msg} (got {shown})"


_TYPE_NAMES = {"int", "float", "str", "bool", "tuple", "dict", "list"}


def _is_union_tag(part: int | str) -> bool:
    return isinstance(part, str) and (
        "[" in part or part in _TYPE_NAMES or part.startswith("function-")
    )


def validate(model: type[M], data: Any, where: str) -> M:
    """Validate raw JSON data into ``model``.

    :param model: the configuration class.
    :param data: raw value decoded from JSON.
    :param where: how the user finds this value, e.g. ``feature_sets[2] (talib): config``.
    :raises ConfigError: naming ``where``, the key and the problem.
    """
    try:
        return model.model_validate(freeze(data))
    except ValidationError as exc:
        raise ConfigError(f"{where}: {format_validation_error(exc)}") from None
