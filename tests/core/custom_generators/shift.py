"""A custom generator in ITB's signature: ``fn(df, gen_config, config, model_store)``."""

from __future__ import annotations

from typing import Any

import pandas as pd


def add_constant(
    df: pd.DataFrame, gen_config: dict[str, Any], config: dict[str, Any], model_store: Any
) -> tuple[pd.DataFrame, list[str]]:
    names = []
    for column in gen_config["columns"]:
        name = f"{column}_add"
        df[name] = df[column] + gen_config["parameter"]
        names.append(name)
    return df, names


def broken(
    df: pd.DataFrame, gen_config: dict[str, Any], config: dict[str, Any], model_store: Any
) -> tuple[pd.DataFrame, list[str]]:
    raise ValueError("no such thing")
