"""cloudwatch_metric_alarms: create, no-op, drift per setting, tags, check mode, delete (in-memory CloudWatch)."""

from __future__ import annotations

import copy

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper
from ansible_collections.streamflix.video_pipeline.plugins.modules import cloudwatch_metric_alarms as mod

from tests.unit.plugins.modules.fakes import client_error, fake_module, run_main

ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
TOPIC = "arn:aws:sns:us-east-1:123456789012:video-processing-alarms-dev"
TAGS = {"Project": "video-processing", "Environment": "dev", "Component": "monitoring"}
WRITES = ("put_metric_alarm", "delete_alarms", "tag_resource", "untag_resource")


def alarm(name="video-processing-iterator-age-dev", **overrides):
    wanted = dict(
        name=name,
        namespace="AWS/Kinesis",
        metric_name="GetRecords.IteratorAgeMilliseconds",
        statistic="Maximum",
        comparison_operator="GreaterThanThreshold",
        threshold=300000.0,
        period=300,
        evaluation_periods=1,
        dimensions={"StreamName": "video-ingestion-stream-dev"},
        treat_missing_data="notBreaching",
        description="Workers fall behind: check the service.",
        alarm_actions=[TOPIC],
        ok_actions=[TOPIC],
    )
    wanted.update(overrides)
    return wanted


ALARMS = [
    alarm(),
    alarm(
        name="video-processing-ecs-running-tasks-dev",
        namespace="ECS/ContainerInsights",
        metric_name="RunningTaskCount",
        statistic="Average",
        comparison_operator="LessThanThreshold",
        threshold=1.0,
        dimensions={"ClusterName": "c", "ServiceName": "s"},
        treat_missing_data="breaching",
    ),
]


class FakeCloudWatch:
    """CloudWatch alarms and their tags in memory, shaped like boto3's answers; records every call."""

    def __init__(self):
        self.alarms: dict[str, dict] = {}
        self.tags: dict[str, dict] = {}
        self.calls: list[str] = []
        self.page_size = 100

    def _record(self, name, kwargs):
        assert kwargs.pop("aws_retry", None) is True, f"{name} without aws_retry=True"
        self.calls.append(name)

    def writes(self):
        return [call for call in self.calls if call in WRITES]

    def describe_alarms(self, **kwargs):
        self._record("describe_alarms", kwargs)
        assert kwargs["AlarmTypes"] == ["MetricAlarm"] and len(kwargs["AlarmNames"]) <= 100
        found = [copy.deepcopy(self.alarms[n]) for n in kwargs["AlarmNames"] if n in self.alarms]
        start = int(kwargs.get("NextToken", 0))
        page = dict(MetricAlarms=found[start : start + self.page_size])
        if start + self.page_size < len(found):
            page["NextToken"] = str(start + self.page_size)
        return page

    def put_metric_alarm(self, **kwargs):
        self._record("put_metric_alarm", kwargs)
        name = kwargs["AlarmName"]
        tags = kwargs.pop("Tags", None)
        if name not in self.alarms and tags:
            self.tags[ARN + name] = {t["Key"]: t["Value"] for t in tags}
        described = dict(kwargs, AlarmArn=ARN + name, StateValue="OK")
        if not described.get("AlarmDescription"):
            described.pop("AlarmDescription", None)  # AWS leaves an empty description out
        self.alarms[name] = described

    def delete_alarms(self, **kwargs):
        self._record("delete_alarms", kwargs)
        for name in kwargs["AlarmNames"]:
            self.alarms.pop(name, None)
            self.tags.pop(ARN + name, None)

    def list_tags_for_resource(self, **kwargs):
        self._record("list_tags_for_resource", kwargs)
        return dict(Tags=[dict(Key=k, Value=v) for k, v in self.tags.get(kwargs["ResourceARN"], {}).items()])

    def tag_resource(self, **kwargs):
        self._record("tag_resource", kwargs)
        self.tags.setdefault(kwargs["ResourceARN"], {}).update({t["Key"]: t["Value"] for t in kwargs["Tags"]})

    def untag_resource(self, **kwargs):
        self._record("untag_resource", kwargs)
        for key in kwargs["TagKeys"]:
            self.tags.get(kwargs["ResourceARN"], {}).pop(key, None)


