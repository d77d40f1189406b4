"""Skip amazon.aws's eventual-consistency pauses when the AWS endpoint is the local emulator.

Two amazon.aws modules sleep a fixed time after a write, so that AWS (which is
eventually consistent) shows the change before they read it back:
ec2_vpc_route_table 5 s after any change to a route table, ec2_security_group
3 s after creating a group. moto answers every read with the write already
applied, so against it those pauses are pure waiting: about 16 s of each
network deploy, paid by every test and molecule scenario that builds a
network (the network role makes two route tables and two groups).

Only those call sites are skipped, and only when the boto3 client at the call
site talks to a loopback endpoint (the emulator, or the latency proxy in
front of it, which models no consistency delay for these resources). Against
real AWS, or an emulator on another host, every pause happens as written. Any
other sleep (botocore's retry backoff, our modules' polling) is untouched.
sitecustomize.py installs this in the interpreters mitogen starts.
"""

from __future__ import annotations

import ipaddress
import os
import sys
import time
import urllib.parse

# (module file, function) -> the local that holds the call site's boto3 client.
CONSISTENCY_PAUSES = {
    ("ec2_vpc_route_table.py", "ensure_route_table_present"): "connection",
    ("ec2_security_group.py", "create_ec2_security_group"): "client",
}


def is_loopback_endpoint(url: str | None) -> bool:
    """True when url names this machine (127.0.0.0/8, ::1 or localhost)."""
    if not url:
        return False
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def skippable(frame) -> bool:
    """Whether the sleep called from frame is a consistency pause against the emulator."""
    code = frame.f_code
    client_name = CONSISTENCY_PAUSES.get((os.path.basename(code.co_filename), code.co_name))
    if client_name is None:
        return False
    client = frame.f_locals.get(client_name)
    return is_loopback_endpoint(getattr(getattr(client, "meta", None), "endpoint_url", None))


def install() -> None:
    """Replace time.sleep with one that skips the pauses above (once per interpreter).

    The modules bind `sleep` with `from time import sleep` each time they run,
    after this has replaced it.
    """
    if getattr(time.sleep, "_video_pipeline_pauses", False):
        return
    real_sleep = time.sleep

    def sleep(seconds):
        if skippable(sys._getframe(1)):
            return None
        return real_sleep(seconds)

    sleep._video_pipeline_pauses = True
    sleep.__doc__ = real_sleep.__doc__
    time.sleep = sleep
