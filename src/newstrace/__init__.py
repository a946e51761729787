"""newstrace: read crawled news the way an experienced news editor would.

Stages, in pipeline order: :mod:`read`, :mod:`clean`, :mod:`describe`, :mod:`dedup`,
:mod:`cluster`, :mod:`attribute`, :mod:`compare`, :mod:`store`, :mod:`report`;
:mod:`pipeline` runs them, :mod:`cli` is the command line.
"""

__version__ = "0.1.0"
