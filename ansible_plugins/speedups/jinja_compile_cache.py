"""Compile each Jinja template once, not once per task: a compiled-code cache on disk.

ansible-core 2.19 compiles every template and conditional each time it renders
one (there is no compile cache), and most rendering happens in the worker
process forked for each task, so nothing compiled there outlives the task. A
no-op run of the six roles compiled ~1,900 times (~520 distinct sources) for
~2 s of CPU, about an eighth of the run.

This keeps Jinja's output (a Python code object) in memory and in
``.cache/jinja/`` beside the repository (``VIDEO_PIPELINE_JINJA_CACHE``
overrides it), the same idea as Jinja's own bytecode cache, which ansible does
not use. A worker forked for a task finds a template compiled by an earlier
task, or an earlier run, on disk. Code objects are written atomically (a
temporary file, then a rename), so parallel runs can share the directory.

The key is everything that shapes the generated code: the source, the kind
(template or expression), the environment's lexer settings and code generator,
ansible's backslash-escaping for this compile, and a salt of the ansible, Jinja
and Python versions plus the filter and test plugin files (Jinja's generated
code depends on how a filter takes its arguments). Templates compiled with
ansible's template debugging on are never cached. Any cache read or write
error falls back to compiling.

Loaded by the strategy shim (../strategy/mitogen_linear.py) in the controller
before the first task; forked workers inherit the patched environment class.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

import jinja2
from ansible._internal._templating import _jinja_bits
from ansible.release import __version__ as ansible_core_version
from jinja2.environment import TemplateExpression

DEFAULT_DIR = Path(__file__).resolve().parents[2] / ".cache" / "jinja"

_Environment = _jinja_bits.AnsibleEnvironment
_original_compile = _Environment.compile
_original_compile_expression = _Environment.compile_expression


class CompileCache:
    """Compiled template code by key: a dict in front of one file per key."""

    def __init__(self, directory: Path, salt: bytes) -> None:
        self.directory = Path(directory)
        self.salt = salt
        self.memory: dict[str, object] = {}
        self.counts = {"memory": 0, "disk": 0, "compiled": 0}

    def key(self, environment: _Environment, kind: str, source: str, *details: object) -> str:
        compile_context = _jinja_bits._TemplateCompileContext.current(optional=True)
        settings = (
            kind,
            type(environment).__qualname__,
            tuple(getattr(environment, name) for name in _jinja_bits._TEMPLATE_OVERRIDE_FIELD_NAMES),
            environment.optimized,
            environment.autoescape,
            environment.is_async,
            tuple(sorted(environment.extensions)),
            environment.code_generator_class.__qualname__,
            getattr(environment.finalize, "__qualname__", repr(environment.finalize)),
            _jinja_bits._TemplateConfig.allow_embedded_templates,
            bool(compile_context and compile_context.escape_backslashes),
            details,
        )
        digest = hashlib.sha256(self.salt)
        digest.update(repr(settings).encode())
        digest.update(b"\0")
        digest.update(str.encode(source, "utf-8", "surrogatepass"))
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / key

    def get(self, key: str):
        code = self.memory.get(key)
        if code is not None:
            self.counts["memory"] += 1
            return code
        try:
            # Trusted like __pycache__: only runs of this checkout write here.
            code = marshal.loads(self._path(key).read_bytes())  # noqa: S302
        except (OSError, ValueError, EOFError, TypeError):
            return None
        self.counts["disk"] += 1
        self.memory[key] = code
        return code

    def put(self, key: str, code) -> None:
        self.counts["compiled"] += 1
        self.memory[key] = code
        path = self._path(key)
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(marshal.dumps(code))
            os.replace(temporary, path)
        except OSError:
            pass  # a read-only or full disk only costs the next process a compile


_cache: CompileCache | None = None
_captured = threading.local()


def _compile(self, source, name=None, filename=None, raw=False, defer_init=False):
    if _cache is None or raw or self._debuggable_template_source:
        return _original_compile(self, source, name, filename, raw, defer_init)
    if isinstance(source, str):
        key = _cache.key(self, "template", source, name, filename, defer_init)
        code = _cache.get(key)
        if code is None:
            code = _original_compile(self, source, name, filename, raw, defer_init)
            _cache.put(key, code)
        return code
    # A parsed tree: Jinja's compile_expression hands over the expression's
    # template node; record the code for _compile_expression to keep.
    code = _original_compile(self, source, name, filename, raw, defer_init)
    captured = getattr(_captured, "codes", None)
    if captured is not None:
        captured.append(code)
    return code


def _compile_expression(self, source, undefined_to_none=True):
    if _cache is None or self._debuggable_template_source:
        return _original_compile_expression(self, source, undefined_to_none)
    key = _cache.key(self, "expression", source)
    code = _cache.get(key)
    if code is not None:
        # What Jinja's compile_expression builds around the compiled code.
        template = self.template_class.from_code(self, code, self.make_globals(None), None)
        return TemplateExpression(template, undefined_to_none)
    _captured.codes = []
    try:
        expression = _original_compile_expression(self, source, undefined_to_none)
    finally:
        codes, _captured.codes = _captured.codes, None
    if len(codes) == 1:
        _cache.put(key, codes[0])
    return expression


def plugin_fingerprint(plugin_roots: Iterable[str]) -> list[tuple[str, int, int]]:
    """Name, size and mtime of every filter and test plugin file under the given roots."""
    found = []
    for root in plugin_roots:
        for kind in ("filter", "test"):
            try:
                entries = list(os.scandir(os.path.join(root, "plugins", kind)))
            except OSError:
                continue
            for entry in entries:
                if entry.name.endswith(".py"):
                    stat = entry.stat()
                    found.append((entry.path, stat.st_size, stat.st_mtime_ns))
    return sorted(found)


def install(collection_dirs: Iterable[str], directory: str | os.PathLike | None = None) -> CompileCache:
    """Cache every compile of the ansible Jinja environment from now on (idempotent)."""
    global _cache
    import ansible

    roots = [os.path.dirname(ansible.__file__), *collection_dirs]
    salt = repr(
        (ansible_core_version, jinja2.__version__, sys.implementation.cache_tag, plugin_fingerprint(roots))
    ).encode()
    directory = directory or os.environ.get("VIDEO_PIPELINE_JINJA_CACHE") or DEFAULT_DIR
    _cache = CompileCache(Path(directory), hashlib.sha256(salt).digest())
    _Environment.compile = _compile
    _Environment.compile_expression = _compile_expression
    return _cache


def uninstall() -> None:
    global _cache
    _cache = None
    _Environment.compile = _original_compile
    _Environment.compile_expression = _original_compile_expression
