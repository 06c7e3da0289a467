"""FreqAI's own example strategy, long only, for the spot comparison in the README."""

from freqtrade.templates.FreqaiExampleStrategy import FreqaiExampleStrategy


class FreqaiExampleSpot(FreqaiExampleStrategy):
    """``FreqaiExampleStrategy`` as shipped with FreqTrade, unchanged except that it does not
    short: FreqTrade refuses shorting strategies on spot markets, and the comparison runs on the
    embedded spot pairs. Its short signals are ignored.
    """

    can_short = False
