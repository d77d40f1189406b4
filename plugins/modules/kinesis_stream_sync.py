#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: StreamFlix Platform Engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Ansible's module layout puts DOCUMENTATION/EXAMPLES/RETURN before the imports.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: kinesis_stream_sync
short_description: A provisioned Kinesis data stream with its shards, retention, KMS encryption and tags
version_added: 1.0.0
description:
  - Creates the stream (provisioned mode, O(shards), tags in C(CreateStream)) or brings an existing
    one to O(shards), O(retention_period), KMS encryption with O(encryption_key_id) and O(tags),
    writing only what differs; or deletes it (O(state=absent)).
  - One C(DescribeStreamSummary) (plus C(ListTagsForStream) when O(tags) is given) on a run that
    changes nothing.
  - C(UpdateShardCount) (uniform scaling) accepts at most double or half the current count per
    call, so a bigger change goes through intermediate counts (2 to 8 is 4 then 8; 8 to 3 is 4
    then 3), the stream being waited for until C(ACTIVE) between steps.
  - Kinesis refuses every change while the stream is C(CREATING) or C(UPDATING), so the module
    waits for C(ACTIVE) before a write when the stream is busy (a create, a reshard, a retention
    or encryption change all make it busy), and after the last write only when O(wait=true).
    A stream in C(UPDATING) takes reads and writes.
  - Fewer shards (adjacent shards are merged) and a shorter retention (older records become
    unreadable at once) can lose data. With O(allow_shrink=false) they are not applied but
    reported in RV(shrink), so that a playbook can announce them first and then run the module
    again with O(allow_shrink=true).
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  name:
    description: Name of the stream.
    required: true
    type: str
  state:
    description: Whether the stream should exist.
    type: str
    choices: [present, absent]
    default: present
  shards:
    description: Open shards of the stream. Required with O(state=present).
    type: int
  retention_period:
    description: Hours a record stays readable (24 to 8760). Left as it is when not given.
    type: int
  encryption_key_id:
    description:
      - KMS key (ARN, key ID or alias) for server-side encryption. Encryption is left as it is
        when not given or empty.
    type: str
  allow_shrink:
    description:
      - Whether to merge shards and cut the retention when O(shards) or O(retention_period) is
        lower than the stream's. When false those changes are left out and reported in RV(shrink).
    type: bool
    default: true
  wait:
    description:
      - Wait until the stream is C(ACTIVE) after the last change (until it is gone with
        O(state=absent)). Waits between changes happen regardless.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for each wait (a reshard of many shards takes minutes on AWS).
    type: int
    default: 900
  poll_interval:
    description: Seconds between two reads of the stream status while waiting.
    type: int
    default: 5
notes:
  - Supports check mode and diff mode.
  - Stream consumers (enhanced fan-out) and enhanced monitoring are not managed.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The ingestion stream
  streamflix.video_pipeline.kinesis_stream_sync:
    name: video-ingestion-stream-dev
    shards: 2
    retention_period: 24
    encryption_key_id: "{{ key.key_arn }}"
    tags:
      Environment: dev
    allow_shrink: false
  register: stream

- name: Delete it and wait until it is gone
  streamflix.video_pipeline.kinesis_stream_sync:
    name: video-ingestion-stream-dev
    state: absent
"""

RETURN = r"""
stream_name:
  description: Name of the stream.
  returned: always
  type: str
  sample: video-ingestion-stream-dev
stream_arn:
  description: ARN of the stream (empty when it does not exist, or in check mode before its creation).
  returned: always
  type: str
  sample: arn:aws:kinesis:us-east-1:123456789012:stream/video-ingestion-stream-dev
stream_status:
  description: Status of the stream as last read or left by the run (empty when it does not exist).
  returned: always
  type: str
  sample: ACTIVE
open_shard_count:
  description: Open shards after the run (what it would be, in check mode).
  returned: state=present
  type: int
  sample: 2
retention_period_hours:
  description: Retention after the run (what it would be, in check mode).
  returned: state=present
  type: int
  sample: 24
encryption_type:
  description: C(KMS) or C(NONE) after the run.
  returned: state=present
  type: str
  sample: KMS
key_id:
  description: The KMS key the stream is encrypted with (empty without encryption).
  returned: state=present
  type: str
  sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
shard_steps:
  description: The shard counts C(UpdateShardCount) was (or would be) called with, in order.
  returned: state=present
  type: list
  elements: int
  sample: [4, 8]
