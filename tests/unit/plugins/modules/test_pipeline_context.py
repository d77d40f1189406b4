"""pipeline_context: the endpoint check and the caller identity (mocked socket and STS)."""

from __future__ import annotations

from unittest.mock import MagicMock

from ansible_collections.streamflix.video_pipeline.plugins.modules import pipeline_context as mod

from tests.unit.plugins.modules.fakes import client_error, run_main

IDENTITY = {"Account": "123456789012", "Arn": "arn:aws:sts::123456789012:assumed-role/deployer/s", "UserId": "AROA:s"}


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_endpoint_that_answers_after_a_refusal_counts_as_up():
    clock = Clock()
    attempts = []

    def connect(address, timeout):
        attempts.append(address)
        if len(attempts) == 1:
            raise ConnectionRefusedError
        return MagicMock()

    assert mod.endpoint_accepts_connections("http://127.0.0.1:4566", 3, connect, clock, clock.sleep)
    assert attempts == [("127.0.0.1", 4566)] * 2


def test_endpoint_that_never_answers_is_given_up_after_the_timeout():
    clock = Clock()

    def refuse(address, timeout):
        raise ConnectionRefusedError

    assert not mod.endpoint_accepts_connections("https://example.invalid", 3, refuse, clock, clock.sleep)
    assert 3 <= clock.now < 3.5


def test_identity_and_partition_are_returned():
    sts = MagicMock()
    sts.get_caller_identity.return_value = IDENTITY
    result, services = run_main(mod.main, {"region": "us-east-1"}, {"sts": sts})
    assert result["failed"] is False and result["changed"] is False
    assert result["account"] == "123456789012" and result["partition"] == "aws"
    assert result["arn"] == IDENTITY["Arn"]
    assert services == ["sts"]


def test_stopped_emulator_fails_with_the_hint_before_any_call(monkeypatch):
    monkeypatch.setattr(mod, "endpoint_accepts_connections", lambda url, timeout: False)
    sts = MagicMock()
    args = {"region": "us-east-1", "endpoint_url": "http://127.0.0.1:9", "probe_endpoint": True}
    args["unreachable_hint"] = "start it"
    result, services = run_main(mod.main, args, {"sts": sts})
    assert result["failed"] is True and result["msg"] == "start it"
    assert services == []


def test_refused_credentials_name_the_call():
    sts = MagicMock()
    sts.get_caller_identity.side_effect = client_error("InvalidClientTokenId", "GetCallerIdentity")
    result, _ = run_main(mod.main, {"region": "us-east-1"}, {"sts": sts})
    assert result["failed"] is True and "sts:GetCallerIdentity" in result["msg"]
