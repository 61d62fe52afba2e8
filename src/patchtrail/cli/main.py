"""Entry point: the command group and the one-line error contract."""

from __future__ import annotations

import sys

import click

from patchtrail import __version__
from patchtrail.cli.common import fail
from patchtrail.cli.errors import EXPECTED


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="patchtrail")
def cli() -> None:
    """The story of a line of code: the commit, the patch email it came from, and beyond."""


def _register() -> None:
    from patchtrail.cli import demo_cmd, dig_cmd, index_cmd

    cli.add_command(index_cmd.index)
    cli.add_command(dig_cmd.dig)
    cli.add_command(demo_cmd.demo)
    from patchtrail.cli import series_cmd

    cli.add_command(series_cmd.series)
    from patchtrail.cli import origin_cmd

    cli.add_command(origin_cmd.origin)
    from patchtrail.cli import story_cmd

    cli.add_command(story_cmd.story)
    from patchtrail.cli import serve_cmd

    cli.add_command(serve_cmd.serve)
    from patchtrail.cli import mirror_cmd

    cli.add_command(mirror_cmd.mirror)


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; usage errors and expected failures become one line and exit code 2."""
    try:
        rv = cli.main(args=argv, prog_name="patchtrail", standalone_mode=False)
    except click.UsageError as exc:
        cmd = exc.ctx.command_path if exc.ctx else "patchtrail"
        fail(f"{cmd}: {exc.format_message()} (see `{cmd} --help`)")
    except click.Abort:
        fail("aborted")
    except click.ClickException as exc:
        fail(exc.format_message())
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except EXPECTED as exc:
        fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    sys.exit(rv if isinstance(rv, int) else 0)
