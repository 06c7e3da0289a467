"""The walk-forward report as one self-contained HTML file (plotly, its JavaScript embedded, so
it opens offline), and the writer of the report's files."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from itb_ext.data.files import write_atomically
from itb_ext.evaluation.report import (
    NA,
    OVERALL,
    Report,
    edge_section,
    summary_text,
    trading_heading,
)


def _heatmap(table: pd.DataFrame, rows: str, value: str, title: str, mid: float) -> Any:
    import plotly.graph_objects as go

    grid = table.pivot_table(index=rows, columns="window", values=value, sort=False)
    return go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=list(grid.columns),
            y=list(grid.index),
            colorscale="RdBu",
            zmid=mid,
            colorbar={"title": value},
        ),
        layout={
            "title": title,
            "height": 200 + 22 * len(grid.index),
            "xaxis": {"type": "category", "title": "window start"},
        },
    )


def quality_figure(report: Report) -> Any:
    """AUC of every (pair, model) per window: blue is skill, red is worse than chance."""
    q = report.quality[report.quality["window"] != OVERALL]
    q = q.assign(row=q["pair"] + " " + q["model"])
    return _heatmap(q, "row", "auc", "Out-of-sample AUC per window (0.5 = chance)", 0.5)


def reliability_figure(report: Report) -> Any:
    """Observed frequency against predicted probability, per model, with the diagonal."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect", line={"dash": "dot"})
    )
    for model, curve in report.reliability.groupby("model", sort=False):
        fig.add_trace(
            go.Scatter(
                x=curve["mean_predicted"],
                y=curve["observed"],
                mode="lines+markers",
                name=str(model),
                text=[f"{c} candles" for c in curve["count"]],
            )
        )
    fig.update_layout(
        title="Reliability (all pairs and windows, out of sample)",
        xaxis_title="predicted probability",
        yaxis_title="observed frequency",
        height=450,
    )
    return fig


def direction_figure(report: Report) -> Any:
    """trade_score's AUC against the sign of the forward return, per window and pair."""
    import plotly.graph_objects as go

    d = report.direction[report.direction["window"] != OVERALL]
    fig = go.Figure()
    for pair, part in d.groupby("pair", sort=False):
        fig.add_trace(go.Bar(x=part["window"], y=part["auc"], name=str(pair)))
    fig.add_hline(y=0.5, line_dash="dot")
    fig.update_layout(
        title=f"trade_score: AUC against the sign of the {report.horizon}-candle return",
        yaxis_title="AUC",
        xaxis={"type": "category", "title": "window start"},
        height=400,
    )
    return fig


def importance_figures(report: Report) -> list[Any]:
    """Per pair, permutation importance of every feature in every window."""
    figures = []
    for pair, part in report.importance.groupby("pair", sort=False):
        figures.append(
            _heatmap(
                part,
                "feature",
                "auc_drop",
                f"{pair}: permutation importance (AUC lost when the feature is shuffled)",
                0.0,
            )
        )
    return figures


def levels_figures(report: Report) -> list[Any]:
    """Per pair, trade_score with the buy and sell levels in force on each candle."""
    import plotly.graph_objects as go

    figures = []
    for pair, part in report.levels.groupby("pair", sort=False):
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=part["date"], y=part["trade_score"], name="trade_score"))
        for column, colour in (("buy_threshold", "#2ca02c"), ("sell_threshold", "#d62728")):
            fig.add_trace(
                go.Scatter(
                    x=part["date"],
                    y=part[column],
                    name=column,
                    line={"color": colour, "shape": "hv"},
                )
            )
        fig.update_layout(title=f"{pair}: trade_score and the levels in force", height=400)
        figures.append(fig)
    return figures


def equity_figure(report: Report) -> Any:
    """Equity and drawdown of the strategy against buy-and-hold, both after fees."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    e = report.equity
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.05
    )
    for column, name in (("strategy", "strategy"), ("buy_and_hold", "buy and hold")):
        fig.add_trace(go.Scatter(x=e["date"], y=e[column], name=name), row=1, col=1)
        fig.add_trace(
            go.Scatter(x=e["date"], y=-100 * e[f"{column}_drawdown"], name=f"{name} drawdown %"),
            row=2,
            col=1,
        )
    fig.update_layout(
        title="Equity after fees: walk-forward backtest against buy-and-hold", height=600
    )
    return fig


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0, na_rep=NA)


def _edge_block(report: Report) -> list[str]:
    # the very text the demo prints: one function makes both
    text = edge_section(report)
    if not text:
        return []
    return ["<h2>Edge per pair</h2>", f"<pre>{html.escape(text)}</pre>"]


def render_html(report: Report, title: str) -> str:
    """The whole report page, with plotly's JavaScript inside it."""
    from plotly.offline import get_plotlyjs

    figures = [quality_figure(report), reliability_figure(report), direction_figure(report)]
    if not report.equity.empty:
        figures.append(equity_figure(report))
    figures += levels_figures(report)
    figures += importance_figures(report)
    divs = [
        f.to_html(full_html=False, include_plotlyjs=False, div_id=f"figure-{i}")
        for i, f in enumerate(figures)
    ]
    q = report.quality
    sections = [
        "<h2>Model quality, all windows</h2>",
        _table(q[q["window"] == OVERALL].drop(columns="window")),
    ]
    if not report.trading.empty:
        heading = html.escape(trading_heading(report.fee, report.slippage))
        sections += [f"<h2>{heading}</h2>", _table(report.trading)]
    sections += ["<h2>Direction of trade_score</h2>", _table(report.direction)]
    if report.notes:
        sections += ["<h2>Notes</h2><ul>"]
        sections += [f"<li>{html.escape(n)}</li>" for n in report.notes]
        sections += ["</ul>"]
    sections += ["<h2>Model quality per window</h2>", _table(q[q["window"] != OVERALL])]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{padding:2px 8px;text-align:right}</style>",
            f'<script type="text/javascript">{get_plotlyjs()}</script>',
            "</head><body>",
            f"<h1>{html.escape(title)}</h1>",
            *(f"<p>{html.escape(line)}</p>" for line in report.header),
            "<p>Every figure is out of sample: each window is predicted by a model trained only "
            "on candles before the window's start. Trading figures include fees.</p>",
            *_edge_block(report),
            *divs[:3],
            *sections[:4],
            *divs[3:],
            *sections[4:],
            "</body></html>",
        ]
    )


@dataclass(frozen=True)
class ReportFiles:
    """Where the report was written."""

    html: Path
    text: Path


def write_report(report: Report, folder: Path, title: str) -> ReportFiles:
    """Write ``report.html`` and ``report.txt`` into ``folder`` (created if needed); each file
    appears whole or not at all."""
    html_text = render_html(report, title)
    summary = summary_text(report)
    folder.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(folder / "report.html", folder / "report.txt")
    write_atomically(files.html, html_text)
    write_atomically(files.text, summary)
    return files
