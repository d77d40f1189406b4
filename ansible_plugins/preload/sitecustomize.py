"""Share botocore's parsed service models across boto3 sessions in one interpreter.

mitogen keeps one Python interpreter alive per host for the whole run, but every
AWS module builds a new boto3 session, and botocore parses each service model
(ec2's is megabytes of JSON) again for each new session: about a third of the
CPU of a run. botocore already caches these per loader (``instance_cache``), on
the assumption that the parsed data is never changed; this widens that cache to
the process. The strategy shim in ../strategy/ puts this directory on
PYTHONPATH for the interpreters mitogen starts; nothing else imports it.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys


def _share_botocore_models() -> None:
    try:
        from botocore import loaders
    except ImportError:  # not an AWS interpreter
        return
    if getattr(loaders.Loader, "_video_pipeline_shared", False):
        return
    shared: dict = {}

    def shared_cache(method):
        def cached(self, *args, **kwargs):
            key = (method.__name__, tuple(self.search_paths), args, tuple(sorted(kwargs.items())))
            if key not in shared:
                shared[key] = method(self, *args, **kwargs)
            return shared[key]

        cached.__name__ = method.__name__
        cached.__doc__ = method.__doc__
        return cached

    loaders.Loader.load_service_model = shared_cache(loaders.Loader.load_service_model)
    loaders.Loader.load_data_with_path = shared_cache(loaders.Loader.load_data_with_path)
    loaders.Loader._video_pipeline_shared = True


def _chain_next_sitecustomize() -> None:
    """Run the sitecustomize this one shadows, if the interpreter has one."""
    here = os.path.dirname(os.path.abspath(__file__))
    others = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", others)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


_share_botocore_models()
_chain_next_sitecustomize()
