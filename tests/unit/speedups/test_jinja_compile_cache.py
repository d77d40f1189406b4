"""The Jinja compiled-code cache of the strategy shim (ansible_plugins/speedups/jinja_compile_cache.py).

What matters: a cached template renders exactly what a fresh compile renders,
whatever reached the compile (backslash escaping, `#jinja2:` overrides,
expressions), later processes find the code on disk, and a damaged cache
costs a compile, never a wrong result.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from tests.unit.scripts._load import load

cache_module = load("video_pipeline_jinja_compile_cache", "ansible_plugins/speedups/jinja_compile_cache.py")

VARIABLES = {"name": "video", "count": 3, "items": [1, 2, 3], "pattern": "a_name"}
TEMPLATES = [
    "{{ name }}-{{ count + 1 }}",
    "{% for i in items %}{{ i * count }},{% endfor %}",
    # backslashes inside an expression are escaped only when ansible asks for it
    "{{ pattern | regex_replace('^(.*)_name$', '\\\\1') }}",
    "{{ 'c:\\\\new' }}",
    # per-template Jinja settings: another lexer, so another cache key
    "#jinja2:variable_start_string:'[%', variable_end_string:'%]'\n[% name %]-{{ name }}",
    "[% name %]-{{ name }}",
    "{{ items | map('string') | join('+') }} {{ name | upper }}",
]
CONDITIONALS = ["count > 2", "name is match('^vid')", "items | length == 4", "'\\\\' in pattern"]


def render_all(templar: Templar) -> list:
    rendered = []
    for escape in (True, False):
        for source in TEMPLATES:
            rendered.append(templar.template(trust_as_template(source), escape_backslashes=escape))
    rendered += [templar.evaluate_conditional(trust_as_template(c)) for c in CONDITIONALS]
    rendered.append(templar.evaluate_expression(trust_as_template("items | sum + count")))
    return rendered


@pytest.fixture
def templar() -> Templar:
    return Templar(loader=DataLoader(), variables=VARIABLES)


@pytest.fixture
def uncached(templar: Templar) -> list:
    cache_module.uninstall()
    return render_all(templar)


@pytest.fixture(autouse=True)
def _restore():
    yield
    cache_module.uninstall()


def cached_files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file()]


def test_cached_code_renders_what_a_fresh_compile_renders(tmp_path, templar, uncached):
    cache = cache_module.install([], tmp_path)
    first = render_all(templar)
    assert cache.counts["compiled"] > 0 and cache.counts["disk"] == 0
    again = render_all(templar)
    assert cache.counts["memory"] >= cache.counts["compiled"]
    assert first == again == uncached
    # both escape settings and the override header gave their own entries
    assert len(cached_files(tmp_path)) == cache.counts["compiled"]


def test_a_later_process_reads_the_code_from_disk(tmp_path, templar, uncached):
    cache_module.install([], tmp_path)
    render_all(templar)
    written = len(cached_files(tmp_path))
    later = cache_module.install([], tmp_path)  # a new process: empty memory, same directory
    assert render_all(templar) == uncached
    assert later.counts["compiled"] == 0
    assert later.counts["disk"] == written


def test_a_damaged_cache_costs_a_compile_not_a_wrong_result(tmp_path, templar, uncached):
    cache_module.install([], tmp_path)
    render_all(templar)
    for path in cached_files(tmp_path):
        path.write_bytes(b"not marshal data")
    later = cache_module.install([], tmp_path)
    assert render_all(templar) == uncached
    assert later.counts["disk"] == 0 and later.counts["compiled"] > 0


def test_an_unwritable_cache_only_costs_compiles(tmp_path, templar, uncached):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    cache = cache_module.install([], blocked / "jinja")
    assert render_all(templar) == uncached
    assert cache.counts["compiled"] > 0


def test_a_changed_filter_plugin_changes_every_key(tmp_path, templar):
    plugins = tmp_path / "collection" / "plugins" / "filter"
    plugins.mkdir(parents=True)
    (plugins / "mine.py").write_text("# v1\n")
    first = cache_module.install([str(tmp_path / "collection")], tmp_path / "cache")
    (plugins / "mine.py").write_text("# version 2\n")
    second = cache_module.install([str(tmp_path / "collection")], tmp_path / "cache")
    assert first.salt != second.salt


def test_template_errors_are_not_cached(tmp_path, templar):
    cache = cache_module.install([], tmp_path)
    with pytest.raises(Exception, match=r"(?i)syntax|unexpected"):
        templar.template(trust_as_template("{{ name | }}"))
    assert cache.counts["compiled"] == 0
    assert cached_files(tmp_path) == []
