"""The edges FreqTrade needs: offline markets, score notifications.

Only this package imports FreqTrade.
"""
