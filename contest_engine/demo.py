"""Registry of demo-data loaders run by ``manage.py load_demo``.

Each app adds its demo data in a module named ``demo`` (``<app>/demo.py``)::

    from contest_engine.demo import demo_loader

    @demo_loader(order=20)
    def load(stdout) -> None:
        ...  # create or update rows; print credentials or URLs with stdout.write(...)

Loaders run in ascending ``order`` (ties by name), each in its own transaction. They must be idempotent:
``load_demo`` may run many times on the same database (``make demo`` runs it on every start), and a
second run must leave the same rows. Look rows up by a natural key (slug, username, title) and use
``update_or_create``; never create unconditionally. Orders used so far: 10 accounts (organisations,
staff, citizen).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LoaderFunc = Callable[[Any], object]


@dataclass(frozen=True)
class DemoLoader:
    name: str
    order: int
    func: LoaderFunc


_loaders: dict[str, DemoLoader] = {}


def demo_loader(*, order: int = 50, name: str | None = None) -> Callable[[LoaderFunc], LoaderFunc]:
    """Register ``func(stdout)`` as a demo-data loader."""

    def register(func: LoaderFunc) -> LoaderFunc:
        loader_name = name or f"{func.__module__}.{func.__qualname__}"
        _loaders[loader_name] = DemoLoader(loader_name, order, func)
        return func

    return register


def demo_loaders() -> list[DemoLoader]:
    """All loaders of the installed apps, discovered from their ``demo`` modules, in run order."""
    from django.apps import apps
    from django.utils.module_loading import module_has_submodule

    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "demo"):
            importlib.import_module(f"{config.name}.demo")
    return sorted(_loaders.values(), key=lambda loader: (loader.order, loader.name))
