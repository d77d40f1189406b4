"""secretsmanager_resource_policy: parsed-JSON comparison, put/delete, check mode, missing secret (mocked client)."""

from __future__ import annotations

import json
from unittest.mock import MagicMock

import pytest
from ansible_collections.streamflix.video_pipeline.plugins.modules import secretsmanager_resource_policy as mod

from tests.unit.plugins.modules.fakes import Failed, client_error, fake_module

SECRET_NAME = "video-processing-api-keys-dev"  # noqa: S105 - a name, not a password
ARN = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{SECRET_NAME}-AbCdEf"
ALLOWED = ["arn:aws:iam::123456789012:role/b", "arn:aws:iam::123456789012:role/a"]
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyOthers",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "secretsmanager:*",
            "Resource": "*",
            "Condition": {"StringNotLike": {"aws:PrincipalArn": ALLOWED}},
        }
    ],
}
# what AWS hands back: re-formatted text, other key order, other list order
AWS_TEXT = (
    '{\n  "Version" : "2012-10-17",\n  "Statement" : [ {\n    "Condition" : {\n      "StringNotLike" : {\n'
    '        "aws:PrincipalArn" : [ "arn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:role/b" ]\n'
    '      }\n    },\n    "Resource" : "*",\n    "Action" : "secretsmanager:*",\n    "Principal" : "*",\n'
    '    "Effect" : "Deny",\n    "Sid" : "DenyOthers"\n  } ]\n}'
)


def client_with(text, exists=True):
    client = MagicMock()
    if not exists:
        client.get_resource_policy.side_effect = client_error("ResourceNotFoundException", "GetResourcePolicy")
    else:
        response = {"ARN": ARN, "Name": SECRET_NAME}
        if text:
            response["ResourcePolicy"] = text
        client.get_resource_policy.return_value = response
    return client


def test_reformatted_equal_policy_changes_nothing():
    client = client_with(AWS_TEXT)
    result = mod.ensure(client, fake_module(), SECRET_NAME, POLICY, "present", True)
    assert result["changed"] is False
    assert result["policy_text"] == AWS_TEXT
    client.put_resource_policy.assert_not_called()


def test_missing_policy_is_put_and_stored_text_returned():
    client = client_with("")
    client.get_resource_policy.side_effect = [{"ARN": ARN}, {"ARN": ARN, "ResourcePolicy": AWS_TEXT}]
    result = mod.ensure(client, fake_module(), SECRET_NAME, POLICY, "present", True)
    assert result["changed"] is True
    assert result["policy_text"] == AWS_TEXT
    kwargs = client.put_resource_policy.call_args.kwargs
    assert json.loads(kwargs["ResourcePolicy"]) == POLICY
    assert kwargs["BlockPublicPolicy"] is True
    assert result["diff"] == {"before": {"policy": None}, "after": {"policy": POLICY}}


def test_different_principal_list_is_a_change():
    changed = json.loads(AWS_TEXT)
    changed["Statement"][0]["Condition"]["StringNotLike"]["aws:PrincipalArn"].append("arn:aws:iam::1:role/x")
    client = client_with(json.dumps(changed))
    client.get_resource_policy.side_effect = None
    assert mod.ensure(client, fake_module(), SECRET_NAME, POLICY, "present", True)["changed"] is True
    client.put_resource_policy.assert_called_once()


def test_check_mode_reports_without_putting():
    client = client_with("")
    result = mod.ensure(client, fake_module(check_mode=True), SECRET_NAME, POLICY, "present", True)
    assert result["changed"] is True
    client.put_resource_policy.assert_not_called()


def test_missing_secret_is_skipped():
    client = client_with(None, exists=False)
    result = mod.ensure(client, fake_module(), SECRET_NAME, POLICY, "present", True)
    assert result == {
        "changed": False,
        "secret_exists": False,
        "policy": None,
        "policy_text": "",
        "diff": {"before": {}, "after": {}},
    }


@pytest.mark.parametrize(("text", "changed"), [(AWS_TEXT, True), ("", False)])
def test_absent_deletes_only_an_existing_policy(text, changed):
    client = client_with(text)
    client.get_resource_policy.side_effect = [
        {"ARN": ARN, "ResourcePolicy": text} if text else {"ARN": ARN},
        {"ARN": ARN},
    ]
    assert mod.ensure(client, fake_module(), SECRET_NAME, None, "absent", True)["changed"] is changed
    assert client.delete_resource_policy.called is changed


def test_api_errors_fail():
    client = client_with("")
    client.put_resource_policy.side_effect = client_error("MalformedPolicyDocumentException", "PutResourcePolicy")
    with pytest.raises(Failed):
        mod.ensure(client, fake_module(), SECRET_NAME, POLICY, "present", True)


def test_secret_scheduled_for_deletion_is_skipped():
    client = client_with("")
    client.get_resource_policy.side_effect = client_error("InvalidRequestException", "GetResourcePolicy")
    result = mod.ensure(client, fake_module(), SECRET_NAME, POLICY, "present", True)
    assert result["changed"] is False and result["secret_exists"] is False
    client.put_resource_policy.assert_not_called()
