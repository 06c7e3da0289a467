"""FreqTrade/FreqUI ``plot_config`` of the ITB strategy, readable on FreqUI's dark and light themes.

Layout: one subplot for ``trade_score`` with its buy and sell thresholds, one subplot per label
comparing its algorithms' probabilities with the (smoothed) score the rule combines, and one for
``do_predict``. Every colour keeps at least :data:`MIN_CONTRAST` against both theme backgrounds;
threshold colours are never used for model lines, and each algorithm keeps its colour in every
label's subplot.

New plot columns (e.g. model-health or walk-forward threshold columns) are added through
``extra_subplots`` of :func:`build_plot_config`, so the whole chart is built here, in one place;
:func:`plot_config` is the strategy's chart for an ``itb`` section.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from itb_ext.pipeline.naming import score_column
from itb_ext.risk.model_health import AUC_COLUMN, HIT_COLUMN, PAUSE_COLUMN, auc_column
from itb_ext.signals.gates import gate_plot
from itb_ext.strategy.setup import ITBSetup

DARK_BACKGROUND = "#1e1e1e"
"""FreqUI's dark theme chart background (approximately)."""
LIGHT_BACKGROUND = "#ffffff"
"""FreqUI's light theme chart background."""
MIN_CONTRAST = 3.0
"""WCAG contrast ratio a line must keep against both backgrounds (graphical objects: 3:1)."""

BUY_COLOUR = "#249137"
SELL_COLOUR = "#e83a3a"
SCORE_COLOUR = "#3380cc"
SMOOTHED_COLOUR = "#7d7d7d"
DO_PREDICT_COLOUR = "#7d7d7d"
#: One colour per algorithm, in config order (green and red stay reserved for the thresholds).
ALGORITHM_COLOURS = ("#af40ff", "#238c8c", "#b06e2c", "#db37a4", "#8f7d24", "#3380cc")

SCORE_SUBPLOT = "ITB score"
DO_PREDICT_SUBPLOT = "trusted (do_predict)"

PlotColumns = dict[str, dict[str, Any]]


def label_subplot(label: str) -> str:
    """Title of the subplot comparing the algorithms of one label."""
    return f"P({label})"


def algorithm_colour(index: int) -> str:
    """The colour of the ``index``-th algorithm (cycling when there are more than six)."""
    return ALGORITHM_COLOURS[index % len(ALGORITHM_COLOURS)]


def build_plot_config(
    *,
    score_column: str,
    labels: Sequence[str],
    algorithms: Sequence[str],
    score_columns: Mapping[tuple[str, str], str],
    smoothed: Mapping[str, str | None],
    extra_subplots: Mapping[str, PlotColumns] | None = None,
) -> dict[str, Any]:
    """The ``plot_config`` dict FreqTrade's ``plot-dataframe`` and FreqUI read.

    :param score_column: the rule's score column (``trade_score``).
    :param labels: label names, one subplot each.
    :param algorithms: algorithm names, one line each in every label subplot.
    :param score_columns: probability column of each (label, algorithm).
    :param smoothed: per combined score column, the label it summarises (None: drawn with
        ``trade_score``, e.g. a score mixing several labels).
    :param extra_subplots: further subplots, title -> columns -> FreqUI line options.
    :return: ``{"main_plot": {}, "subplots": {...}}``.
    """
    subplots: dict[str, PlotColumns] = {
        SCORE_SUBPLOT: {
            score_column: {"color": SCORE_COLOUR},
            "buy_threshold": {"color": BUY_COLOUR},
            "sell_threshold": {"color": SELL_COLOUR},
        }
    }
    for label in labels:
        subplots[label_subplot(label)] = {
            score_columns[(label, algorithm)]: {"color": algorithm_colour(i)}
            for i, algorithm in enumerate(algorithms)
        }
    for column, owner in smoothed.items():
        target = label_subplot(owner) if owner is not None else SCORE_SUBPLOT
        # drawn wider in plot-dataframe (FreqUI ignores the plotly key)
        subplots[target][column] = {"color": SMOOTHED_COLOUR, "plotly": {"line": {"width": 3}}}
    for title, columns in (extra_subplots or {}).items():
        if title in subplots:
            raise ValueError(f"plot_config: subplot '{title}' already exists")
        subplots[title] = dict(columns)
    subplots[DO_PREDICT_SUBPLOT] = {"do_predict": {"color": DO_PREDICT_COLOUR, "type": "bar"}}
    return {"main_plot": {}, "subplots": subplots}


def plot_config(setup: ITBSetup) -> dict[str, Any]:
    """The strategy's ``plot_config``: trade_score and its thresholds, a subplot per label comparing
    its algorithms and the combined score, the model-health figures when they are switched on,
    the regime gate, and ``do_predict``."""
    extra = health_plot(setup) if setup.raw.risk.model_health.enabled else {}
    if setup.gate_column is not None:
        extra = {**gate_plot(setup.gate_column), **extra}
    return build_plot_config(
        score_column="trade_score",
        labels=setup.labels,
        algorithms=[a.name for a in setup.algorithms],
        score_columns={
            (lb, a.name): score_column(lb, a.name) for lb in setup.labels for a in setup.algorithms
        },
        smoothed={c: label_of(setup, c) for c in setup.combined_score_columns},
        extra_subplots=extra or None,
    )


def health_plot(setup: ITBSetup) -> dict[str, PlotColumns]:
    """``plot_config`` subplots of the model-health figures (``itb.risk.model_health``)."""
    per_model = {
        auc_column(column): {"color": algorithm_colour(i)}
        for i, column in enumerate(setup.score_columns)
    }
    return {
        "model health": {
            AUC_COLUMN: {"color": SCORE_COLOUR},
            HIT_COLUMN: {"color": SMOOTHED_COLOUR},
            **per_model,
        },
        "health pause": {PAUSE_COLUMN: {"color": SELL_COLOUR, "type": "bar"}},
    }


def label_of(setup: ITBSetup, column: str) -> str | None:
    """The one label whose model scores the signal column ``column`` is made from (None: several
    labels or none), following the signal steps back to the model scores."""
    producers = {out: step for step in setup.signal_steps for out in step.output_columns() or ()}
    of_score = {score_column(lb, a.name): lb for lb in setup.labels for a in setup.algorithms}
    found: set[str] = set()
    pending, seen = [column], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        if current in of_score:
            found.add(of_score[current])
        elif current in producers:
            pending.extend(producers[current].input_columns() or ())
    return found.pop() if len(found) == 1 else None


def relative_luminance(colour: str) -> float:
    """WCAG relative luminance of a ``#rrggbb`` colour."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)
