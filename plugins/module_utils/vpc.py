# -*- coding: utf-8 -*-
# Copyright: StreamFlix Platform Engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""EC2 helpers shared by vpc_network and vpc_security_groups.

- Ec2Writes: every write of a module goes through it, so check mode lives in one
  place (the write is skipped and the module reports changed) and so does the
  retry policy (eventual consistency after a create, dependencies on delete);
- the tag helpers that find a resource by its Name tag and converge its tags.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.errors import AWS_ERRORS

# Right after a create, EC2 may answer calls on the new id with "not found" for a
# few seconds (eventual consistency). Those calls retry these codes with a short
# jittered backoff (at most ~40 s), instead of the fixed 3-5 s sleeps amazon.aws
# takes after every write, which cost time even when EC2 was already consistent.
NOT_FOUND_AFTER_CREATE = [
    "InvalidVpcID.NotFound",
    "InvalidSubnetID.NotFound",
    "InvalidRouteTableID.NotFound",
    "InvalidInternetGatewayID.NotFound",
    "InvalidGroup.NotFound",
]
# Deleting a subnet, a gateway or a VPC fails with DependencyViolation while AWS
# still holds network interfaces in it: ECS tasks and Aurora instances release
# theirs minutes after they are gone. 20 attempts, sleeping a random time up to
# 3, 6, 12, then 20 s: at most ~6 min (~3 min expected), then the run fails with
# AWS's message, which names the dependency.
DEPENDENCY_CODES = ["DependencyViolation"]
# What a delete of something that is already gone answers: the goal is reached.
GONE_CODES = [
    "InvalidVpcID.NotFound",
    "InvalidSubnetID.NotFound",
    "InvalidRouteTableID.NotFound",
    "InvalidInternetGatewayID.NotFound",
    "InvalidAssociationID.NotFound",
    "InvalidGroup.NotFound",
    "Gateway.NotAttached",
]


def after_create_retry():
    """Retry decorator for a call on an id created moments ago."""
    return AWSRetry.jittered_backoff(retries=8, delay=1, max_delay=8, catch_extra_error_codes=NOT_FOUND_AFTER_CREATE)


def dependency_retry():
    """Retry decorator for a delete that waits until AWS releases what still uses the resource."""
    return AWSRetry.jittered_backoff(retries=20, delay=3, max_delay=20, catch_extra_error_codes=DEPENDENCY_CODES)


def ec2_client(module):
    """EC2 client whose calls retry throttling and transient errors (aws_retry=True)."""
    return module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())


def tags_of(resource):
    """The tags of an EC2 Describe* item as a dict."""
    return boto3_tag_list_to_ansible_dict(resource.get("Tags") or [])


def tag_filters(tags):
    """Describe* filters that match resources carrying every tag of `tags`."""
    return [{"Name": "tag:{0}".format(key), "Values": [value]} for key, value in sorted(tags.items())]


def tag_specifications(resource_type, tags):
    """TagSpecifications of a Create* call: the resource never exists untagged."""
    return [{"ResourceType": resource_type, "Tags": ansible_dict_to_boto3_tag_list(tags)}]


def named(items, name):
    """The items whose Name tag is `name`."""
    return [item for item in items if tags_of(item).get("Name") == name]


class Ec2Writes:
    """Every EC2 write of one module run.

    In check mode nothing is sent and `changed` is still set, so the module
    reports what it would do. Read calls do not go through here.
    """

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.changed = False

    def call(self, operation, msg, retry=None, gone_ok=False, **params):
        """Send one write (unless in check mode) and return its response ({} in check mode).

        retry: a retry decorator for more error codes than throttling, e.g.
        after_create_retry() for a call on an id created moments ago.
        gone_ok: a delete of something already gone counts as done (returns {}).
        """
        self.changed = True
        if self.module.check_mode:
            return {}
        method = getattr(self.client, operation)
        try:
            if retry:
                return retry(method)(**params)
            return method(aws_retry=True, **params)
        except is_boto3_error_code(GONE_CODES) as e:
            if gone_ok:
                return {}
            self.module.fail_json_aws(e, msg=msg)
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=msg)

    def delete(self, operation, msg, **params):
        """A delete that waits out DependencyViolation and treats "already gone" as done."""
        return self.call(operation, msg, retry=dependency_retry(), gone_ok=True, **params)

    def sync_tags(self, resource_id, current, wanted, purge_tags=True, retry=None):
        """Bring the tags of `resource_id` from `current` to `wanted`; True when they differed."""
        to_set, to_unset = compare_aws_tags(current, wanted, purge_tags=purge_tags)
        if to_unset:
            self.call(
                "delete_tags",
                "Could not remove tags {0} of {1}".format(", ".join(sorted(to_unset)), resource_id),
                retry=retry,
                Resources=[resource_id],
                Tags=[{"Key": key} for key in sorted(to_unset)],
            )
        if to_set:
            self.call(
                "create_tags",
                "Could not tag {0}".format(resource_id),
                retry=retry,
                Resources=[resource_id],
                Tags=ansible_dict_to_boto3_tag_list(to_set),
            )
        return bool(to_set or to_unset)


def describe(module, client, operation, key, msg, **params):
    """One read-only Describe* call and the list under `key`.

    Without MaxResults, EC2 returns every match in one answer, so a filtered
    read of an env's few resources is exactly one call.
    """
    try:
        return getattr(client, operation)(aws_retry=True, **params).get(key, [])
    except AWS_ERRORS as e:
        module.fail_json_aws(e, msg=msg)
