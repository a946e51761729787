"""``newstrace serve``: run the app on uvicorn."""

from __future__ import annotations

import os
import sys


def serve(db: str, *, host: str = "127.0.0.1", port: int = 8000, max_body: int = 10_000_000,
          access_log: bool = False, quiet: bool = False) -> None:
    """Serve the store at ``db`` until interrupted; writes only with ``NEWSTRACE_TOKEN`` set."""
    import uvicorn

    from .app import create_app

    token = os.environ.get("NEWSTRACE_TOKEN") or None
    app = create_app(db, token=token, max_body=max_body)
    if not quiet:
        mode = "writes need the bearer token in NEWSTRACE_TOKEN" if token else "read-only (no NEWSTRACE_TOKEN)"
        print(f"newstrace: serving {db} on http://{host}:{port}/ ; {mode}", file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning" if quiet else "info", access_log=access_log,
                server_header=False)
