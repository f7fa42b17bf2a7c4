"""The web application (`tipwatch serve`): the submission workflow, the dashboard and the API.

`create_app` builds the FastAPI application over one store: embedded on a DuckDB file (one
process), or multi-user on PostgreSQL. Who may do and see what is decided in `auth`,
`workflow` and `dashboard` (the query layer), never in the pages alone.
"""

from tipwatch.web.app import create_app

__all__ = ["create_app"]
