"""Batch mode: the pipeline's stages over sharded inputs on a local or a Ray engine, into Parquet.

``newstrace batch IN... --out DIR --engine local|ray`` (:func:`.engine.run_batch`) writes
``DIR/articles``, ``relations``, ``stories``, ``quotes`` and ``verdicts`` as sharded Parquet;
``newstrace import DIR`` (:func:`.load.import_dir`) loads them into the SQLite store.
"""

from .engine import BatchSummary, LocalEngine, RayEngine, make_engine, run_batch
from .load import import_dir

__all__ = ["BatchSummary", "LocalEngine", "RayEngine", "make_engine", "run_batch", "import_dir"]