class FakeTagging:
    """GetResources(ResourceARNList=...) over the fake CloudWatch's tags; `lag` hides ARNs it has not seen yet."""

    def __init__(self, cloudwatch, lag=(), denied=False):
        self.cloudwatch = cloudwatch
        self.lag = set(lag)
        self.denied = denied
        self.calls = 0

    def get_resources(self, **kwargs):
        assert kwargs.pop("aws_retry", None) is True
        assert set(kwargs) == {"ResourceARNList"}, "GetResources takes no filters or paging with ResourceARNList"
        self.calls += 1
        if self.denied:
            raise client_error("AccessDeniedException", "GetResources")
        mappings = [
            dict(ResourceARN=arn, Tags=[dict(Key=k, Value=v) for k, v in self.cloudwatch.tags[arn].items()])
            for arn in kwargs["ResourceARNList"]
            if self.cloudwatch.tags.get(arn) and arn not in self.lag
        ]
        return dict(ResourceTagMappingList=mappings)


def run(cloudwatch, tagging=None, check_mode=False, alarms=None, tags=TAGS, state="present", purge_tags=True):
    args = dict(alarms=alarms if alarms is not None else ALARMS, tags=tags, purge_tags=purge_tags, state=state)
    if check_mode:
        args["_ansible_check_mode"] = True
    clients = {"cloudwatch": cloudwatch, "resourcegroupstaggingapi": tagging or FakeTagging(cloudwatch)}
    result, _services = run_main(mod.main, args, clients)
    assert result["failed"] is False, result
    return result


def converged():
    cloudwatch = FakeCloudWatch()
    run(cloudwatch)
    cloudwatch.calls.clear()
    return cloudwatch


def test_create_puts_every_alarm_with_its_tags():
    cloudwatch = FakeCloudWatch()
    result = run(cloudwatch)
    assert result["changed"] is True
    assert cloudwatch.writes() == ["put_metric_alarm", "put_metric_alarm"]  # no separate tagging
    assert cloudwatch.tags[ARN + ALARMS[0]["name"]] == TAGS
    stored = cloudwatch.alarms[ALARMS[0]["name"]]
    assert stored["Dimensions"] == [{"Name": "StreamName", "Value": "video-ingestion-stream-dev"}]
    assert stored["Threshold"] == 300000.0 and stored["AlarmActions"] == [TOPIC] and stored["OKActions"] == [TOPIC]
    assert result["alarms"][ALARMS[0]["name"]] == {"alarm_arn": ARN + ALARMS[0]["name"], "changes": ["created"]}
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"][ALARMS[0]["name"]]["tags"] == TAGS


