"""itb_ext: the intelligent-trading-bot signal pipeline as a typed, fast library.

The core (everything outside :mod:`itb_ext.adapters`) imports nothing from FreqTrade.
"""

__version__ = "0.1.0"
