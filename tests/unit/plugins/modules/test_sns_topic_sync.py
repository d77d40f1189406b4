"""sns_topic_sync: create, no-op, drift of each setting, subscriptions, check mode, delete (in-memory SNS)."""

from __future__ import annotations

import copy
import itertools

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper
from ansible_collections.streamflix.video_pipeline.plugins.modules import sns_topic_sync as mod

from tests.unit.plugins.modules.fakes import client_error, fake_module, run_main

NAME = "video-processing-alarms-dev"
ARN = "arn:aws:sns:us-east-1:123456789012:" + NAME
KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
EMAIL = "video-oncall@example.com"
TAGS = {"Project": "video-processing", "Environment": "dev", "Component": "monitoring"}
WRITES = (
    "create_topic",
    "set_topic_attributes",
    "subscribe",
    "unsubscribe",
    "tag_resource",
    "untag_resource",
    "delete_topic",
)


class FakeSns:
    """One account's SNS topics in memory, shaped like boto3's answers; records every call."""

    def __init__(self, confirm=True):
        self.topics: dict[str, dict] = {}
        self.calls: list[str] = []
        self.confirm = confirm  # False: e-mail subscriptions stay pending, as until the click on AWS
        self.ids = itertools.count(1)
        self.page_size = 100

    def _record(self, name, kwargs):
        assert kwargs.pop("aws_retry", None) is True, f"{name} without aws_retry=True"
        self.calls.append(name)

    def writes(self):
        return [call for call in self.calls if call in WRITES]

    def _topic(self, arn):
        if arn not in self.topics:
            raise client_error("NotFound", message="Topic does not exist")
        return self.topics[arn]

    def create_topic(self, **kwargs):
        self._record("create_topic", kwargs)
        arn = "arn:aws:sns:us-east-1:123456789012:" + kwargs["Name"]
        self.topics[arn] = dict(
            attributes=dict(kwargs.get("Attributes", {}), TopicArn=arn, Owner="123456789012"),
            subscriptions=[],
            tags={t["Key"]: t["Value"] for t in kwargs.get("Tags", [])},
        )
        return dict(TopicArn=arn)

    def get_topic_attributes(self, **kwargs):
        self._record("get_topic_attributes", kwargs)
        return dict(Attributes=copy.deepcopy(self._topic(kwargs["TopicArn"])["attributes"]))

    def set_topic_attributes(self, **kwargs):
        self._record("set_topic_attributes", kwargs)
        self._topic(kwargs["TopicArn"])["attributes"][kwargs["AttributeName"]] = kwargs["AttributeValue"]

    def list_subscriptions_by_topic(self, **kwargs):
        self._record("list_subscriptions_by_topic", kwargs)
        found = copy.deepcopy(self._topic(kwargs["TopicArn"])["subscriptions"])
        start = int(kwargs.get("NextToken", 0))
        page = dict(Subscriptions=found[start : start + self.page_size])
        if start + self.page_size < len(found):
            page["NextToken"] = str(start + self.page_size)
        return page

    def subscribe(self, **kwargs):
        self._record("subscribe", kwargs)
        arn = kwargs["TopicArn"]
        confirmed = self.confirm or kwargs["Protocol"] != "email"
        self._topic(arn)["subscriptions"].append(
            dict(
                SubscriptionArn=f"{arn}:{next(self.ids)}" if confirmed else "PendingConfirmation",
                Protocol=kwargs["Protocol"],
                Endpoint=kwargs["Endpoint"],
                TopicArn=arn,
            )
        )

    def unsubscribe(self, **kwargs):
        self._record("unsubscribe", kwargs)
        for topic in self.topics.values():
            topic["subscriptions"] = [
                s for s in topic["subscriptions"] if s["SubscriptionArn"] != kwargs["SubscriptionArn"]
            ]

    def list_tags_for_resource(self, **kwargs):
        self._record("list_tags_for_resource", kwargs)
        return dict(Tags=[dict(Key=k, Value=v) for k, v in self._topic(kwargs["ResourceArn"])["tags"].items()])

    def tag_resource(self, **kwargs):
        self._record("tag_resource", kwargs)
        self._topic(kwargs["ResourceArn"])["tags"].update({t["Key"]: t["Value"] for t in kwargs["Tags"]})

    def untag_resource(self, **kwargs):
        self._record("untag_resource", kwargs)
        for key in kwargs["TagKeys"]:
            self._topic(kwargs["ResourceArn"])["tags"].pop(key, None)

    def delete_topic(self, **kwargs):
        self._record("delete_topic", kwargs)
        self.topics.pop(kwargs["TopicArn"], None)  # AWS: no error for a topic that is gone


