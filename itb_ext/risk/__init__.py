"""Risk rules as pure functions of equity, trades and candles.

The strategy calls them from FreqTrade's callbacks and ``itb-ext simulate`` calls the same ones, so
a backtest, a simulation and a live bot size and stop trades alike. Configured by ``itb.risk``
(:class:`itb_ext.config.risk.RiskConfig`).
"""
