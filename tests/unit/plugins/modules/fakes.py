"""Stand-ins shared by the module unit tests.

- fake_module(): the `module` argument of a module's functions, whose fail_json and
  fail_json_aws raise Failed (as the real ones end the module);
- client_error(): the botocore ClientError of an AWS error code;
- run_main(): runs a module's main() with module arguments and fake boto3 clients and
  hands back what it passed to exit_json or fail_json.
"""

from __future__ import annotations

import json
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args
from botocore.exceptions import ClientError


class Failed(Exception):
    """fail_json / fail_json_aws end the module; the fake raises this with their arguments."""


def fake_module(check_mode=False):
    """A MagicMock module in (or out of) check mode; fail_json_aws adds exception= to the arguments."""
    module = mock.MagicMock()
    module.check_mode = check_mode

    def fail(**kwargs):
        raise Failed(kwargs)

    module.fail_json.side_effect = fail
    module.fail_json_aws.side_effect = lambda exception, **kwargs: fail(exception=exception, **kwargs)
    return module


def client_error(code, operation="Op", message=None):
    """The ClientError botocore raises for an AWS error `code` (the message defaults to the code)."""
    return ClientError({"Error": {"Code": code, "Message": message or code}}, operation)


class Exit(Exception):
    """exit_json / fail_json end main(); the patched ones raise this."""


def run_main(main, module_args, clients):
    """Run a module's main() with `module_args`; AnsibleAWSModule.client(service) returns clients[service].

    Returns (the exit_json or fail_json arguments with failed=True/False, JSON
    round-tripped as Ansible would send them; the services main() asked a client for,
    in order).
    """
    results = {}

    def exit_json(self, **kwargs):
        results.update(kwargs, failed=False)
        raise Exit

    def fail_json(self, **kwargs):
        results.update(kwargs, failed=True)
        raise Exit

    with (
        patch_module_args(module_args),
        mock.patch("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json),
        mock.patch("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json),
        mock.patch(
            "ansible_collections.amazon.aws.plugins.module_utils.modules.AnsibleAWSModule.client",
            side_effect=lambda service, **kwargs: clients[service],
        ) as factory,
        pytest.raises(Exit),
    ):
        main()
    services = [call.args[0] for call in factory.call_args_list]
    return json.loads(json.dumps(results, default=str)), services
