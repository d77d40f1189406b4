"""The botocore speed-ups the module interpreters preload (ansible_plugins/preload/sitecustomize.py).

Each must give exactly what botocore gives without it: the same answer to
"does this handler take **kwargs", the same aliased event names, and clients
with every operation of their service (plus what boto3 injects for S3).
"""

from __future__ import annotations

import functools
import inspect

import boto3
import botocore.client
import botocore.hooks
from botocore.handlers import BUILTIN_HANDLERS

from tests.unit.scripts._load import load

ORIGINAL_ACCEPTS_KWARGS = botocore.hooks.accepts_kwargs
preload = load("video_pipeline_preload", "ansible_plugins/preload/sitecustomize.py")


def plain(a, b):
    return a, b


def keywords(a, *rest, flag=True, **options):
    return a, rest, flag, options


def named_differently(**kw):
    return kw


class Handler:
    def method(self, event_name, **kwargs):
        return event_name, kwargs

    def strict(self, event_name):
        return event_name

    def __call__(self, **kwargs):
        return kwargs


def with_signature(**kwargs):
    return kwargs


with_signature.__signature__ = inspect.Signature()  # claims no **kwargs


def test_accepts_kwargs_answers_like_getfullargspec():
    assert botocore.hooks.accepts_kwargs is not ORIGINAL_ACCEPTS_KWARGS
    handlers = [spec[1] for spec in BUILTIN_HANDLERS]
    handlers += [plain, keywords, named_differently, Handler().method, Handler().strict, Handler()]
    handlers += [functools.partial(keywords, 1), with_signature, lambda **kw: kw, lambda x: x]
    for handler in handlers:
        assert botocore.hooks.accepts_kwargs(handler) == ORIGINAL_ACCEPTS_KWARGS(handler), handler


def test_aliased_event_names_match_a_fresh_aliaser():
    events = ["before-call.autoscaling.CreateLaunchConfiguration", "creating-client-class.ec2", "before-sign.s3"]
    shared = botocore.hooks.EventAliaser(botocore.hooks.HierarchicalEmitter())
    custom = botocore.hooks.EventAliaser(botocore.hooks.HierarchicalEmitter(), {"ec2": "elastic-compute"})
    assert custom._alias_name_cache is not shared._alias_name_cache
    for event in events:
        fresh = botocore.hooks.EventAliaser.__new__(botocore.hooks.EventAliaser)
        fresh._event_aliases, fresh._alias_name_cache = botocore.hooks.EVENT_ALIASES, {}
        assert shared._alias_name_cache is not fresh._alias_name_cache
        assert shared._alias_event_name(event) == botocore.hooks.EventAliaser._alias_event_name(fresh, event)
    assert custom._alias_event_name("creating-client-class.ec2") == "creating-client-class.elastic-compute"


def test_clients_of_later_sessions_have_every_operation():
    first = boto3.session.Session().client("ec2", region_name="us-east-1")
    second = boto3.session.Session().client("ec2", region_name="us-east-1")
    operations = first.meta.service_model.operation_names
    assert len(operations) > 500
    for client in (first, second):
        assert set(client._PY_TO_OP_NAME.values()) == set(operations)
        assert client.describe_vpcs.__name__ == "describe_vpcs"
        assert "DescribeVpcs" in str(client.describe_vpcs.__doc__)
    assert type(first) is not type(second)  # one class per client, as botocore builds them


def test_s3_clients_keep_what_boto3_injects_into_their_class():
    for _ in range(2):
        client = boto3.session.Session().client("s3", region_name="us-east-1")
        assert callable(client.upload_file) and callable(client.list_objects_v2)
    # boto3 added upload_file to each class's own copy, not to the shared table
    creator = botocore.client.ClientCreator.__new__(botocore.client.ClientCreator)
    table = botocore.client.ClientCreator._create_methods(creator, client.meta.service_model)
    assert "list_objects_v2" in table and "upload_file" not in table
