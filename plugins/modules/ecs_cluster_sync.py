#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: StreamFlix Platform Engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ecs_cluster_sync
short_description: ECS cluster with its settings (Container Insights) and tags
version_added: 1.0.0
description:
  - Creates an ECS cluster with its cluster settings and tags in one C(CreateCluster) call,
    keeps the settings in line with C(UpdateCluster) and the tags with C(TagResource), or deletes it.
  - M(community.aws.ecs_cluster) manages neither cluster settings nor tags.
  - Only the settings named in O(settings) are compared; others are left alone.
options:
  name:
    description: Cluster name.
    type: str
    required: true
  state:
    description: Whether the cluster should exist.
    type: str
    choices: [present, absent]
    default: present
  settings:
    description: "Cluster settings by name, for example C({containerInsights: enabled})."
    type: dict
    default: {}
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - streamflix.video_pipeline.ecs
author:
  - StreamFlix Platform Engineering (@streamflix)
"""

EXAMPLES = r"""
- name: Cluster with Container Insights
  streamflix.video_pipeline.ecs_cluster_sync:
    name: video-processing-cluster-dev
    settings:
      containerInsights: enabled
    tags:
      Environment: dev

- name: Delete the cluster (its services must be gone)
  streamflix.video_pipeline.ecs_cluster_sync:
    name: video-processing-cluster-dev
    state: absent
"""

RETURN = r"""
cluster:
  description: The cluster as DescribeClusters returns it (snake_case).
  returned: when the cluster exists
  type: dict
  sample:
    cluster_arn: arn:aws:ecs:us-east-1:123456789012:cluster/video-processing-cluster-dev
    settings: [{name: containerInsights, value: enabled}]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402  (DOCUMENTATION comes first)
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.ecs import (  # noqa: E402  (DOCUMENTATION comes first)
    dict_to_ecs_tags,
    ecs_argument_spec,
    ecs_tags_to_dict,
    run_sync,
    sync_tags,
)


def describe(client, name):
    """The ACTIVE (or PROVISIONING) cluster, or None."""
    found = client.describe_clusters(aws_retry=True, clusters=[name], include=["SETTINGS", "TAGS"])
    clusters = [c for c in found.get("clusters", []) if c.get("status") not in ("INACTIVE", "DEPROVISIONING")]
    return clusters[0] if clusters else None


def settings_to_update(wanted, current):
    """Settings (name -> value) whose current value differs; settings not asked for are ignored."""
    have = {s["name"]: s.get("value") for s in (current or [])}
    return {k: str(v) for k, v in (wanted or {}).items() if have.get(k) != str(v)}


def as_setting_list(settings):
    return [dict(name=k, value=str(v)) for k, v in sorted(settings.items())]


def ensure_present(client, params, check_mode):
    current = describe(client, params["name"])
    if current is None:
        result = dict(
            changed=True, diff=dict(before={}, after=dict(settings=params["settings"], tags=params.get("tags")))
        )
        if not check_mode:
            request = dict(clusterName=params["name"], settings=as_setting_list(params["settings"]))
            if params.get("tags"):
                request["tags"] = dict_to_ecs_tags(params["tags"])
            result["cluster"] = client.create_cluster(aws_retry=True, **request)["cluster"]
        return result

    updates = settings_to_update(params["settings"], current.get("settings"))
    current_tags = ecs_tags_to_dict(current.get("tags"))
    before = dict(settings={s["name"]: s.get("value") for s in current.get("settings") or []}, tags=current_tags)
    after = dict(
        settings=dict(before["settings"], **updates),
        tags=current_tags if params.get("tags") is None else params["tags"],
    )
    changed = bool(updates)
    if updates and not check_mode:
        current = client.update_cluster(aws_retry=True, cluster=params["name"], settings=as_setting_list(updates))[
            "cluster"
        ]
    changed |= sync_tags(
        client, current["clusterArn"], current_tags, params.get("tags"), params["purge_tags"], check_mode
    )
    return dict(changed=changed, cluster=current, diff=dict(before=before, after=after))


def ensure_absent(client, params, check_mode):
    current = describe(client, params["name"])
    if current is None:
        return dict(changed=False)
    if not check_mode:
        client.delete_cluster(aws_retry=True, cluster=params["name"])
    return dict(changed=True, diff=dict(before=dict(status=current.get("status")), after=dict(status="INACTIVE")))


def main():
    argument_spec = ecs_argument_spec(
        name=dict(type="str", required=True),
        settings=dict(type="dict", default={}),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run_sync(module, ensure_present, ensure_absent, f"Failed to sync ECS cluster {module.params['name']}", "cluster")


if __name__ == "__main__":
    main()
