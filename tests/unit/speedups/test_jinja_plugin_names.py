"""Filter and test names resolved once per process (ansible_plugins/speedups/jinja_plugin_names.py)."""

from __future__ import annotations

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.plugins import loader as plugin_loader
from ansible.template import Templar, trust_as_template

from tests.unit.scripts._load import load

names = load("video_pipeline_jinja_plugin_names", "ansible_plugins/speedups/jinja_plugin_names.py")


@pytest.fixture(autouse=True)
def installed():
    names.install()
    yield
    names.uninstall()


def test_answers_are_what_ansible_answers():
    for loader, name in [
        (plugin_loader.filter_loader, "ansible.builtin.combine"),
        (plugin_loader.filter_loader, "to_json"),
        (plugin_loader.test_loader, "ansible.builtin.match"),
    ]:
        first = loader.get(name)
        assert first is loader.get(name)  # remembered
        assert first.ansible_name == names._original_get_with_context(loader, name).object.ansible_name


def test_jinja_own_names_stay_unknown_to_ansible_every_time():
    for _ in range(3):
        with pytest.raises(KeyError):
            plugin_loader.filter_loader.get("length")
        with pytest.raises(KeyError):
            plugin_loader.filter_loader.get("no_such_filter_anywhere")


def test_warm_learns_jinja_names_and_templates_still_render():
    assert names.warm() >= 50
    templar = Templar(loader=DataLoader(), variables={"items": [3, 1, 2]})
    assert templar.template(trust_as_template("{{ items | sort | map('string') | join('-') }}")) == "1-2-3"
    merged = trust_as_template("{{ items | length }} {{ {'a': 1} | combine({'b': 2}) | length }}")
    assert templar.template(merged) == "3 2"


def test_new_plugin_paths_forget_the_answers():
    names.warm()
    plugin_loader.filter_loader._clear_caches()
    assert names._answers == {}