def test_noop_reads_twice_and_writes_nothing():
    cloudwatch = converged()
    tagging = FakeTagging(cloudwatch)
    result = run(cloudwatch, tagging)
    assert result["changed"] is False
    assert cloudwatch.calls == ["describe_alarms"] and tagging.calls == 1  # two calls for every alarm
    assert all(entry["changes"] == [] for entry in result["alarms"].values())


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("namespace", "AWS/SQS"),
        ("metric_name", "IncomingRecords"),
        ("statistic", "Average"),
        ("comparison_operator", "GreaterThanOrEqualToThreshold"),
        ("threshold", 120000.0),
        ("period", 60),
        ("evaluation_periods", 3),
        ("dimensions", {"StreamName": "other"}),
        ("treat_missing_data", "breaching"),
        ("description", "Another runbook line."),
        ("actions_enabled", False),
        ("alarm_actions", []),
        ("ok_actions", [TOPIC, TOPIC + "-2"]),
        ("insufficient_data_actions", [TOPIC]),
    ],
)
def test_a_drifted_setting_rewrites_only_that_alarm(option, value):
    cloudwatch = converged()
    wanted = [alarm(**{option: value}), ALARMS[1]]
    result = run(cloudwatch, alarms=wanted)
    assert result["changed"] is True
    assert result["alarms"][ALARMS[0]["name"]]["changes"] == [option]
    assert result["alarms"][ALARMS[1]["name"]]["changes"] == []
    assert cloudwatch.writes() == ["put_metric_alarm"]
    assert result["diff"]["before"][ALARMS[0]["name"]][option] != result["diff"]["after"][ALARMS[0]["name"]][option]
    # and the next run is a no-op
    cloudwatch.calls.clear()
    assert run(cloudwatch, alarms=wanted)["changed"] is False and cloudwatch.writes() == []


def test_order_of_actions_and_dimensions_and_number_types_do_not_count():
    cloudwatch = converged()
    two = alarm(ok_actions=[TOPIC + "-2", TOPIC], dimensions={"B": "2", "A": "1"})
    run(cloudwatch, alarms=[two])
    cloudwatch.calls.clear()
    same = alarm(ok_actions=[TOPIC, TOPIC + "-2"], dimensions={"A": "1", "B": "2"}, threshold=300000, period="300")
    assert run(cloudwatch, alarms=[same])["changed"] is False and cloudwatch.writes() == []


def test_defaults_match_what_aws_reports_for_an_alarm_without_them():
    cloudwatch = FakeCloudWatch()
    bare = alarm()
    for option in ("dimensions", "description", "treat_missing_data", "alarm_actions", "ok_actions"):
        bare.pop(option)
    run(cloudwatch, alarms=[bare])
    described = cloudwatch.alarms[bare["name"]]
    described.pop("TreatMissingData")  # alarms made before the setting existed have none
    cloudwatch.calls.clear()
    assert run(cloudwatch, alarms=[bare])["changed"] is False and cloudwatch.writes() == []


def test_stray_and_missing_tags_are_fixed_without_rewriting_the_alarm():
    cloudwatch = converged()
    arn = ARN + ALARMS[0]["name"]
    cloudwatch.tags[arn] = {"Project": "video-processing", "Stray": "x"}
    result = run(cloudwatch)
    assert result["changed"] is True and result["alarms"][ALARMS[0]["name"]]["changes"] == ["tags"]
    assert cloudwatch.writes() == ["untag_resource", "tag_resource"]
    assert cloudwatch.tags[arn] == TAGS


def test_without_purge_stray_tags_stay():
    cloudwatch = converged()
    arn = ARN + ALARMS[0]["name"]
    cloudwatch.tags[arn]["Stray"] = "x"
    assert run(cloudwatch, purge_tags=False)["changed"] is False
    assert cloudwatch.writes() == [] and cloudwatch.tags[arn]["Stray"] == "x"
    assert "list_tags_for_resource" not in cloudwatch.calls  # the tagging API's answer was enough


def test_tags_the_tagging_api_does_not_show_yet_are_read_from_cloudwatch():
    cloudwatch = converged()
    arn = ARN + ALARMS[0]["name"]
    tagging = FakeTagging(cloudwatch, lag=[arn])
    assert run(cloudwatch, tagging)["changed"] is False
    assert cloudwatch.calls == ["describe_alarms", "list_tags_for_resource"] and cloudwatch.writes() == []


def test_without_the_tagging_permission_every_alarm_is_read_from_cloudwatch():
    cloudwatch = converged()
    assert run(cloudwatch, FakeTagging(cloudwatch, denied=True))["changed"] is False
    assert cloudwatch.calls.count("list_tags_for_resource") == 2 and cloudwatch.writes() == []


