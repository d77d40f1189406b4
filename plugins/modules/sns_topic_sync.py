#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: StreamFlix Platform Engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Ansible's module layout puts DOCUMENTATION/EXAMPLES/RETURN before the imports
# and guards the botocore import (AnsibleAWSModule reports it missing).
# ruff: noqa: E402, SIM105

DOCUMENTATION = r"""
---
module: sns_topic_sync
short_description: An SNS topic with its display name, KMS key, subscriptions and tags
version_added: 1.0.0
description:
  - Creates an SNS topic with its attributes and tags in one C(CreateTopic) call and subscribes
    its endpoints, keeps the display name, the KMS key, the subscriptions and the tags as given,
    or deletes the topic (AWS deletes its subscriptions with it).
  - A run that changes nothing makes three calls, C(GetTopicAttributes),
    C(ListSubscriptionsByTopic) and C(ListTagsForResource) (no tag call when O(tags) is not given).
  - M(community.aws.sns_topic) cannot set the KMS key and fails in check mode when the topic does
    not exist yet; this module reports the creation instead.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  name:
    description: Name of the topic.
    required: true
    type: str
  topic_arn:
    description:
      - ARN the topic has, or will have once created (it follows from the partition, region,
        account and name); its last part must be O(name).
      - When not given it is built from the caller's identity (one C(sts:GetCallerIdentity) call).
    type: str
  display_name:
    description:
      - Display name of the topic (the sender name of e-mail notifications).
      - Not compared when not given.
    type: str
  kms_master_key_id:
    description:
      - KMS key that encrypts the topic, as an ID, ARN, alias name or alias ARN; keep to one form,
        since AWS stores and compares the value as given. An empty string turns encryption off.
      - Not compared when not given.
    type: str
  subscriptions:
    description:
      - Endpoints subscribed to the topic.
      - A subscription that waits for its confirmation (e-mail) counts as present.
    type: list
    elements: dict
    default: []
    suboptions:
      protocol:
        description: Protocol of the endpoint, for example C(email), C(sqs), C(lambda), C(https).
        required: true
        type: str
      endpoint:
        description: The endpoint (address, URL or ARN).
        required: true
        type: str
  purge_subscriptions:
    description:
      - Unsubscribe the confirmed subscriptions that are not in O(subscriptions).
      - A pending confirmation cannot be removed (AWS gives it no ARN until it is confirmed, and
        drops it after three days), so it is left and a warning says so.
    type: bool
    default: true
  state:
    description: V(present) creates or updates the topic, V(absent) deletes it.
    type: str
    default: present
    choices: [present, absent]
notes:
  - Supports check mode and diff mode; in check mode nothing is written, also when the topic
    does not exist yet.
  - The key policy must let every publisher (for alarms C(cloudwatch.amazonaws.com)) use the
    key, or encrypted messages are dropped.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Alarm topic, encrypted, with one e-mail subscription
  streamflix.video_pipeline.sns_topic_sync:
    name: video-processing-alarms-dev
    topic_arn: arn:aws:sns:us-east-1:123456789012:video-processing-alarms-dev
    display_name: Video pipeline dev alarms
    kms_master_key_id: arn:aws:kms:us-east-1:123456789012:key/0b9e6c4e-0000-4000-8000-000000000000
    subscriptions:
      - protocol: email
        endpoint: video-oncall@example.com
    tags:
      Project: video-processing

- name: Delete it with its subscriptions
  streamflix.video_pipeline.sns_topic_sync:
    name: video-processing-alarms-dev
    state: absent
"""

