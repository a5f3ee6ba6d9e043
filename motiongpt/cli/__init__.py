"""The `motiongpt` command line: one entry point, one module per group of subcommands.

Each module in COMMAND_MODULES defines ``register(groups)``, where ``groups`` maps
"top", "train", "eval" and "data" to argparse sub-parser collections; every parser it adds
sets ``func`` (a callable taking the parsed args and returning an exit code). Heavy imports
(torch, pinocchio, mujoco) happen inside those functions so that ``--help`` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

COMMAND_MODULES: tuple[str, ...] = (
    "motiongpt.cli.data_commands",
    "motiongpt.cli.render_command",
    "motiongpt.cli.tokenizer_commands",
    "motiongpt.cli.lm_commands",
    "motiongpt.cli.retarget_commands",
    "motiongpt.cli.onnx_commands",
    "motiongpt.cli.meaning_commands",  # after onnx_commands: adds an export format
    "motiongpt.cli.checkpoint_commands",  # the same
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="motiongpt",
        description="MotionGPT motion-language model, data, training, evaluation and robot retargeting.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    top = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    groups = {"top": top}
    for name, help_text in (
        ("data", "build and inspect motion datasets"),
        ("train", "train a model (tokenizer or language model)"),
        ("eval", "evaluate a model or the retargeter and print JSON metrics"),
    ):
        group_parser = top.add_parser(name, help=help_text, description=help_text)
        groups[name] = group_parser.add_subparsers(dest=f"{name}_command", metavar="WHAT", required=True)
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue  # that command group is not built yet
        module.register(groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as error:
        # Bad input (a malformed motion, a missing file, a corrupt checkpoint): one clear line.
        print(f"motiongpt: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
