"""Trade simulation of buy/sell signal levels and ITB's threshold grid search (``simulate``).

* :mod:`~itb_ext.simulate.trades`: events, trades and their accounting for one pair of signals;
* :mod:`~itb_ext.simulate.metrics`: per-direction metrics with ITB's names and rounding;
* :mod:`~itb_ext.simulate.grid`: row selection, the parameter grid and the vectorised search.
"""

from itb_ext.simulate.grid import grid_search, parameter_grid, select_rows
from itb_ext.simulate.metrics import (
    AVERAGE_MONTH,
    ITB_METRICS,
    ITB_ROUNDING,
    METRICS,
    direction_metrics,
    round_like_itb,
)
from itb_ext.simulate.trades import (
    DEFAULT_FEE,
    Event,
    Fill,
    OpenPosition,
    Side,
    SimulatedTrade,
    SimulationResult,
    fill_prices,
    simulate,
    simulate_frame,
)

__all__ = [
    "AVERAGE_MONTH",
    "DEFAULT_FEE",
    "ITB_METRICS",
    "ITB_ROUNDING",
    "METRICS",
    "Event",
    "Fill",
    "OpenPosition",
    "Side",
    "SimulatedTrade",
    "SimulationResult",
    "direction_metrics",
    "fill_prices",
    "grid_search",
    "parameter_grid",
    "round_like_itb",
    "select_rows",
    "simulate",
    "simulate_frame",
]
