"""The `traycourier` command: parse the arguments, call one function, print the result.

Commands that change something call `agent.engine.controls`, the functions the tray menu calls;
`run` hands over to `agent.cli.process`. Errors become one line on stderr: exit 2 for bad input,
1 for a database or process problem, never a traceback (unless `--debug`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from traycourier.agent import APP_NAME
from traycourier.agent.cli import process
from traycourier.agent.cli.parser import build_parser
from traycourier.agent.cli.values import UsageError, valid_utf8
from traycourier.store import InvalidInput, StoreError

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _dispatch(argv)
        finally:  # short output is still buffered: a closed pipe shows only at this flush
            sys.stdout.flush()
    except BrokenPipeError:  # `traycourier status | head -1`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit's flush too
        return 141


def _dispatch(argv: Sequence[str] | None) -> int:
    process.restore_child_environment()
    parser = build_parser()
    given = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in given
    try:
        valid_utf8(given)
        try:
            args = parser.parse_args(given)
        except SystemExit as done:  # --help, --version: printed; their status, not an error
            return done.code if isinstance(done.code, int) else 0
        if args.command is None:  # bare `traycourier`: what it can do, not "required: COMMAND"
            parser.print_help()
            return 2
        logging.basicConfig(
            level=logging.DEBUG if args.debug else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
        )
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
    except UsageError as err:
        print(f"{APP_NAME}: error: {err}", file=sys.stderr)
        return 2
    except InvalidInput as err:
        print(f"{APP_NAME}: error: {err}", file=sys.stderr)
        return 2
    except (StoreError, process.AlreadyRunning) as err:
        print(f"{APP_NAME}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise  # main() ends quietly
    except Exception as err:  # the last line of defence: never a traceback for a user
        if debug:
            raise
        print(
            f"{APP_NAME}: internal error: {err!r} (run with --debug for details)", file=sys.stderr
        )
        return 1
