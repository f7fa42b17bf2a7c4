"""The regional Progress Report: released figures laid out as HTML and PDF.

``render_report(inp, out_dir)`` is the renderer's public surface (`tipwatch.report.render`);
`tipwatch.report.charts` exposes the Vega-Lite builders for reuse on the web page.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_input", "render_report", "write_report"]


def __getattr__(name: str) -> Any:
    # Lazy: the renderer pulls in Altair and vl-convert, which a CLI start-up should not pay for.
    if name == "render_report":
        from tipwatch.report.render import render_report

        return render_report
    if name in ("build_input", "write_report", "snapshot_hash"):
        from tipwatch.report import build

        return getattr(build, name)
    raise AttributeError(f"module 'tipwatch.report' has no attribute {name!r}")
