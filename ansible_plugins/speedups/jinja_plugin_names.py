"""Resolve each Jinja filter and test name once per run, in the controller.

ansible-core looks a filter or test name up again for every Jinja environment
(about one per task), and a name that is Jinja's own (``default``, ``length``,
``map``, ...) first goes the slow way through the collection loader, a miss,
before ansible falls back to Jinja's function: 1-4 ms each, ~300 times in a
no-op run of the six roles, mostly in the worker forked for each task, where
nothing learned survives the task.

This remembers each answer (plugin or "no such plugin") per process, and
looks Jinja's own names up in the controller before the first task, so every
forked worker inherits those answers. The plugins on disk cannot change during
a run.

Loaded by the strategy shim (../strategy/mitogen_linear.py).
"""

from __future__ import annotations

import contextlib

import jinja2.defaults
from ansible.plugins import loader as plugin_loader

_original_get_with_context = plugin_loader.Jinja2Loader.get_with_context
_NOT_FOUND = object()
_answers: dict = {}


def _get_with_context(self, name, *args, **kwargs):
    if args or kwargs:  # not how the templating engine asks: leave it alone
        return _original_get_with_context(self, name, *args, **kwargs)
    key = (self.type, self.package, name)
    answer = _answers.get(key)
    if answer is None:
        try:
            answer = _original_get_with_context(self, name)
        except KeyError:
            answer = _NOT_FOUND
        _answers[key] = answer
    if answer is _NOT_FOUND:
        raise KeyError(name)
    return answer


def warm() -> int:
    """Resolve Jinja's own filter and test names now; returns how many answers are known."""
    for loader, names in (
        (plugin_loader.filter_loader, jinja2.defaults.DEFAULT_FILTERS),
        (plugin_loader.test_loader, jinja2.defaults.DEFAULT_TESTS),
    ):
        for name in names:
            with contextlib.suppress(KeyError):  # Jinja's own: "not an ansible plugin", remembered
                loader.get_with_context(name)
    return len(_answers)


_original_clear_caches = plugin_loader.Jinja2Loader._clear_caches


def _clear_caches(self):
    # ansible drops its plugin caches when it learns new plugin paths (e.g. a
    # role's own filter_plugins): forget the answers with them.
    _answers.clear()
    return _original_clear_caches(self)


def install() -> None:
    plugin_loader.Jinja2Loader.get_with_context = _get_with_context
    plugin_loader.Jinja2Loader._clear_caches = _clear_caches


def uninstall() -> None:
    plugin_loader.Jinja2Loader.get_with_context = _original_get_with_context
    plugin_loader.Jinja2Loader._clear_caches = _original_clear_caches
    _answers.clear()
