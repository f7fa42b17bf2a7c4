"""The web application (`tipwatch serve`): the submission workflow, the dashboard and the API.

`create_app` builds the FastAPI application over one store: embedded on a DuckDB file (one
process), or multi-user on PostgreSQL. Who may see which figures is decided in
`access` (the query layer), who may take which step in `workflow` and `publish`, never in the
pages alone.
"""

from tipwatch.web.app import create_app

__all__ = ["create_app"]
