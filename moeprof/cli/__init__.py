"""moeprof command line. Each command lives in its own module under moeprof/cli/ and is
registered below; modules import heavy or optional packages (torch) inside the command only,
so `moeprof plan` never imports torch.

Errors: a MoeprofError or a bad option value is one line on stderr and exit 1; a usage error
(unknown option, missing argument) is exit 2; never a traceback.
"""

from __future__ import annotations

import os
import sys

import click

from ..errors import MoeprofError
from .. import __version__

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="moeprof")
def cli():
    """moeprof: cost/performance profiler and capacity planner for MoE LLM inference.

    Data: built-in model configs, GPU and Azure VM catalogs and GPU profiles, each value with
    its source (`moeprof models show NAME`, `moeprof hardware`)."""


def _register():
    from . import catalog_cmds, estimate_cmd, evaluate_cmd, memory_cmd, plan_cmd, probe_cmds, report_cmds

    for cmd in (
        catalog_cmds.models, catalog_cmds.hardware, memory_cmd.memory, plan_cmd.plan, plan_cmd.compare,
        estimate_cmd.estimate, evaluate_cmd.evaluate, probe_cmds.probe, probe_cmds.telemetry, probe_cmds.validate, report_cmds.report,
        report_cmds.export,
    ):
        cli.add_command(cmd)


_register()


def main(argv=None) -> int:
    """Entry point: run the click group, mapping errors to one line and an exit code."""
    try:
        cli.main(args=argv, prog_name="moeprof", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("moeprof: aborted", err=True)
        return 130
    except click.MissingParameter as e:
        ctx = e.ctx
        hint = f" (see '{ctx.command_path} -h')" if ctx is not None else ""
        click.echo(f"moeprof: usage error: {e.format_message()}{hint}", err=True)
        return 2
    except click.BadParameter as e:
        click.echo(f"moeprof: error: {e.format_message()}", err=True)
        return 1
    except click.UsageError as e:
        ctx = e.ctx
        hint = f" (see '{ctx.command_path} -h')" if ctx is not None else ""
        click.echo(f"moeprof: usage error: {e.format_message()}{hint}", err=True)
        return 2
    except click.ClickException as e:
        click.echo(f"moeprof: error: {e.format_message()}", err=True)
        return 1
    except MoeprofError as e:
        click.echo(f"moeprof: error: {e}", err=True)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        click.echo("moeprof: interrupted", err=True)
        return 130
    except Exception as e:  # a bug: one line for users, the traceback with MOEPROF_DEBUG=1
        if os.environ.get("MOEPROF_DEBUG"):
            raise
        click.echo(f"moeprof: internal error: {type(e).__name__}: {e} (set MOEPROF_DEBUG=1 for the traceback)", err=True)
        return 1
    return 0


def entry():  # pragma: no cover - console script shim
    sys.exit(main())
