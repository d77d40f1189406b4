"""Share botocore's parsed service models across boto3 sessions in one interpreter.

mitogen keeps one Python interpreter alive per host for the whole run, but every
AWS module builds a new boto3 session, and botocore parses each service model
(ec2's is megabytes of JSON) again for each new session: about a third of the
CPU of a run. botocore already caches these per loader (``instance_cache``), on
the assumption that the parsed data is never changed; this widens that cache to
the process. The strategy shim in ../strategy/ puts this directory on
PYTHONPATH for the interpreters mitogen starts; nothing else imports it.

It also makes botocore's clients and handler registrations cheaper (below), and
installs emulator_pauses.py: amazon.aws's fixed waits after a write, skipped
when the endpoint is the local emulator.
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
    # Which services and API versions exist: a listing of ~400 data directories
    # that load_service_model repeats for every new session's loader.
    loaders.Loader.list_available_services = shared_cache(loaders.Loader.list_available_services)
    loaders.Loader.determine_latest_version = shared_cache(loaders.Loader.determine_latest_version)
    loaders.Loader.list_api_versions = shared_cache(loaders.Loader.list_api_versions)
    loaders.Loader._video_pipeline_shared = True


def _cheap_event_registration() -> None:
    """Make each new botocore session's ~130 handler registrations cheap.

    Every AWS module builds a new session, and botocore registers its builtin
    event handlers on it: for each one it asks ``inspect.getfullargspec`` whether
    the handler takes ``**kwargs`` and rewrites the event name through its alias
    table. Both answers are pure functions of the handler's code and the event
    name, yet were about a third of the CPU of building a client.
    """
    try:
        from botocore import hooks
    except ImportError:
        return
    if getattr(hooks, "_video_pipeline_cheap", False):
        return
    import inspect
    import types

    original_accepts_kwargs = hooks.accepts_kwargs

    def accepts_kwargs(func):
        # What getfullargspec reports as varkw, read straight off the code
        # object; anything with a custom signature takes the original path.
        plain = func.__func__ if isinstance(func, types.MethodType) else func
        if type(plain) is not types.FunctionType or hasattr(plain, "__signature__"):
            return original_accepts_kwargs(func)
        code = plain.__code__
        if not code.co_flags & inspect.CO_VARKEYWORDS:
            return None
        index = code.co_argcount + code.co_kwonlyargcount + (1 if code.co_flags & inspect.CO_VARARGS else 0)
        return code.co_varnames[index]

    hooks.accepts_kwargs = accepts_kwargs

    # An alias table's answers are shared by every emitter with that table (the
    # default one, or a client's copy of it); the per-emitter cache was lost
    # with each session.
    shared_alias_names: dict = {}
    original_init = hooks.EventAliaser.__init__

    def init(self, event_emitter, event_aliases=None):
        original_init(self, event_emitter, event_aliases)
        if self._event_aliases == hooks.EVENT_ALIASES:
            self._alias_name_cache = shared_alias_names

    hooks.EventAliaser.__init__ = init
    hooks._video_pipeline_cheap = True


def _reuse_client_methods() -> None:
    """Build a service's client methods once per interpreter, not once per client.

    botocore gives each new client class one method per API operation, built
    with its docstring object: 765 for EC2, about half of the CPU of creating
    an EC2 client. The methods only name their operation, so the ones built for
    a service model serve every later client of that model. Each class still
    gets its own copy of the dict, which event handlers may extend.
    """
    try:
        from botocore import client
    except ImportError:
        return
    if getattr(client.ClientCreator, "_video_pipeline_shared", False):
        return
    built: dict = {}
    original_create_methods = client.ClientCreator._create_methods

    def create_methods(self, service_model):
        description = service_model._service_description
        key = (service_model.service_name, service_model.api_version, id(description))
        if key not in built:
            # The description is kept alive with the entry so that its id
            # cannot be reused by another model.
            built[key] = (description, original_create_methods(self, service_model))
        return dict(built[key][1])

    client.ClientCreator._create_methods = create_methods
    client.ClientCreator._video_pipeline_shared = True


def _skip_emulator_pauses() -> None:
    """amazon.aws's fixed pauses after writes, skipped against the local emulator (see emulator_pauses.py)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "emulator_pauses.py")
    spec = importlib.util.spec_from_file_location("video_pipeline_emulator_pauses", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.install()


def _chain_next_sitecustomize() -> None:
    """Run the sitecustomize this one shadows, if the interpreter has one."""
    here = os.path.dirname(os.path.abspath(__file__))
    others = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", others)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


_share_botocore_models()
_cheap_event_registration()
_reuse_client_methods()
_skip_emulator_pauses()
_chain_next_sitecustomize()
