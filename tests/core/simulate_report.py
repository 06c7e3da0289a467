"""The parity fixtures' view of a simulation (the ``correct`` block of ``simulate.json``)."""

from __future__ import annotations

from typing import Any

from itb_ext.simulate import ITB_METRICS, SimulationResult, round_like_itb

OPEN_POSITION_NOTE = "open at the end of the data, not included in the statistics (as in ITB)"


def performance_report(result: SimulationResult) -> dict[str, Any]:
    """The ``correct`` block of the parity fixtures' ``simulate.json`` for one simulation.

    :param result: a simulation (fee 0 and ``fill="close"`` for ITB's numbers).
    :return: ``long``/``short``/``total`` with ITB's metric names (unrounded),
        ``compound_return_%`` and ``rounded_like_itb``, plus ``open_position`` (or None).
    """
    report: dict[str, Any] = {}
    for side in ("long", "short", "total"):
        metrics = result.performance[side]
        block: dict[str, Any] = {name: metrics[name] for name in ITB_METRICS}
        block["compound_return_%"] = metrics["compound_return_%"]
        block["rounded_like_itb"] = round_like_itb(block)
        report[side] = block
    pos = result.open_position
    report["open_position"] = (
        None
        if pos is None
        else {
            "side": pos.side,
            "entry_row": pos.entry_row,
            "entry_price": pos.entry_price,
            "last_close": pos.last_price,
            "unrealized_profit": pos.unrealized_profit,
            "note": OPEN_POSITION_NOTE,
        }
    )
    return report
