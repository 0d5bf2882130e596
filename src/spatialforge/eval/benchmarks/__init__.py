"""Spatial benchmarks, one module each, behind one registry.

>>> from spatialforge.eval.benchmarks import get_benchmark, list_benchmarks
>>> bench = get_benchmark("cvbench")
>>> samples = bench.load("path/to/CV-Bench")        # or None: the Hugging Face dataset id
>>> rows = [bench.score(s, model_answer(s)) for s in samples]
>>> bench.aggregate(rows)["overall"]

Importing this package registers every benchmark (the modules only define classes; data is
read when ``load`` is called).
"""

from .base import (
    PROMPT_STYLES,
    Benchmark,
    BenchmarkError,
    BenchSample,
    get_benchmark,
    list_benchmarks,
    open_image,
    register_benchmark,
)
from . import cvbench, embspatial, openended, qspatial, robospatial, spatialrgpt, synthetic, threedsr  # noqa: F401  (registration)
from . import mmsi, omnispatial, site, spar, viewspatial, vsibench  # noqa: F401  (registration)

__all__ = [
    "PROMPT_STYLES",
    "Benchmark",
    "BenchmarkError",
    "BenchSample",
    "get_benchmark",
    "list_benchmarks",
    "open_image",
    "register_benchmark",
]
