"""QA datasets: sharded Parquet with an HF ``Image`` column, TRL / LLaVA exports, and the
resumable ``generate_dataset`` pipeline (SPEC §4-5, §10)."""

from .export import THINK_SUFFIX, export_llava, export_trl, load_trl_dataset, trl_example
from .parquet import features, iter_rows, load_hf_dataset, load_records, point_map_from_row, shard_paths
from .pipeline import DatasetError, generate_dataset, process_scene, scene_seed

__all__ = [
    "DatasetError",
    "THINK_SUFFIX",
    "export_llava",
    "export_trl",
    "features",
    "generate_dataset",
    "iter_rows",
    "load_hf_dataset",
    "load_records",
    "load_trl_dataset",
    "point_map_from_row",
    "process_scene",
    "scene_seed",
    "shard_paths",
    "trl_example",
]
