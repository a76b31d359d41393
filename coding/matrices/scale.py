"""The heat scale of a matrix: a value's shade as one of a few buckets, so the page can colour
cells by CSS class (the Content-Security-Policy forbids inline styles) and the shades stay
distinguishable."""

import math

STEPS = 4


def bucket(value: float, maximum: float, steps: int = STEPS) -> int:
    """0 for nothing; otherwise 1..steps, in proportion to the largest value in the matrix."""
    if value <= 0 or maximum <= 0:
        return 0
    return min(steps, max(1, math.ceil(steps * value / maximum)))
