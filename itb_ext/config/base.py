"""Typed, immutable configuration objects and the helpers that validate raw JSON into them."""

from __future__ import annotations

import difflib
import typing
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


def positive_windows(value: tuple[int, ...]) -> tuple[int, ...]:
    """Every window is at least one row (a ``mode="after"`` field validator of ``windows``)."""
    for w in value:
        if w < 1:
            raise ValueError(f"window {w} must be a positive number of rows")
    return value


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


def format_validation_error(exc: ValidationError, model: type[BaseModel] | None = None) -> str:
    """Render the first problem of a pydantic error as ``key: message (got value)`` on one line.

    An unknown key is reported before anything else, since a misspelt key also leaves its right
    spelling "missing"; a near miss of a known key is named ("did you mean ...").

    :param exc: pydantic's error.
    :param model: the validated class, for the names a misspelt key is compared with.
    """
    errors = exc.errors()
    extra = [e for e in errors if e["type"] == "extra_forbidden"]
    err = extra[0] if extra else errors[0]
    # Union members add their type name to the location; it means nothing to a user.
    loc = tuple(p for p in err["loc"] if not _is_union_tag(p))
    path = _loc_to_path(loc) or "(entry)"
    if err["type"] == "extra_forbidden":
        return f"unknown key '{path}'{_did_you_mean(loc, errors, model)}"
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


def _did_you_mean(loc: tuple[int | str, ...], errors: Sequence[Any], model: Any) -> str:
    """`` (did you mean 'x'?)`` for the known key closest to the unknown one, or nothing."""
    if not loc or not isinstance(loc[-1], str):
        return ""
    parent = loc[:-1]
    known = set(_field_names(model, parent))
    # keys reported missing beside the unknown one are known keys too (wherever models nest)
    for e in errors:
        e_loc = tuple(p for p in e["loc"] if not _is_union_tag(p))
        if e["type"] == "missing" and e_loc[:-1] == parent and isinstance(e_loc[-1], str):
            known.add(e_loc[-1])
    by_case = {k.lower(): k for k in known}
    if loc[-1].lower() in by_case:
        return f" (did you mean '{by_case[loc[-1].lower()]}'?)"
    close = difflib.get_close_matches(loc[-1], sorted(known), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _field_names(model: Any, loc: tuple[int | str, ...]) -> list[str]:
    """The keys a nested config model accepts at ``loc`` (empty where the path is not a model)."""
    current = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = _model_in(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [field.alias or name for name, field in current.model_fields.items()]
    return []


def _model_in(annotation: Any) -> Any:
    """The config model inside an annotation such as ``X | None`` or ``tuple[X, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


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
        raise ConfigError(f"{where}: {format_validation_error(exc, model)}") from None
