import numpy as np
import pytest

from spatialforge.geometry.order_stats import median, trimmed_range


@pytest.mark.parametrize("trim", [0.0, 0.013, 0.02, 0.25, 0.49])
def test_trimmed_range_equals_numpy_quantile(trim):
    """The tail-only selection gives np.quantile's numbers exactly: ties, sorted and reversed
    input (a strided sample unlike the tails), tiny and large arrays."""
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 17, 100, 999, 20000, 60001):
        v = rng.standard_normal(n)
        for values in (v, np.round(v, 1), np.sort(v), np.sort(v)[::-1], np.full(n, 0.5)):
            assert trimmed_range(values, trim) == tuple(np.quantile(values, [trim, 1 - trim]).tolist())


def test_median_equals_numpy_median():
    rng = np.random.default_rng(4)
    for n in (1, 2, 3, 4, 17, 100, 511, 512, 2001):
        v = rng.standard_normal(n)
        for values in (v, v.astype(np.float32), np.round(v, 1), np.sort(v)[::-1]):
            assert median(values) == float(np.median(values))
