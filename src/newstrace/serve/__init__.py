"""newstrace serve: the newsroom view, a web app and HTTP API over the store."""

from .app import create_app

__all__ = ["create_app"]
