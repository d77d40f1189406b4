# -*- coding: utf-8 -*-
# Copyright: StreamFlix Platform Engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""IAM policy documents: parse what AWS returns and compare by meaning.

Pure functions (no AWS calls). IAM stores a document as it was sent and hands it
back URL-encoded (botocore usually decodes it into a dict already), so a wanted
document and a stored one differ only in ways IAM gives no meaning to: the order
of statements, of actions, resources and condition values, a single value
written without a list around it, and condition values written as numbers or
booleans (IAM compares them as strings). Those are normalised away; everything
else (Sid, Effect, the exact action and resource strings, the condition
operators and keys, Principal "*" against {"AWS": "*"}) is compared as written,
so a real change is never missed, and since IAM returns exactly what was
sent, a document written once compares equal on the next run.

One rewrite IAM does make itself: an account ID given as an AWS principal is
stored as that account's root ARN, so both spellings normalise to the ID.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
from urllib.parse import unquote

# Statement elements whose value is a set of strings (one string or a list).
SET_ELEMENTS = ("Action", "NotAction", "Resource", "NotResource")
PRINCIPAL_ELEMENTS = ("Principal", "NotPrincipal")
# IAM's default when a document has no Version.
DEFAULT_VERSION = "2008-10-17"
ROOT_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):root$")


class PolicyDocumentError(ValueError):
    """A policy document that is neither a JSON object nor a dict."""


def parse_policy(document):
    """The document as a dict, from a dict, a JSON string or a URL-encoded JSON string."""
    if isinstance(document, dict):
        return document
    if not isinstance(document, str):
        raise PolicyDocumentError(f"a policy document must be a JSON object, not {type(document).__name__}")
    for text in (document, unquote(document)):
        try:
            parsed = json.loads(text)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
        raise PolicyDocumentError("a policy document must be a JSON object")
    raise PolicyDocumentError("a policy document is not valid JSON")


def _canonical(value):
    return json.dumps(value, sort_keys=True)


def _string_set(value):
    values = value if isinstance(value, list) else [value]
    return sorted(set(_as_string(v) for v in values))


def _as_string(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _principal(value):
    if not isinstance(value, dict):
        return value  # "*" stays "*": IAM keeps it apart from {"AWS": "*"}
    result = {}
    for kind, names in value.items():
        names = _string_set(names)
        if kind == "AWS":
            names = sorted(set(ROOT_ARN.sub(r"\1", n) if isinstance(n, str) else n for n in names))
        result[kind] = names
    return result


def _condition(value):
    if not isinstance(value, dict):
        return value
    return {
        operator: ({key: _string_set(v) for key, v in keys.items()} if isinstance(keys, dict) else keys)
        for operator, keys in value.items()
    }


def normalize_statement(statement):
    if not isinstance(statement, dict):
        return statement
    result = {}
    for element, value in statement.items():
        if element in SET_ELEMENTS:
            result[element] = _string_set(value)
        elif element in PRINCIPAL_ELEMENTS:
            result[element] = _principal(value)
        elif element == "Condition":
            result[element] = _condition(value)
        else:
            result[element] = value
    return result


def normalize_policy(document):
    """The comparable form of a policy document (dict, JSON or URL-encoded JSON)."""
    parsed = parse_policy(document)
    result = dict(parsed)
    result.setdefault("Version", DEFAULT_VERSION)
    if "Statement" in parsed:
        statements = parsed["Statement"] if isinstance(parsed["Statement"], list) else [parsed["Statement"]]
        result["Statement"] = sorted((normalize_statement(s) for s in statements), key=_canonical)
    return result


def policies_equal(a, b):
    """True when two documents mean the same to IAM (see the module docstring for what is ignored)."""
    return normalize_policy(a) == normalize_policy(b)
