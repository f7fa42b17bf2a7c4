"""The regional Progress Report: released figures in, HTML and PDF out.

`build_input` gathers what a report shows (`tipwatch.report.build`); `render_report` lays it out
(`tipwatch.report.render`); `write_report` does both. `tipwatch.report.charts` exposes the
Vega-Lite chart builders for reuse on the web page.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_input", "render_report", "write_report"]

_HOMES = {
    "build_input": "tipwatch.report.build",
    "write_report": "tipwatch.report.build",
    "render_report": "tipwatch.report.render",
}


def __getattr__(name: str) -> Any:
    # Lazy: the builder pulls in ibis and the store, the renderer Altair and vl-convert; a CLI
    # start-up (or a test of one of them) should not pay for the other.
    if name in _HOMES:
        from importlib import import_module

        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'tipwatch.report' has no attribute {name!r}")
