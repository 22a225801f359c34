"""List the registered environments."""

from __future__ import annotations

import argparse


def register(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace) -> int:
    from irondog.envs import registry

    for name in registry.names():
        print(f"{name:40s} {registry.spec(name).description}")
    return 0
