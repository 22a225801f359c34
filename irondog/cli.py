"""The ``irondog`` command line. Each sub-command lives in its own ``irondog.cmd_*`` module,
imported only when it runs, so ``irondog --help`` stays fast."""

from __future__ import annotations

import argparse
import importlib
import sys

from irondog import __version__
from irondog.errors import USER_ERRORS, UserError

__all__ = ["COMMANDS", "UserError", "build_parser", "main", "print_report"]  # UserError: old path

# name -> module; a module defines register(parser) and run(args) -> int.
COMMANDS: dict[str, str] = {
    "envs": "irondog.cmd_envs",
    "bench-env": "irondog.cmd_bench_env",
    "train": "irondog.cmd_train",
    "eval": "irondog.cmd_eval",
    "average": "irondog.cmd_average",
    "render": "irondog.cmd_render",
    "report": "irondog.cmd_report",
    "view": "irondog.cmd_view",
    "export": "irondog.cmd_export",
    "play-onnx": "irondog.cmd_play_onnx",
    "deploy": "irondog.cmd_deploy",
    "sim-robot": "irondog.cmd_sim_robot",
    "motor": "irondog.cmd_motor",
    "voice": "irondog.cmd_voice",
}


def interrupt(signum: int, frame: object) -> None:
    """A signal handler that ends the command as Ctrl-C does (raises KeyboardInterrupt)."""
    raise KeyboardInterrupt(f"signal {signum}")


def stop_on_signals() -> None:
    """Ctrl-C (SIGINT) and SIGTERM (kill, systemd stop) both raise KeyboardInterrupt, the path
    on which a loop stops its motors; SIGINT even where the shell ignored it."""
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)


def print_report(report: dict, as_json: bool) -> None:
    """Print a flat report as indented JSON or as aligned ``key: value`` lines."""
    if as_json:
        import json

        print(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        shown = f"{value:.3f}" if isinstance(value, float) else value
        print(f"{key:>22}: {shown}")


def show_defaults(parser: argparse.ArgumentParser) -> None:
    """Append "(default: X)" to the help of every option of ``parser`` (and of its
    sub-commands) that has a default its help does not already give."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                show_defaults(child)
            continue
        text = action.help or ""
        if (
            any(action.default is v for v in (None, False, argparse.SUPPRESS))
            or action.default == []
            or not action.option_strings
            or action.help == argparse.SUPPRESS
            or "%(default)" in text
            or "default" in text.lower()
        ):
            continue
        action.help = f"{text} (default: %(default)s)" if text else "default: %(default)s"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="irondog", description="Robot learning for CyberDog-style quadrupeds."
    )
    parser.add_argument("--version", action="version", version=f"irondog {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name == module_name:
                continue  # not built yet
            raise
        doc = (module.__doc__ or "").strip().splitlines()
        sub_parser = sub.add_parser(
            name,
            help=doc[0] if doc else None,
            description=module.__doc__,
            # The module docstrings hold usage examples: keep their lines as written.
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.register(sub_parser)
        show_defaults(sub_parser)
        sub_parser.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except USER_ERRORS as err:  # the one place user errors are caught
        print(f"irondog {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
