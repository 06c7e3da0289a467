"""The ranked threshold table of ``itb-ext simulate`` as a reader sees it: rounded and explained."""

from __future__ import annotations

import pandas as pd

from itb_ext.config.simulate import SimulateModelConfig
from itb_ext.simulate import ITB_ROUNDING

RANK_COLUMN = "%profit/M"
"""The column the grid search ranks by (highest first)."""

#: Decimals of the columns ITB does not round: thresholds keep their grid's digits, the
#: compounded figures two decimals like the other percentages.
EXTRA_ROUNDING = {"compound_return_%": 2, "max_drawdown_%": 2}
THRESHOLD_DECIMALS = 6


def rounded(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every metric rounded as ITB prints it (thresholds to 6 decimals).

    Counts stay integers; columns this module does not know are left alone.
    """
    out = table.copy()
    for column in out.columns:
        if not pd.api.types.is_float_dtype(out[column]):
            continue
        decimals = ITB_ROUNDING.get(column, EXTRA_ROUNDING.get(column))
        if decimals is None and "threshold" in column:
            decimals = THRESHOLD_DECIMALS
        if decimals is not None:
            out[column] = out[column].round(decimals)
    return out


def table_notes(config: SimulateModelConfig) -> list[str]:
    """What a reader needs to read the table: ranking, units, fees, fills, in-sample."""
    fill = (
        f"at the '{config.price_column}' of the signal candle"
        if config.fill == "close"
        else "at the open of the candle after the signal"
    )
    return [
        f"Rows ranked by `{RANK_COLUMN}` (percent profit per month, highest first); "
        f"direction: {config.direction}.",
        f"`profit` is in quote currency for one unit of the base asset per trade (price units "
        f"of '{config.price_column}'); `%profit` is the sum of the trades' percentages; "
        "`/T` per trade, `/M` per month.",
        f"Fees included: {config.fee * 100:g} % per side; fills {fill}.",
        "In-sample: the thresholds are chosen and measured on the same candles.",
    ]


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e-4 and value != 0 else f"{value:.10g}"
    return str(value)


def markdown_table(table: pd.DataFrame) -> str:
    """A DataFrame as a GitHub markdown table (values printed as given)."""
    header = "| " + " | ".join(str(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    rows = [
        "| " + " | ".join(_cell(v) for v in row) + " |" for row in table.itertuples(index=False)
    ]
    return "\n".join([header, rule, *rows]) + "\n"


def markdown_report(table: pd.DataFrame, config: SimulateModelConfig) -> str:
    """The notes as a paragraph, then the rounded table."""
    notes = "\n".join(f"- {line}" for line in table_notes(config))
    return notes + "\n\n" + markdown_table(rounded(table))
