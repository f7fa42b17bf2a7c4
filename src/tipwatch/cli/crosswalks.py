"""`tipwatch crosswalks`: list the crosswalks in use; `tipwatch crosswalks check FILE`: check one of yours."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tipwatch.cli import app, out
from tipwatch.cli.options import Json

crosswalks_app = typer.Typer(
    name="crosswalks",
    help="List the crosswalks that map national categories to tipwatch codes, or check your own.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(crosswalks_app)

Extra = Annotated[
    list[Path] | None,
    typer.Option("--crosswalk", help="A crosswalk file of your own to list first, as `import --crosswalk` would "
                                     "use it; repeat for several."),
]


def _where(path: Path) -> str:
    from tipwatch import reference

    try:
        return "reference/data/" + path.resolve().relative_to(reference.DATA.resolve()).as_posix()
    except ValueError:
        return str(path)


@crosswalks_app.callback()
def crosswalks_cmd(ctx: typer.Context, crosswalk: Extra = None, as_json: Json = False) -> None:
    """List every crosswalk in the order they are tried: id, domains, rows, file."""
    if ctx.invoked_subcommand is not None:
        return
    from tipwatch.harmonise import Harmoniser, bundled

    h = Harmoniser(tuple(crosswalk or ()))
    used = [*h.crosswalks, *(c for c in bundled() if c.layout != "crosswalk")]
    rows = [{"id": c.id, "domains": list(c.domains) if c.layout == "crosswalk" else [],
             "rows": c.rows, "origin": c.origin, "layout": c.layout, "file": _where(c.path)} for c in used]
    if as_json:
        out.print_json(json.dumps({"crosswalks": rows}))
        return
    table = Table("id", "domains", "rows", "from", "file")
    for r in rows:
        domains = ", ".join(r["domains"]) if r["layout"] == "crosswalk" else "(GLOTIP importer only)"
        table.add_row(escape(r["id"]), domains, f"{r['rows']:,}", r["origin"], escape(r["file"]))
    out.print(table)
    out.print("Tried in this order (the first match wins), then the built-in matches: codes and labels of each "
              "code list, ISO2 codes and English names of countries.")


@crosswalks_app.command("check")
def check_cmd(
    file: Annotated[Path, typer.Argument(help="The crosswalk file to check.", show_default=False)],
    as_json: Json = False,
) -> None:
    """Check a crosswalk file: every problem at once, with its line; and what it changes."""
    from tipwatch.harmonise import CrosswalkError, Harmoniser, read_crosswalk

    try:
        cw = read_crosswalk(file)
    except CrosswalkError as exc:
        if as_json:
            out.print_json(json.dumps({"valid": False, "problems": exc.problems}))
            raise typer.Exit(1) from None
        raise
    # What the file changes: labels the bundled crosswalks or built-in matches map otherwise.
    base = Harmoniser()
    changes = []
    for domain, table in cw.table.items():
        for label, code in table.items():
            before = base.lookup(domain, label)
            if before is not None and before != code:
                changes.append({"domain": domain, "label": cw.labels[domain, label], "code": code,
                                "instead_of": before})
    if as_json:
        out.print_json(json.dumps({"valid": True, "id": cw.id, "rows": cw.rows, "domains": list(cw.domains),
                                   "changes": changes}))
        return
    out.print(f"{escape(file.name)}: a valid crosswalk, {cw.rows:,} row{'s' if cw.rows != 1 else ''} "
              f"mapping into {', '.join(cw.domains) or 'nothing'}")
    for c in changes:
        out.print(f"  {c['domain']} {escape(c['label'])!r} → {c['code']} (instead of {c['instead_of']})")
    out.print(f"Use it with: tipwatch import FILE --crosswalk {escape(str(file))}")