shrink:
  description:
    - The changes that can lose data, per setting (C(shards), C(retention_period)) with the
      C(current) and C(wanted) values; empty when there is none. With O(allow_shrink=false) they
      were not applied.
  returned: state=present
  type: dict
  sample: {shards: {current: 4, wanted: 2}, retention_period: {current: 48, wanted: 24}}
tags:
  description: Tags of the stream after the run.
  returned: state=present
  type: dict
  sample: {Environment: dev}
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.errors import AWS_ERRORS

BUSY = ("CREATING", "UPDATING")
# AddTagsToStream takes at most 10 tags per call in older API versions (50 today).
TAGS_PER_CALL = 10


def reshard_steps(current, wanted):
    """The counts UpdateShardCount must go through: at most double or half the count per call.

    >>> reshard_steps(2, 8), reshard_steps(8, 3)
    ([4, 8], [4, 3])
    """
    steps = []
    while current != wanted:
        current = min(wanted, current * 2) if current < wanted else max(wanted, (current + 1) // 2)
        steps.append(current)
    return steps


def key_id_part(key):
    """The key ID of a key ARN (arn:...:key/ID), else the value itself."""
    return key.split(":key/", 1)[1] if ":key/" in key else key


def same_key(current, wanted):
    """Whether the stream's KeyId names the wanted key (an ARN and its key ID are the same key)."""
    return bool(current) and key_id_part(current) == key_id_part(wanted)


def plan(summary, params):
    """What to change on an existing stream (pure: no AWS call).

    Returns dict(mode=bool, retention=hours or None, steps=[counts], encrypt=bool, shrink={...});
    with allow_shrink false, a merge or a retention cut is only reported in shrink.
    """
    shards, retention = params["shards"], params["retention_period"]
    current_shards, current_retention = summary["OpenShardCount"], summary["RetentionPeriodHours"]
    shrink = {}
    if shards < current_shards:
        shrink["shards"] = dict(current=current_shards, wanted=shards)
    if retention is not None and retention < current_retention:
        shrink["retention_period"] = dict(current=current_retention, wanted=retention)
    allowed = params["allow_shrink"]
    key = params["encryption_key_id"]
    return dict(
        mode=summary.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED") != "PROVISIONED",
        retention=retention
        if retention not in (None, current_retention) and (allowed or "retention_period" not in shrink)
        else None,
        steps=reshard_steps(current_shards, shards) if allowed or "shards" not in shrink else [],
        encrypt=bool(key) and not (summary.get("EncryptionType") == "KMS" and same_key(summary.get("KeyId"), key)),
        shrink=shrink,
    )


def writes(name, summary, changes, key):
    """The calls that apply plan()'s changes, in order: (what, method, arguments).

    Provisioned mode first (shard counts need it), then the retention, each reshard step and
    the encryption. Each one leaves the stream UPDATING for a while.
    """
    calls = []
    if changes["mode"]:
        mode = dict(StreamARN=summary["StreamARN"], StreamModeDetails=dict(StreamMode="PROVISIONED"))
        calls.append(("switch to provisioned mode", "update_stream_mode", mode))
    retention = changes["retention"]
    if retention is not None:
        grow = retention > summary["RetentionPeriodHours"]
        method = "increase_stream_retention_period" if grow else "decrease_stream_retention_period"
        calls.append(("change the retention", method, dict(StreamName=name, RetentionPeriodHours=retention)))
    for count in changes["steps"]:
        step = dict(StreamName=name, TargetShardCount=count, ScalingType="UNIFORM_SCALING")
        calls.append(("reshard to {0} shards".format(count), "update_shard_count", step))
    if changes["encrypt"]:
        encryption = dict(StreamName=name, EncryptionType="KMS", KeyId=key)
        calls.append(("start the encryption", "start_stream_encryption", encryption))
    return calls


def stream_view(summary, tags):
    """The stream as diff mode shows it."""
    return dict(
        shards=summary["OpenShardCount"],
        retention_period=summary["RetentionPeriodHours"],
        encryption_type=summary.get("EncryptionType") or "NONE",
        key_id=summary.get("KeyId") or "",
        stream_mode=summary.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED"),
        tags=tags,
    )


def view_after(before, changes, tags, key):
    after = dict(before, tags=tags)
    if changes["mode"]:
        after["stream_mode"] = "PROVISIONED"
    if changes["retention"] is not None:
        after["retention_period"] = changes["retention"]
    if changes["steps"]:
        after["shards"] = changes["steps"][-1]
    if changes["encrypt"]:
        after.update(encryption_type="KMS", key_id=key)
    return after


def merged_tags(current, to_set, to_unset):
    tags = dict((k, v) for k, v in current.items() if k not in to_unset)
    tags.update(to_set)
    return tags


# AWS calls


class Stream:
    """The Kinesis calls for one stream, each failing the module with what it was doing."""

    def __init__(self, client, module, name):
        self.client = client
        self.module = module
        self.name = name
        self.timeout = module.params["wait_timeout"]
        self.interval = module.params["poll_interval"]

    def call(self, what, method, **kwargs):
        try:
            return getattr(self.client, method)(aws_retry=True, **kwargs)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg="Could not {0} of stream {1}".format(what, self.name))

    def describe(self):
        """DescribeStreamSummary's StreamDescriptionSummary, None when the stream does not exist."""
        try:
            response = self.client.describe_stream_summary(StreamName=self.name, aws_retry=True)
        except is_boto3_error_code("ResourceNotFoundException"):
            return None
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg="Could not describe stream {0}".format(self.name))
        return response["StreamDescriptionSummary"]

    def tags(self):
        tags, start = [], None
        while True:
            kwargs = dict(StreamName=self.name)
            if start:
                kwargs["ExclusiveStartTagKey"] = start
            page = self.call("list the tags", "list_tags_for_stream", **kwargs)
            tags.extend(page.get("Tags", []))
            if not page.get("HasMoreTags") or not page.get("Tags"):
                return boto3_tag_list_to_ansible_dict(tags)
            start = page["Tags"][-1]["Key"]

    def wait(self, until):
        """Poll until the stream is ACTIVE (until="ACTIVE": returns its summary) or gone (until=None).

        The first read is at once: the emulator (and a fast change) is done before the first interval.
        """
        deadline = time.time() + self.timeout
        while True:
            summary = self.describe()
            status = summary["StreamStatus"] if summary else None
            if status == until:
                return summary
            if until == "ACTIVE" and status in (None, "DELETING"):
                self.module.fail_json(msg="Stream {0} is being deleted by someone else".format(self.name))
            if time.time() >= deadline:
                self.module.fail_json(
                    msg="Stream {0} is still {1} after {2} s (wait_timeout)".format(self.name, status, self.timeout)
                )
            time.sleep(self.interval)

    def set_tags(self, to_set, to_unset):
        for i in range(0, len(to_unset), TAGS_PER_CALL):
            keys = to_unset[i : i + TAGS_PER_CALL]
            self.call("remove tags", "remove_tags_from_stream", StreamName=self.name, TagKeys=keys)
        items = sorted(to_set.items())
        for i in range(0, len(items), TAGS_PER_CALL):
            self.call("tag", "add_tags_to_stream", StreamName=self.name, Tags=dict(items[i : i + TAGS_PER_CALL]))

    def apply(self, status, calls):
        """Make the calls, waiting for ACTIVE before each one while the stream is busy.

        Returns whether the stream is left busy (UPDATING) by the last call.
        """
        busy = status in BUSY
        for what, method, kwargs in calls:
            if busy:
                self.wait("ACTIVE")
            self.call(what, method, **kwargs)
            busy = True
        return busy


