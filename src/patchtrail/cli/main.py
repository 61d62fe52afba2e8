"""Entry point: the command group and the one-line error contract."""

from __future__ import annotations

import importlib
import sys

import click

from patchtrail import __version__
from patchtrail.cli.common import fail
from patchtrail.cli.errors import expected

# Each command's module, imported only when that command runs (or --help lists them):
# `patchtrail dig` should not pay for importing the web UI, the HTML report and httpx.
COMMANDS = {
    "index": "patchtrail.cli.index_cmd:index",
    "dig": "patchtrail.cli.dig_cmd:dig",
    "demo": "patchtrail.cli.demo_cmd:demo",
    "series": "patchtrail.cli.series_cmd:series",
    "origin": "patchtrail.cli.origin_cmd:origin",
    "story": "patchtrail.cli.story_cmd:story",
    "serve": "patchtrail.cli.serve_cmd:serve",
    "mirror": "patchtrail.cli.mirror_cmd:mirror",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (click's documented pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="patchtrail")
def cli() -> None:
    """The story of a line of code: the commit, the patch email it came from, and beyond."""


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
    except Exception as exc:
        if not isinstance(exc, expected()):
            raise
        fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    sys.exit(rv if isinstance(rv, int) else 0)
