"""The configuration reference, read from the typed config classes themselves.

Every key's meaning is the ``:param:`` line of its class's docstring, its type and default are
the pydantic field's. Rendering them here keeps the documentation's tables from drifting away
from what the code accepts: the page is regenerated, never edited by hand.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from itb_ext.config.base import _model_in

NOT_DOCUMENTED = "(not documented)"
"""The meaning shown for a key whose class documents no ``:param:`` for it."""

_PARAM = re.compile(r"^:param (\w+):\s*(.*)$")
_ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|obj):`~?([^`]+)`")
_DOUBLE_TICKS = re.compile(r"``(.+?)``")


@dataclass(frozen=True)
class Section:
    """One table of the reference: the keys of one config class at one place of a config.

    :param key: where the keys live, e.g. ``itb.risk.sizing``.
    :param model: the config class.
    :param anchor: the section's link target in the page.
    """

    key: str
    model: type[BaseModel]
    anchor: str


def anchor_of(key: str) -> str:
    """A stable link target for a key path: ``itb.risk.sizing`` -> ``itb-risk-sizing``."""
    return re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")


def sections(model: type[BaseModel], key: str) -> list[Section]:
    """The section of ``model`` at ``key`` and those of every config class nested in it.

    :param model: the config class at the top.
    :param key: its place in a config, e.g. ``itb`` or ``simulate_model``.
    :return: sections in reading order: a class first, then its nested classes depth first.
    """
    found = [Section(key, model, anchor_of(key))]
    for name, field in model.model_fields.items():
        nested = _model_in(field.annotation)
        if nested is None:
            continue
        many = _is_list(field.annotation)
        found.extend(sections(nested, f"{key}.{field.alias or name}{'[]' if many else ''}"))
    return found


def _is_list(annotation: Any) -> bool:
    for member in _union_members(annotation):
        if typing.get_origin(member) in (tuple, list) and not _is_fixed_tuple(member):
            return True
    return False


def _union_members(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _is_fixed_tuple(annotation: Any) -> bool:
    args = typing.get_args(annotation)
    return typing.get_origin(annotation) is tuple and Ellipsis not in args


def parameter_docs(model: type[BaseModel]) -> dict[str, str]:
    """Each documented key's ``:param:`` text, from the class and the classes it extends.

    :param model: a config class.
    :return: field name -> its description in Markdown (a subclass's line wins).
    """
    described: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if isinstance(cls, type) and issubclass(cls, BaseModel) and cls.__doc__:
            described.update(_params_of(inspect.cleandoc(cls.__doc__)))
    return described


def _params_of(doc: str) -> dict[str, str]:
    params: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in doc.splitlines():
        match = _PARAM.match(line.strip())
        if match:
            current = params.setdefault(match.group(1), [])
            current.append(match.group(2))
        elif current is not None and line.startswith((" ", "\t")) and line.strip():
            current.append(line.strip())
        else:
            current = None
    return {name: to_markdown(" ".join(parts)) for name, parts in params.items()}


def summary(model: type[BaseModel]) -> str:
    """The docstring without its ``:param:`` entries, as Markdown paragraphs."""
    kept: list[str] = []
    in_param = False
    for line in inspect.cleandoc(model.__doc__ or "").splitlines():
        if _PARAM.match(line.strip()):
            in_param = True
        elif in_param and line.startswith((" ", "\t")) and line.strip():
            continue
        else:
            in_param = False
            kept.append(line)
    paragraphs = [" ".join(p.split()) for p in "\n".join(kept).split("\n\n") if p.strip()]
    return "\n\n".join(to_markdown(p) for p in paragraphs)


def to_markdown(text: str) -> str:
    """reST inline markup of a docstring to Markdown: roles and double backticks to code."""
    text = _ROLE.sub(lambda m: f"`{m.group(1).rsplit('.', 1)[-1]}`", text)
    return _DOUBLE_TICKS.sub(r"`\1`", text)


def type_text(annotation: Any, links: dict[type, str]) -> str:
    """A reader's name for a field's type: ``int``, ``list of str``, ``"a" or "b"``, a link.

    :param annotation: the field's annotation.
    :param links: config classes that have a section -> its anchor.
    """
    members = _union_members(annotation)
    if int in members and float in members:
        # JSON has one kind of number
        members = tuple(m for m in members if m is not int)
    if len(members) == 1:
        annotation = members[0]
    elif len(members) > 1:
        named = [type_text(m, links) for m in members if m is not type(None)]
        nullable = type(None) in members
        unique = list(dict.fromkeys(named))
        return " or ".join(unique + (["null"] if nullable else []))
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        return " or ".join(json.dumps(a) for a in args)
    if origin in (tuple, list):
        if _is_fixed_tuple(annotation):
            return "[" + ", ".join(type_text(a, links) for a in args) + "]"
        return f"list of {type_text(args[0], links)}"
    if origin is dict or annotation is dict:
        return "object"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        anchor = links.get(annotation)
        return f"[object](#{anchor})" if anchor else "object"
    names = {int: "int", float: "number", str: "str", bool: "bool", typing.Any: "any"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def limits_text(field: FieldInfo) -> str:
    """The bounds pydantic checks, e.g. ``>= 1``, ``0 < x <= 1``, ``at least 1 item``."""
    bounds = []
    for rule in field.metadata:
        for kind, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(rule, kind, None)
            if value is not None and isinstance(rule, annotated_types.BaseMetadata):
                bounds.append(f"{symbol} {value}")
        if isinstance(rule, annotated_types.MinLen) and rule.min_length:
            bounds.append(f"at least {rule.min_length}")
    return ", ".join(bounds)


def default_text(field: FieldInfo) -> str:
    """The default as it would be written in JSON, ``required`` when there is none."""
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "its defaults"
    try:
        return f"`{json.dumps(value, ensure_ascii=False)}`"
    except TypeError:
        return f"`{value!r}`"


def render_section(section: Section, links: dict[type, str], level: int = 3) -> str:
    """One section as Markdown: heading with its anchor, the class's summary, the key table.

    :param section: the section.
    :param links: config classes that have a section -> its anchor.
    :param level: the heading level.
    """
    described = parameter_docs(section.model)
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, field in section.model.model_fields.items():
        kind = type_text(field.annotation, links)
        limits = limits_text(field)
        cells = [
            f"`{field.alias or name}`",
            f"{kind} ({limits})" if limits else kind,
            default_text(field),
            described.get(name) or described.get(field.alias or name, NOT_DOCUMENTED),
        ]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    heading = f"{'#' * level} `{section.key}` {{#{section.anchor}}}"
    parts = [heading, summary(section.model), "\n".join(rows)]
    return "\n\n".join(p for p in parts if p)


def _cell(text: str) -> str:
    """Escape the table's column separator outside code spans (inside them it is literal)."""
    pieces = text.split("`")
    return "`".join(p if i % 2 else p.replace("|", "\\|") for i, p in enumerate(pieces))


def render(groups: Sequence[tuple[str, str, Sequence[Section]]]) -> str:
    """The reference body: per group a heading, an introduction and its sections.

    :param groups: ``(title, introduction, sections)``; a section may link to any other.
    :return: Markdown, ending with one newline.
    """
    links: dict[type, str] = {}
    for _, _, group in groups:
        for section in group:
            links.setdefault(section.model, section.anchor)
    blocks: list[str] = []
    for title, introduction, group in groups:
        blocks.append(f"## {title}")
        if introduction:
            blocks.append(introduction)
        # a class used in several places is described once, where it first appears
        blocks.extend(render_section(s, links) for s in group if links[s.model] == s.anchor)
    return "\n\n".join(blocks) + "\n"


def models_in(module: types.ModuleType) -> Iterator[type[BaseModel]]:
    """The config classes a module defines (not those it imports), in source order.

    :param module: a module of :mod:`itb_ext.config`.
    """
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, BaseModel)
            and value.__module__ == module.__name__
        ):
            yield value