RETURN = r"""
topic_arn:
  description: ARN of the topic (also when check mode would create it, and after O(state=absent)).
  returned: always
  type: str
  sample: arn:aws:sns:us-east-1:123456789012:video-processing-alarms-dev
topic:
  description: The topic after the run (as it would be, in check mode); empty when it does not exist.
  returned: always
  type: dict
  contains:
    display_name:
      description: Display name.
      type: str
    kms_master_key_id:
      description: The KMS key, empty when unencrypted.
      type: str
    subscriptions:
      description: Subscribed endpoints, sorted; C(pending) is true while a confirmation is awaited.
      type: list
      elements: dict
    tags:
      description: Tags of the topic.
      type: dict
  sample:
    display_name: Video pipeline dev alarms
    kms_master_key_id: arn:aws:kms:us-east-1:123456789012:key/0b9e6c4e-0000-4000-8000-000000000000
    subscriptions: [{protocol: email, endpoint: video-oncall@example.com, pending: true}]
    tags: {Project: video-processing}
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

# option -> topic attribute, for the attributes this module manages
ATTRIBUTES = (("display_name", "DisplayName"), ("kms_master_key_id", "KmsMasterKeyId"))
# What ListSubscriptionsByTopic shows instead of an ARN while e-mail waits for the click
# (and for a moment after an unsubscribe).
PENDING = "PendingConfirmation"
DELETED = "Deleted"
# Protocols whose endpoint must confirm a new subscription before it receives anything.
CONFIRMED_BY_ENDPOINT = ("email", "email-json", "http", "https")


# Decisions (no AWS calls)


def arn_problem(name, topic_arn):
    """Why topic_arn cannot be the ARN of topic `name` (None when it can)."""
    parsed = parse_aws_arn(topic_arn or "")
    if not parsed or parsed.get("service") != "sns":
        return "topic_arn {0} is not an SNS topic ARN".format(topic_arn)
    if parsed.get("resource") != name:
        return "topic_arn {0} does not end in the topic name {1}".format(topic_arn, name)
    return None


def attribute_updates(params, attributes):
    """{attribute: wanted value} of the managed attributes that differ (None: not managed)."""
    updates = {}
    for option, attribute in ATTRIBUTES:
        wanted = params.get(option)
        if wanted is not None and (attributes.get(attribute) or "") != wanted:
            updates[attribute] = wanted
    return updates


def subscription_changes(wanted, current, purge):
    """(to_subscribe [(protocol, endpoint)], to_unsubscribe [arn], stuck [(protocol, endpoint)]).

    current: ListSubscriptionsByTopic entries. A pending subscription counts as present; an
    unwanted pending one cannot be removed (no ARN yet) and is reported as stuck.
    """
    wanted_pairs = sorted(set((s["protocol"], s["endpoint"]) for s in wanted))
    live = [s for s in current if s.get("SubscriptionArn") != DELETED]
    have = set((s["Protocol"], s["Endpoint"]) for s in live)
    to_subscribe = [pair for pair in wanted_pairs if pair not in have]
    to_unsubscribe, stuck = [], []
    if purge:
        for s in live:
            if (s["Protocol"], s["Endpoint"]) in wanted_pairs:
                continue
            if s.get("SubscriptionArn") == PENDING:
                stuck.append((s["Protocol"], s["Endpoint"]))
            else:
                to_unsubscribe.append(s["SubscriptionArn"])
    return to_subscribe, to_unsubscribe, stuck


def subscription_view(current):
    """Subscriptions as returned to the user: sorted protocol/endpoint/pending."""
    return sorted(
        (
            dict(protocol=s["Protocol"], endpoint=s["Endpoint"], pending=s.get("SubscriptionArn") == PENDING)
            for s in current
            if s.get("SubscriptionArn") != DELETED
        ),
        key=lambda s: (s["protocol"], s["endpoint"]),
    )


def topic_view(attributes, subscriptions, tags):
    return dict(
        display_name=attributes.get("DisplayName") or "",
        kms_master_key_id=attributes.get("KmsMasterKeyId") or "",
        subscriptions=subscriptions,
        tags=tags,
    )


def create_request(params):
    """CreateTopic arguments: the attributes and tags go with the creation."""
    request = dict(Name=params["name"])
    attributes = dict(
        (attribute, params[option]) for option, attribute in ATTRIBUTES if params.get(option) not in (None, "")
    )
    if attributes:
        request["Attributes"] = attributes
    if params.get("tags"):
        request["Tags"] = ansible_dict_to_boto3_tag_list(params["tags"])
    return request


# AWS calls


def topic_attributes(client, module, topic_arn):
    """The topic's attributes, or None when it does not exist."""
    try:
        return client.get_topic_attributes(TopicArn=topic_arn, aws_retry=True)["Attributes"]
    except is_boto3_error_code("NotFound"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Could not read the attributes of {0}".format(topic_arn))


def topic_subscriptions(client, module, topic_arn):
    found, request = [], dict(TopicArn=topic_arn)
    try:
        while True:  # by hand, not a paginator: every page goes through the retrying client
            page = client.list_subscriptions_by_topic(aws_retry=True, **request)
            found.extend(page.get("Subscriptions", []))
            if not page.get("NextToken"):
                return found
            request["NextToken"] = page["NextToken"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not list the subscriptions of {0}".format(topic_arn))


def topic_tags(client, module, topic_arn):
    try:
        response = client.list_tags_for_resource(ResourceArn=topic_arn, aws_retry=True)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not list the tags of {0}".format(topic_arn))
    return boto3_tag_list_to_ansible_dict(response.get("Tags", []))


def caller_topic_arn(module, name):
    """arn:<partition>:sns:<region>:<account>:<name> from the caller's identity."""
    sts = module.client("sts", retry_decorator=AWSRetry.jittered_backoff(retries=10))
    try:
        caller = parse_aws_arn(sts.get_caller_identity(aws_retry=True)["Arn"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not read the caller's identity to build the topic's ARN")
    return "arn:{0}:sns:{1}:{2}:{3}".format(caller["partition"], module.region, caller["account_id"], name)


def write(module, what, call, **kwargs):
    """One write, with the module's error handling; skipped in check mode."""
    if module.check_mode:
        return None
    try:
        return call(aws_retry=True, **kwargs)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not {0}".format(what))


def subscribe_all(client, module, topic_arn, pairs):
    for protocol, endpoint in pairs:
        write(
            module,
            "subscribe {0}:{1} to {2}".format(protocol, endpoint, topic_arn),
            client.subscribe,
            TopicArn=topic_arn,
            Protocol=protocol,
            Endpoint=endpoint,
        )


def create_topic(client, module, params, topic_arn):
    wanted_subscriptions = [
        dict(protocol=p, endpoint=e, pending=p in CONFIRMED_BY_ENDPOINT)
        for p, e in sorted(set((s["protocol"], s["endpoint"]) for s in params["subscriptions"]))
    ]
    after = dict(
        display_name=params.get("display_name") or "",
        kms_master_key_id=params.get("kms_master_key_id") or "",
        subscriptions=wanted_subscriptions,
        tags=params.get("tags") or {},
    )
    created = write(module, "create topic {0}".format(params["name"]), client.create_topic, **create_request(params))
    if created:
        topic_arn = created["TopicArn"]
    subscribe_all(client, module, topic_arn, [(s["protocol"], s["endpoint"]) for s in wanted_subscriptions])
    return dict(changed=True, topic_arn=topic_arn, topic=after, diff=dict(before={}, after=after))


def ensure_present(client, module, params, topic_arn):
    attributes = topic_attributes(client, module, topic_arn)
    if attributes is None:
        return create_topic(client, module, params, topic_arn)

    subscriptions = topic_subscriptions(client, module, topic_arn)
    tags = topic_tags(client, module, topic_arn) if params.get("tags") is not None else None
    before = topic_view(attributes, subscription_view(subscriptions), tags if tags is not None else {})

    updates = attribute_updates(params, attributes)
    for attribute, value in sorted(updates.items()):
        write(
            module,
            "set {0} of {1}".format(attribute, topic_arn),
            client.set_topic_attributes,
            TopicArn=topic_arn,
            AttributeName=attribute,
            AttributeValue=value,
        )

    to_subscribe, to_unsubscribe, stuck = subscription_changes(
        params["subscriptions"], subscriptions, params["purge_subscriptions"]
    )
    for protocol, endpoint in stuck:
        module.warn(
            "{0} subscription {1} of {2} waits for its confirmation and cannot be removed until it is "
            "confirmed (AWS drops it after three days unconfirmed)".format(protocol, endpoint, topic_arn)
        )
    subscribe_all(client, module, topic_arn, to_subscribe)
    for arn in to_unsubscribe:
        write(module, "unsubscribe {0}".format(arn), client.unsubscribe, SubscriptionArn=arn)

    to_tag, to_untag = {}, []
    if tags is not None:
        to_tag, to_untag = compare_aws_tags(tags, params["tags"], purge_tags=params["purge_tags"])
        if to_untag:
            write(module, "untag " + topic_arn, client.untag_resource, ResourceArn=topic_arn, TagKeys=to_untag)
        if to_tag:
            write(
                module,
                "tag " + topic_arn,
                client.tag_resource,
                ResourceArn=topic_arn,
                Tags=ansible_dict_to_boto3_tag_list(to_tag),
            )

    removed = set(to_unsubscribe)
    kept = [s for s in subscriptions if s.get("SubscriptionArn") not in removed]
    added = [
        dict(Protocol=p, Endpoint=e, SubscriptionArn=PENDING if p in CONFIRMED_BY_ENDPOINT else "")
        for p, e in to_subscribe
    ]
    after_tags = dict((k, v) for k, v in before["tags"].items() if k not in to_untag)
    after_tags.update(to_tag)
    after = topic_view(dict(attributes, **updates), subscription_view(kept + added), after_tags)
    changed = bool(updates or to_subscribe or to_unsubscribe or to_tag or to_untag)
    return dict(changed=changed, topic_arn=topic_arn, topic=after, diff=dict(before=before, after=after))


def ensure_absent(client, module, topic_arn):
    attributes = topic_attributes(client, module, topic_arn)
    if attributes is None:
        return dict(changed=False, topic_arn=topic_arn, topic={}, diff=dict(before={}, after={}))
    write(module, "delete topic {0}".format(topic_arn), client.delete_topic, TopicArn=topic_arn)
    before = dict(
        display_name=attributes.get("DisplayName") or "", kms_master_key_id=attributes.get("KmsMasterKeyId") or ""
    )
    return dict(changed=True, topic_arn=topic_arn, topic={}, diff=dict(before=before, after={}))


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        topic_arn=dict(type="str"),
        display_name=dict(type="str"),
        kms_master_key_id=dict(type="str", no_log=False),
        subscriptions=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(protocol=dict(type="str", required=True), endpoint=dict(type="str", required=True)),
        ),
        purge_subscriptions=dict(type="bool", default=True),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params["topic_arn"]:
        problem = arn_problem(params["name"], params["topic_arn"])
        if problem:
            module.fail_json(msg=problem)
    client = module.client("sns", retry_decorator=AWSRetry.jittered_backoff(retries=10))
    topic_arn = params["topic_arn"] or caller_topic_arn(module, params["name"])
    if params["state"] == "absent":
        result = ensure_absent(client, module, topic_arn)
    else:
        result = ensure_present(client, module, params, topic_arn)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
