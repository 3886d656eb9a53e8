"""The catalog a running bot answers from, reloaded on demand; a broken reload keeps the last good one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.answers.core import Answers
from bot.catalog import Catalog, CatalogError, PolicyProblem, load_catalog


class LiveCatalog:
    """Holds the current catalog and its answers; swapped whole, so a reader never sees half a reload."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        # What to call on each bug met while answering; the running bot sets it to a metrics counter.
        self.on_bug: Callable[[], None] = lambda: None
        self.answers = Answers(load_catalog(directory), on_bug=self._bug)

    @property
    def catalog(self) -> Catalog:
        return self.answers.catalog

    def reload(self) -> list[PolicyProblem]:
        """Re-read the policy files; on problems keep the current catalog and return them."""
        try:
            catalog = load_catalog(self.directory)
        except CatalogError as error:
            return error.problems
        self.answers = Answers(catalog, on_bug=self._bug)
        return []

    def _bug(self) -> None:
        self.on_bug()  # looked up at each call: set after the answers were built, kept across reloads