def test_tags_not_given_are_not_read_or_changed():
    cloudwatch = converged()
    tagging = FakeTagging(cloudwatch)
    cloudwatch.tags[ARN + ALARMS[0]["name"]] = {"Hand": "made"}
    assert run(cloudwatch, tagging, tags=None)["changed"] is False
    assert cloudwatch.calls == ["describe_alarms"] and tagging.calls == 0


def test_check_mode_reports_and_writes_nothing():
    cloudwatch = FakeCloudWatch()
    result = run(cloudwatch, check_mode=True)
    assert result["changed"] is True and cloudwatch.writes() == [] and cloudwatch.alarms == {}
    assert result["alarms"][ALARMS[0]["name"]] == {"alarm_arn": "", "changes": ["created"]}

    cloudwatch = converged()
    cloudwatch.tags[ARN + ALARMS[1]["name"]] = {}
    result = run(cloudwatch, check_mode=True, alarms=[alarm(threshold=1.0), ALARMS[1]])
    assert result["changed"] is True and cloudwatch.writes() == []
    assert result["alarms"][ALARMS[0]["name"]]["changes"] == ["threshold"]
    assert result["alarms"][ALARMS[1]["name"]]["changes"] == ["tags"]


def test_absent_deletes_the_existing_ones_in_one_call_and_is_idempotent():
    cloudwatch = converged()
    names = [dict(name=a["name"]) for a in ALARMS] + [dict(name="never-made")]
    result = run(cloudwatch, alarms=names, state="absent")
    assert result["changed"] is True and cloudwatch.alarms == {}
    assert cloudwatch.calls == ["describe_alarms", "delete_alarms"]
    assert result["alarms"]["never-made"]["changes"] == []
    cloudwatch.calls.clear()
    assert run(cloudwatch, alarms=names, state="absent")["changed"] is False
    assert cloudwatch.calls == ["describe_alarms"]


def test_absent_in_check_mode_deletes_nothing():
    cloudwatch = converged()
    result = run(cloudwatch, alarms=[dict(name=ALARMS[0]["name"])], state="absent", check_mode=True)
    assert result["changed"] is True and cloudwatch.writes() == [] and len(cloudwatch.alarms) == 2


def test_every_page_of_describe_alarms_is_read():
    cloudwatch = converged()
    cloudwatch.page_size = 1
    assert run(cloudwatch)["changed"] is False
    assert cloudwatch.calls == ["describe_alarms", "describe_alarms"] and cloudwatch.writes() == []


def test_bad_input_fails_before_any_aws_call():
    incomplete = dict(name="a", namespace="N")
    result, services = run_main(mod.main, dict(alarms=[incomplete]), {})
    assert result["failed"] and "alarm a lacks metric_name, statistic" in result["msg"] and services == []
    result, services = run_main(mod.main, dict(alarms=[alarm(), alarm()]), {})
    assert result["failed"] and "given more than once" in result["msg"] and services == []
    # absent needs names only
    assert mod.problems([incomplete], "absent") == []


def test_transient_errors_are_retried():
    cloudwatch = converged()
    failures = [client_error("Throttling"), client_error("InternalFailure")]
    real = cloudwatch.describe_alarms

    def flaky(**kwargs):
        if failures:
            raise failures.pop()
        return real(**kwargs)

    cloudwatch.describe_alarms = flaky

    class Raw:
        def __init__(self, target):
            self.target = target

        def __getattr__(self, name):
            return lambda **kwargs: getattr(self.target, name)(aws_retry=True, **kwargs)

    retry = AWSRetry.jittered_backoff(retries=3, delay=0, max_delay=0)
    client = RetryingBotoClientWrapper(Raw(cloudwatch), retry)
    tagging = RetryingBotoClientWrapper(Raw(FakeTagging(cloudwatch)), retry)
    result = mod.ensure_present(client, lambda: tagging, fake_module(), ALARMS, TAGS, True)
    assert result["changed"] is False and failures == []
