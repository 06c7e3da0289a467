"""Judging results: one set of metric definitions, readers of stored predictions and backtest
results, baselines, luck tests, the walk-forward study and the walk-forward report."""
