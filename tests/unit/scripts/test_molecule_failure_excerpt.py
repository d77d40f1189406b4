"""scripts/molecule_all.py: the summary repeats why a scenario failed."""

from __future__ import annotations

from _load import load

molecule_all = load("molecule_all", "scripts/molecule_all.py")


def numbered(count: int, prefix: str = "line") -> list[str]:
    return [f"{prefix} {n}\n" for n in range(count)]


def test_unreachable_task_is_quoted_with_its_message_though_destroy_follows():
    failure = [
        "TASK [Probe the emulator] ****\n",
        "fatal: [localhost]: UNREACHABLE! => \n",
        "    changed: false\n",
        "    msg: 'Task failed: Connection timed out.'\n",
        "    unreachable: true\n",
    ]
    lines = numbered(50, "converge") + failure + numbered(400, "destroy")
    excerpt = molecule_all.failure_excerpt(lines)
    assert excerpt[0] == "fatal: [localhost]: UNREACHABLE! => \n"
    assert "    msg: 'Task failed: Connection timed out.'\n" in excerpt
    assert len(excerpt) == molecule_all.FAILURE_CONTEXT
    assert not any(line.startswith("converge") for line in excerpt)


def test_every_failure_in_order_and_ansible_errors_count():
    lines = [*numbered(5), "fatal: [localhost]: FAILED! => first\n", *numbered(30, "a")]
    lines += ["[ERROR]: Task failed: second\n", *numbered(3, "b")]
    excerpt = molecule_all.failure_excerpt(lines)
    assert excerpt[0].startswith("fatal: ")
    assert "[ERROR]: Task failed: second\n" in excerpt
    assert excerpt[-1] == "b 2\n"


def test_excerpt_is_capped():
    lines = ["fatal: [localhost]: FAILED! => x\n"] * 500
    assert len(molecule_all.failure_excerpt(lines)) == molecule_all.FAILURE_EXCERPT_MAX


def test_without_a_failure_line_the_last_lines_are_shown():
    lines = numbered(100)
    assert molecule_all.failure_excerpt(lines) == lines[-molecule_all.FAILURE_CONTEXT :]


def test_a_harmless_critical_line_is_not_taken_for_the_failure():
    lines = ["CRITICAL default/molecule.yml glob failed\n", *numbered(100)]
    assert molecule_all.failure_excerpt(lines)[0] != lines[0]
