"""moeprof command line (the click group; the console entry point is moeprof.cli.entry). Each command lives in its own module under moeprof/cli/ and is
registered below; modules import heavy or optional packages (torch) inside the command only,
so `moeprof plan` never imports torch.

Errors: a MoeprofError or a bad option value is one line on stderr and exit 1; a usage error
(unknown option, missing argument) is exit 2; never a traceback.
"""

from __future__ import annotations

import io
import os
import sys
import warnings

import click

from .. import __version__, tempfiles
from ..errors import FlagError, MoeprofError, one_line

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class PipeClosed(Exception):
    """The reader of our output went away (`moeprof ... | head -1`): a normal end. Not an
    OSError, so click's own handler (which exits 1) never sees it."""


class Interrupted(BaseException):
    """Ctrl-C inside a command, kept from click's own handler (which prints a blank line and
    turns it into Abort)."""


class _Group(click.Group):
    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except BrokenPipeError:
            raise PipeClosed from None
        except KeyboardInterrupt:
            raise Interrupted from None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise PipeClosed from None
        except KeyboardInterrupt:
            raise Interrupted from None


@click.group(cls=_Group, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="moeprof")
def cli():
    """moeprof: cost/performance profiler and capacity planner for MoE LLM inference.

    Data: built-in model configs, GPU and Azure VM catalogs and GPU profiles, each value with
    its source (`moeprof models show NAME`, `moeprof hardware`)."""


def _register():
    from . import (
        calibrate_cmd,
        catalog_cmds,
        compare_cmd,
        data_cmd,
        estimate_cmd,
        evaluate_cmd,
        memory_cmd,
        plan_cmd,
        prices_cmd,
        probe_cmds,
        profile_cmds,
        report_cmds,
    )

    for cmd in (
        catalog_cmds.models, catalog_cmds.hardware, memory_cmd.memory, plan_cmd.plan, compare_cmd.compare,
        estimate_cmd.estimate, evaluate_cmd.evaluate, probe_cmds.probe, probe_cmds.telemetry, probe_cmds.validate,
        report_cmds.report, report_cmds.export, calibrate_cmd.calibrate, profile_cmds.profile, prices_cmd.prices,
        data_cmd.data,
    ):
        cli.add_command(cmd)


_register()


def _say(message: str) -> None:
    """One line on stderr, whatever the message holds (control characters are escaped)."""
    try:
        click.echo(f"moeprof: {one_line(message)}", err=True)
    except (OSError, ValueError):
        pass


def _quiet_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the exit flush raises nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass


def main(argv=None, console: bool = False) -> int:
    """Entry point: run the click group, mapping errors to one line and an exit code.

    Exit codes: 0 ok (a closed output pipe is a normal end), 1 error, 2 usage error,
    130 interrupted, 143 terminated. Standard output is flushed and checked before exit 0, so
    a full disk or a file size limit is an error, not a truncated file."""
    rc = _run(argv)
    if rc != _BROKEN_PIPE:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            rc = 0 if rc in (0, 1) else rc
            if console:
                _quiet_stdout()
        except (OSError, ValueError) as e:
            if rc == 0:  # a failure already reported keeps its one line
                _say(f"error: cannot write to standard output: {getattr(e, 'strerror', None) or e}")
                rc = 1
            if console:  # what is left in the buffer must not fail again at exit
                _quiet_stdout()
    elif rc == _BROKEN_PIPE:
        rc = 0
        if console:
            _quiet_stdout()
    tempfiles.remove_all()
    return rc


_BROKEN_PIPE = -1


def _run(argv) -> int:
    from .signals import Terminated

    args = sys.argv[1:] if argv is None else list(argv)
    if any("\x00" in str(a) for a in args):  # only in-process callers can pass one
        _say("usage error: an argument cannot hold a NUL character")
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy RuntimeWarnings are not for users
            cli.main(args=argv, prog_name="moeprof", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        _say("aborted")
        return 130
    except click.MissingParameter as e:
        ctx = e.ctx
        hint = f" (see '{ctx.command_path} -h')" if ctx is not None else ""
        _say(f"usage error: {e.format_message()}{hint}")
        return 2
    except click.BadParameter as e:
        _say(f"error: {e.format_message()}")
        return 1
    except click.UsageError as e:
        ctx = e.ctx
        hint = f" (see '{ctx.command_path} -h')" if ctx is not None else ""
        _say(f"usage error: {e.format_message()}{hint}")
        return 2
    except click.ClickException as e:
        _say(f"error: {e.format_message()}")
        return 1
    except FlagError as e:
        _say(f"{'usage error' if e.usage else 'error'}: {e}")
        return 2 if e.usage else 1
    except MoeprofError as e:
        _say(f"error: {e}")
        return 1
    except (BrokenPipeError, PipeClosed):
        return _BROKEN_PIPE
    except (KeyboardInterrupt, Interrupted):
        _say("interrupted")
        return 130
    except Terminated:
        _say("terminated")
        return 143
    except MemoryError:
        command = next((a for a in args if not str(a).startswith("-")), "")
        if command in ("plan", "compare"):
            _say("error: out of memory (raise the memory limit, or narrow the search: fewer --sku, --quant, --max-vms)")
        else:
            _say(f"error: out of memory in {command or 'moeprof'} (raise the memory limit, or give it smaller input files)")
        return 1
    except OSError as e:
        if os.environ.get("MOEPROF_DEBUG"):
            raise
        where = f"{e.filename}: " if getattr(e, "filename", None) else "cannot write output: "
        _say(f"error: {where}{e.strerror or e}")
        return 1
    except SystemExit as e:
        code = e.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except Exception as e:  # a bug: one line for users, the traceback with MOEPROF_DEBUG=1
        if os.environ.get("MOEPROF_DEBUG"):
            raise
        _say(f"internal error: {type(e).__name__}: {e} (set MOEPROF_DEBUG=1 for the traceback)")
        return 1
    return 0