def create_accepts_tags(client):
    """Whether this botocore's CreateStream takes Tags (added to the API in 2022)."""
    return "Tags" in client.meta.service_model.operation_model("CreateStream").input_shape.members


def result_of(stream, arn, status, before, after, changes):
    return dict(
        changed=after != before,
        stream_name=stream.name,
        stream_arn=arn,
        stream_status=status,
        open_shard_count=after["shards"],
        retention_period_hours=after["retention_period"],
        encryption_type=after["encryption_type"],
        key_id=after["key_id"],
        shard_steps=changes["steps"],
        shrink=changes["shrink"],
        tags=after["tags"],
        diff=dict(before=before, after=after),
    )


def settle(stream, params, busy):
    """The status the run leaves: waited for until ACTIVE when wait=true."""
    if busy and params["wait"]:
        stream.wait("ACTIVE")
        return "ACTIVE"
    return "UPDATING" if busy else "ACTIVE"


def create(stream, module, params):
    """CreateStream (shards, provisioned mode, tags), then once ACTIVE what it cannot set: retention, encryption."""
    key = params["encryption_key_id"]
    tags = params["tags"] or {}
    # a new stream: the wanted shards, 24 h, no encryption
    new = dict(OpenShardCount=params["shards"], RetentionPeriodHours=24, StreamStatus="CREATING", StreamARN="")
    changes = plan(new, params)
    after = view_after(stream_view(new, tags), changes, tags, key)
    if module.check_mode:
        return result_of(stream, "", "CREATING", {}, after, changes)
    request = dict(
        StreamName=stream.name, ShardCount=params["shards"], StreamModeDetails=dict(StreamMode="PROVISIONED")
    )
    if tags and create_accepts_tags(stream.client):
        request["Tags"] = tags
    stream.call("create", "create_stream", **request)
    summary = stream.wait("ACTIVE")
    if tags:
        # Read back: an endpoint may drop the Tags of CreateStream (the local emulator does).
        to_set, to_unset = compare_aws_tags(stream.tags(), tags, purge_tags=False)
        stream.set_tags(to_set, to_unset)
    busy = stream.apply("ACTIVE", writes(stream.name, summary, changes, key))
    return result_of(stream, summary["StreamARN"], settle(stream, params, busy), {}, after, changes)


