"""The command line: `tipwatch COMMAND`. One module per command, registered on one app.

Errors reach the person as one clear sentence and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys

import typer
from rich.console import Console
from rich.markup import escape
from typer.exceptions import Abort, Exit, TyperException

from tipwatch.errors import TipwatchError

app = typer.Typer(
    name="tipwatch",
    help="Monitor criminal justice responses to trafficking in persons and write the Progress Report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def _register() -> None:
    from tipwatch.cli import (  # noqa: F401
        assessments,
        crosswalks,
        demo,
        export,
        imports,
        indicators,
        privacy,
        report,
        revisions,
        serve,
        submissions,
        synth,
        template,
        users,
        victims,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return its exit code.

    Args:
        argv: The arguments; None for this process's own command line (the ``tipwatch`` script).
    """
    if argv is None:
        # The process ends when the command returns. Python's last garbage collection would first
        # walk every object the command left behind (1.5 s after a report, of its 14 s); frozen,
        # they go back to the system with the process. Callers that pass argv (tests) keep theirs.
        atexit.register(gc.freeze)
    _register()
    try:
        rc = app(args=argv, standalone_mode=False)
        if isinstance(rc, int) and rc:  # typer returns the code of a `raise typer.Exit(code)`
            return rc
    except TipwatchError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        for line in getattr(exc, "details", lambda: [])():
            err.print(f"  {escape(line)}")
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted; nothing was changed by the unfinished step.")
        return 130
    except Exit as exc:
        return exc.exit_code
    except Abort:
        return 1
    except TyperException as exc:  # usage errors: unknown option, missing argument, …
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            err.print(f"[bold red]error:[/] {escape(str(exc))}")
        return exc.exit_code
    except Exception as exc:
        if os.environ.get("TIPWATCH_DEBUG"):
            raise
        err.print(f"[bold red]internal error:[/] {escape(type(exc).__name__)}: {escape(str(exc))} "
                  "(a defect in tipwatch: run again with TIPWATCH_DEBUG=1 and report the traceback)")
        return 70
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