class FakeSts:
    def __init__(self):
        self.calls = 0

    def get_caller_identity(self, **kwargs):
        assert kwargs == {"aws_retry": True}
        self.calls += 1
        return dict(Account="123456789012", Arn="arn:aws:iam::123456789012:user/deployer")


def args(**overrides):
    wanted = dict(
        name=NAME,
        topic_arn=ARN,
        display_name="Video pipeline dev alarms",
        kms_master_key_id=KEY,
        subscriptions=[dict(protocol="email", endpoint=EMAIL)],
        tags=TAGS,
        region="us-east-1",
    )
    wanted.update(overrides)
    return wanted


def run(sns, check_mode=False, sts=None, **overrides):
    module_args = args(**overrides)
    if check_mode:
        module_args["_ansible_check_mode"] = True
    result, _services = run_main(mod.main, module_args, {"sns": sns, "sts": sts or FakeSts()})
    assert result["failed"] is False, result
    return result


def converged(**kwargs):
    sns = FakeSns(**kwargs)
    run(sns)
    sns.calls.clear()
    return sns


def test_create_sets_attributes_and_tags_in_create_topic_then_subscribes():
    sns = FakeSns()
    result = run(sns)
    assert result["changed"] is True and result["topic_arn"] == ARN
    assert sns.calls == ["get_topic_attributes", "create_topic", "subscribe"]
    topic = sns.topics[ARN]
    assert topic["attributes"]["DisplayName"] == "Video pipeline dev alarms"
    assert topic["attributes"]["KmsMasterKeyId"] == KEY
    assert topic["tags"] == TAGS
    assert [(s["Protocol"], s["Endpoint"]) for s in topic["subscriptions"]] == [("email", EMAIL)]
    assert result["diff"]["before"] == {}
    assert result["topic"]["subscriptions"] == [dict(protocol="email", endpoint=EMAIL, pending=True)]


def test_noop_makes_three_reads_and_no_write():
    sns = converged()
    result = run(sns)
    assert result["changed"] is False
    assert sns.calls == ["get_topic_attributes", "list_subscriptions_by_topic", "list_tags_for_resource"]
    assert result["topic"]["kms_master_key_id"] == KEY and result["topic"]["tags"] == TAGS
    assert result["diff"]["before"] == result["diff"]["after"]


def test_a_pending_subscription_counts_as_present():
    sns = converged(confirm=False)
    assert sns.topics[ARN]["subscriptions"][0]["SubscriptionArn"] == "PendingConfirmation"
    result = run(sns)
    assert result["changed"] is False and sns.writes() == []
    assert result["topic"]["subscriptions"] == [dict(protocol="email", endpoint=EMAIL, pending=True)]


@pytest.mark.parametrize(
    ("option", "value", "write"),
    [
        ("display_name", "Other", "set_topic_attributes"),
        ("kms_master_key_id", "alias/other", "set_topic_attributes"),
        ("kms_master_key_id", "", "set_topic_attributes"),
        ("tags", dict(TAGS, Component="other"), "tag_resource"),
        ("tags", {"Project": "video-processing"}, "untag_resource"),
        ("subscriptions", [dict(protocol="email", endpoint="other@example.com")], "subscribe"),
        ("subscriptions", [], "unsubscribe"),
    ],
)
def test_drift_of_one_setting_is_one_write_and_then_converged(option, value, write):
    sns = converged()
    result = run(sns, **{option: value})
    assert result["changed"] is True
    assert write in sns.writes()
    assert result["diff"]["before"] != result["diff"]["after"]
    sns.calls.clear()
    again = run(sns, **{option: value})
    assert again["changed"] is False and sns.writes() == []
    # the reported "after" is what AWS then shows (the fake confirms e-mail at once, AWS on the click)
    assert without_pending(again["topic"]) == without_pending(result["topic"])


def without_pending(topic):
    return dict(topic, subscriptions=[dict(s, pending=None) for s in topic["subscriptions"]])


