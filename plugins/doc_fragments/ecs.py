# -*- coding: utf-8 -*-
# Copyright: StreamFlix Platform Engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # The tag options of the ecs_*_sync modules; module_utils/ecs.py
    # (ecs_argument_spec, sync_tags) implements them the same way for each.
    DOCUMENTATION = r"""
options:
  tags:
    description:
      - Tags of the resource (the cluster, the service or the task definition revision).
      - When not given, the resource's tags are left alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not listed in O(tags).
    type: bool
    default: true
"""