def ensure_present(stream, module, params):
    key = params["encryption_key_id"]
    summary = stream.describe()
    if summary is not None and summary["StreamStatus"] == "DELETING":
        summary = None if module.check_mode else stream.wait(None)
    if summary is None:
        return create(stream, module, params)

    tags, to_set, to_unset = {}, {}, []
    if params["tags"] is not None:
        tags = stream.tags()
        to_set, to_unset = compare_aws_tags(tags, params["tags"], purge_tags=params["purge_tags"])
    changes = plan(summary, params)
    before = stream_view(summary, tags)
    after = view_after(before, changes, merged_tags(tags, to_set, to_unset), key)
    status = summary["StreamStatus"]
    if not module.check_mode and after != before:
        if to_set or to_unset:
            if status != "ACTIVE":
                status = stream.wait("ACTIVE")["StreamStatus"]
            stream.set_tags(to_set, to_unset)  # tags leave the stream ACTIVE
        busy = stream.apply(status, writes(stream.name, summary, changes, key))
        status = settle(stream, params, busy)
    return result_of(stream, summary["StreamARN"], status, before, after, changes)


def ensure_absent(stream, module, params):
    summary = stream.describe()
    if summary is None:
        return dict(
            changed=False, stream_name=stream.name, stream_arn="", stream_status="", diff=dict(before={}, after={})
        )
    result = dict(
        changed=summary["StreamStatus"] != "DELETING",
        stream_name=stream.name,
        stream_arn=summary["StreamARN"],
        stream_status="DELETING",
        diff=dict(before=dict(stream_status=summary["StreamStatus"]), after={}),
    )
    if module.check_mode:
        return result
    if result["changed"]:
        if summary["StreamStatus"] in BUSY:
            stream.wait("ACTIVE")  # Kinesis refuses to delete a stream being created or changed
        try:
            stream.client.delete_stream(StreamName=stream.name, aws_retry=True)
        except is_boto3_error_code("ResourceNotFoundException"):
            pass  # deleted by someone else in the meantime: the wanted end state
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg="Could not delete stream {0}".format(stream.name))
    if params["wait"]:
        stream.wait(None)
        result["stream_status"] = ""
    return result


def validate(module):
    """Input problems, found before any AWS call."""
    params = module.params
    problems = []
    if params["state"] == "present":
        if params["shards"] is None or params["shards"] < 1:
            problems.append("shards must be a positive integer with state=present (got {0})".format(params["shards"]))
        retention = params["retention_period"]
        if retention is not None and not 24 <= retention <= 8760:
            problems.append("retention_period must be from 24 to 8760 hours (got {0})".format(retention))
    if params["wait_timeout"] < 1 or params["poll_interval"] < 1:
        problems.append("wait_timeout and poll_interval must be at least 1 second")
    if problems:
        module.fail_json(msg="; ".join(problems))


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        shards=dict(type="int"),
        retention_period=dict(type="int"),
        encryption_key_id=dict(type="str", no_log=False),
        allow_shrink=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=900),
        poll_interval=dict(type="int", default=5),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    client = module.client("kinesis", retry_decorator=AWSRetry.jittered_backoff(retries=10))
    stream = Stream(client, module, module.params["name"])
    if module.params["state"] == "present":
        module.exit_json(**ensure_present(stream, module, module.params))
    module.exit_json(**ensure_absent(stream, module, module.params))


if __name__ == "__main__":
    main()
