# -*- coding: utf-8 -*-
# Copyright: StreamFlix Platform Engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a boto3 call raises when AWS (or the way to it) fails, for `except AWS_ERRORS`."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import botocore

    AWS_ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
except ImportError:
    # AnsibleAWSModule fails the module before any AWS call when botocore is missing.
    AWS_ERRORS = ()
