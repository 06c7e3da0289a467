"""Relative post-processing of a function's outputs over its windows (``talib``, ``itbstats``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from itb_ext.config.features import RelativeParameters
from itb_ext.features.rolling import FloatArray


def to_relative(outputs: Sequence[FloatArray], params: RelativeParameters) -> list[FloatArray]:
    """Express the outputs of one function over its windows relative to a base output.

    :param outputs: one array per window, in config order.
    :param params: ``rel_base``, ``rel_func``, ``percentage``, ``log``.
    :return: the converted arrays, same order.

    Corrections of ITB (spec j.8): ``rel_base="first"`` takes the first output as the base, and
    ``percentage`` scales only the converted outputs, never the unchanged base output.
    """
    k = len(outputs)
    result: list[FloatArray] = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for i, out in enumerate(outputs):
            base: FloatArray | None
            if params.rel_base == "next":
                base = outputs[i + 1] if i < k - 1 else None
            elif params.rel_base == "last":
                base = outputs[k - 1] if i < k - 1 else None
            elif params.rel_base == "prev":
                base = outputs[i - 1] if i > 0 else None
            elif params.rel_base == "first":
                base = outputs[0] if i > 0 else None
            else:
                base = None
            value = out
            if base is not None:
                if params.rel_func == "rel":
                    value = out / base
                elif params.rel_func == "diff":
                    value = out - base
                else:  # rel_diff
                    value = (out - base) / base
            # without rel_base nothing is a base output: percentage scales all (as ITB)
            if params.percentage and (base is not None or params.rel_base is None):
                value = value * 100.0
            if params.log:
                value = np.log(value)
            result.append(np.asarray(value, dtype=np.float64))
    return result