def test_a_replaced_email_is_subscribed_and_the_old_one_removed():
    sns = converged()
    result = run(sns, subscriptions=[dict(protocol="email", endpoint="new@example.com")])
    assert sorted(sns.writes()) == ["subscribe", "unsubscribe"]
    assert [s["Endpoint"] for s in sns.topics[ARN]["subscriptions"]] == ["new@example.com"]
    assert result["topic"]["subscriptions"] == [dict(protocol="email", endpoint="new@example.com", pending=True)]


def test_without_purge_other_subscriptions_stay():
    sns = converged()
    assert run(sns, subscriptions=[], purge_subscriptions=False)["changed"] is False
    assert sns.writes() == [] and len(sns.topics[ARN]["subscriptions"]) == 1


def test_an_unwanted_pending_subscription_is_left_with_a_warning():
    sns = converged(confirm=False)
    module = fake_module()
    result = mod.ensure_present(
        sns, module, dict(args(subscriptions=[]), purge_subscriptions=True, purge_tags=True), ARN
    )
    assert result["changed"] is False and sns.writes() == []
    assert "waits for its confirmation" in module.warn.call_args.args[0]


def test_attributes_and_tags_not_given_are_not_compared():
    sns = converged()
    sns.topics[ARN]["attributes"]["DisplayName"] = "by hand"
    result = run(sns, display_name=None, kms_master_key_id=None, tags=None)
    assert result["changed"] is False and sns.writes() == []
    assert "list_tags_for_resource" not in sns.calls


def test_check_mode_on_a_missing_topic_reports_the_creation_without_failing():
    sns = FakeSns()
    result = run(sns, check_mode=True)
    assert result["changed"] is True and result["topic_arn"] == ARN
    assert sns.calls == ["get_topic_attributes"] and sns.topics == {}
    assert result["diff"]["after"]["kms_master_key_id"] == KEY


def test_check_mode_on_drift_writes_nothing():
    sns = converged()
    result = run(sns, check_mode=True, display_name="Other", subscriptions=[], tags={})
    assert result["changed"] is True and sns.writes() == []
    assert result["diff"]["after"]["display_name"] == "Other" and result["diff"]["after"]["subscriptions"] == []


def test_absent_deletes_and_is_idempotent():
    sns = converged()
    result = run(sns, state="absent")
    assert result["changed"] is True and sns.topics == {}
    assert sns.calls == ["get_topic_attributes", "delete_topic"]
    sns.calls.clear()
    assert run(sns, state="absent")["changed"] is False and sns.calls == ["get_topic_attributes"]


def test_absent_in_check_mode_deletes_nothing():
    sns = converged()
    assert run(sns, state="absent", check_mode=True)["changed"] is True
    assert sns.writes() == [] and ARN in sns.topics


def test_without_topic_arn_the_arn_is_built_from_the_caller():
    sns, sts = converged(), FakeSts()
    result = run(sns, sts=sts, topic_arn=None)
    assert result["changed"] is False and result["topic_arn"] == ARN and sts.calls == 1, result


def test_a_topic_arn_of_another_name_is_refused_before_any_call():
    result, services = run_main(mod.main, args(topic_arn=ARN + "-x"), {})
    assert result["failed"] and "does not end in the topic name" in result["msg"] and services == []


def test_every_page_of_subscriptions_is_read():
    sns = converged()
    sns.topics[ARN]["subscriptions"].append(
        dict(SubscriptionArn=ARN + ":99", Protocol="email", Endpoint="x@example.com", TopicArn=ARN)
    )
    sns.page_size = 1
    run(sns)
    assert sns.calls.count("list_subscriptions_by_topic") == 2
    assert sns.writes() == ["unsubscribe"]


def test_transient_errors_are_retried():
    sns = converged()
    failures = [client_error("Throttling"), client_error("InternalError")]
    real = sns.get_topic_attributes

    def flaky(**kwargs):
        if failures:
            raise failures.pop()
        return real(**kwargs)

    sns.get_topic_attributes = flaky

    class Raw:
        def __getattr__(self, name):
            return lambda **kwargs: getattr(sns, name)(aws_retry=True, **kwargs)

    client = RetryingBotoClientWrapper(Raw(), AWSRetry.jittered_backoff(retries=3, delay=0, max_delay=0))
    params = dict(args(), purge_subscriptions=True, purge_tags=True)
    assert mod.ensure_present(client, fake_module(), params, ARN)["changed"] is False and failures == []
