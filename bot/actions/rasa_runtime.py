"""Fixes to Rasa 3.6's per-turn hot path, installed once by our tracker store (both profiles).

Measured with `bench/stack_bench.py --profile` (py-spy on the Rasa server), each fix keeps Rasa's
behaviour and removes work that does not depend on the message:

- every action-server response is checked with `jsonschema.validate`, which first validates the
  (constant) schema against the JSON-Schema meta-schema: about half of the server's CPU per
  message; then each event is tried against all 23 event schemas of a `oneOf`. We check the
  schema once, keep compiled validators and try each event against the schema its name selects
  (same verdict, see ResponseValidator); a bad response still fails with Rasa's own error.
- the processor and the memoization and rule policies deep-copy trackers' events and states only
  to pass them to `structlogger.debug(...)`, and the arguments are built even when debug logging is
  off. Those modules use `copy.deepcopy` for nothing else (tests/actions/test_rasa_runtime.py reads their
  source to keep that true), so while debug logging is off they get a `copy` whose deepcopy
  returns its argument.
- `Event.resolve_by_type` walks the whole Event class tree for every stored event it reads back;
  we remember the name -> class mapping (rebuilt when a name is unknown, e.g. a new subclass).
- `DaskGraphRunner.run` (the NLU pipeline, then the policies, several times a turn) hands the graph
  to dask's synchronous scheduler, which plans it again on every call. We run the same nodes with
  the same inputs, one after the other in one thread as dask.get does, in a dependency order
  computed once per set of targets.
- `EndpointConfig.request` (the action server, an NLG server) opens a new HTTP client session, so a
  new TCP connection, for every call. Each endpoint now keeps one session per event loop, whose
  idle connections are dropped after 4 s: before any server closes them (Sanic's default is 5 s,
  ours 75 s), so calls do not land on connections the server is closing.
- Python's full garbage collection walks every object of the loaded model (TensorFlow, scikit-learn,
  the graph): about 0.3 s during which no turn progresses, every few hundred messages. Once
  `Agent.load_model` has loaded a model, its objects are moved out of the collector's reach
  (`gc.freeze`); the model is never freed piecemeal, and a new model loaded later is frozen in turn.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import logging
import types
import weakref
from typing import Any, Dict, List, Optional, Text, Type

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig

_INSTALLED_FLAG = "_aiguillage_fix"
# Modules whose `copy.deepcopy` calls only build arguments of structlogger.debug.
DEBUG_ONLY_DEEPCOPY_MODULES = ("rasa.core.processor", "rasa.core.policies.memoization",
                               "rasa.core.policies.rule_policy")


def install() -> None:
    """Install the fixes (idempotent)."""
    _install_response_validator()
    _install_debug_only_deepcopy()
    _install_event_class_cache()
    _install_shared_http_sessions()
    _install_sequential_graph_runner()
    _install_freeze_after_model_load()


def _mark(function):
    setattr(function, _INSTALLED_FLAG, True)
    return function


def _installed(function) -> bool:
    return getattr(function, _INSTALLED_FLAG, False)


class ResponseValidator:
    """Rasa's action-response schema, checked with compiled validators.

    Each event schema in Rasa's `oneOf` pins `event` to its own constant, so an event is valid
    exactly when it is valid against the one branch named by its `event` (all others fail on that
    constant). We check that branch only, and let the whole schema decide (and word the error)
    whenever the quick check does not pass."""

    def __init__(self, schema: Dict[Text, Any]):
        validator_class = validator_for(schema)
        validator_class.check_schema(schema)
        self.full = validator_class(schema)
        events = schema["properties"]["events"]
        item = events["items"]
        shell = {key: value for key, value in item.items() if key != "oneOf"}
        self.by_event: Dict[Text, Any] = {}
        for branch in item["oneOf"]:
            name = branch["properties"]["event"]["const"]
            self.by_event[name] = validator_class({**shell, "allOf": [branch]})
        outer = {**schema, "properties": {**schema["properties"],
                                          "events": {k: v for k, v in events.items() if k != "items"}}}
        self.outer = validator_class(outer)

    def _quick_ok(self, result: Any) -> bool:
        if not self.outer.is_valid(result):
            return False
        for event in result.get("events") or ():
            validator = self.by_event.get(event.get("event")) if isinstance(event, dict) else None
            if validator is None or not validator.is_valid(event):
                return False
        return True

    def validate(self, result: Any) -> None:
        """Raise jsonschema's ValidationError exactly when Rasa's schema rejects `result`."""
        if not self._quick_ok(result):
            self.full.validate(result)


def _install_response_validator() -> None:
    original = RemoteAction._validate_action_result
    if _installed(original):
        return
    validator = ResponseValidator(RemoteAction.action_response_format_spec())

    @_mark
    def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        try:
            validator.validate(result)
            return True
        except ValidationError:
            # Rasa builds its own message (with the link to its docs) for the rare bad response.
            return original(self, result)

    RemoteAction._validate_action_result = validate_action_result


def _debug_enabled() -> bool:
    return logging.getLogger("rasa").isEnabledFor(logging.DEBUG)


def _deepcopy_when_debugging(value: Any, memo: Optional[dict] = None) -> Any:
    return copy.deepcopy(value, memo) if _debug_enabled() else value


def _install_debug_only_deepcopy() -> None:
    import importlib

    shim = types.SimpleNamespace(deepcopy=_mark(_deepcopy_when_debugging), copy=copy.copy)
    for name in DEBUG_ONLY_DEEPCOPY_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "copy", None) is copy:
            module.copy = shim


def _install_event_class_cache() -> None:
    original = Event.resolve_by_type
    if _installed(original):
        return
    known: Dict[Text, Type[Event]] = {}

    def refresh() -> None:
        known.clear()
        for cls in all_subclasses(Event):
            known.setdefault(cls.type_name, cls)  # first match wins, as in Rasa's loop

    @_mark
    def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
        if type_name not in known:
            refresh()
        if type_name in known:
            return known[type_name]
        return original(type_name, default)  # Rasa's own answer: None, the default or its error

    Event.resolve_by_type = staticmethod(resolve_by_type)


def _install_freeze_after_model_load() -> None:
    original = Agent.load_model
    if _installed(original):
        return

    @_mark
    def load_model(self: Agent, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        gc.collect()
        gc.freeze()

    Agent.load_model = load_model


# Below every server's keep-alive timeout (Sanic: 5 s by default), see the module docstring.
KEEPALIVE_SECONDS = 4.0


_SESSIONS_ATTRIBUTE = "_aiguillage_sessions"
_ORDERS_ATTRIBUTE = "_aiguillage_orders"


class _KeptSession:
    """What `async with endpoint.session()` gets: the endpoint's open session, left open after use."""

    def __init__(self, session):
        self.session = session

    async def __aenter__(self):
        return self.session

    async def __aexit__(self, *exc) -> bool:
        return False


def _install_shared_http_sessions() -> None:
    import aiohttp
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT

    original = EndpointConfig.session
    if _installed(original):
        return

    def new_session(endpoint: EndpointConfig) -> "aiohttp.ClientSession":
        # As EndpointConfig.session builds it, plus the short keep-alive.
        auth = (aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
                if endpoint.basic_auth else None)
        return aiohttp.ClientSession(headers=endpoint.headers, auth=auth,
                                     timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                                     connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS))

    @_mark
    def session(self: EndpointConfig):
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return original(self)
        # One session per loop (a session belongs to its loop), forgotten with the loop.
        per_loop = self.__dict__.setdefault(_SESSIONS_ATTRIBUTE, weakref.WeakKeyDictionary())
        kept = per_loop.get(loop)
        if kept is None or kept.closed:
            kept = per_loop[loop] = new_session(self)
        return _KeptSession(kept)

    EndpointConfig.session = session


def _dependency_order(schema, targets) -> List[Text]:
    """Nodes of `schema` needed for `targets`, each after the nodes it needs."""
    order: List[Text] = []
    seen = set()

    def visit(name: Text) -> None:
        if name in seen or name not in schema.nodes:
            return  # done already, or an input placeholder
        seen.add(name)
        for needed in schema.nodes[name].needs.values():
            visit(needed)
        order.append(name)

    for target in targets:
        visit(target)
    return order


def _install_sequential_graph_runner() -> None:
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    original = DaskGraphRunner.run
    if _installed(original):
        return

    @_mark
    def run(self: DaskGraphRunner, inputs: Optional[Dict[Text, Any]] = None,
            targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        run_targets = list(targets) if targets else self._graph_schema.target_names
        orders = self.__dict__.setdefault(_ORDERS_ATTRIBUTE, {})
        key = tuple(run_targets)
        if key not in orders:
            orders[key] = _dependency_order(self._graph_schema, run_targets)
        results: Dict[Text, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in self._graph_schema.nodes:
                return original(self, inputs, targets)  # Rasa's own error for a clashing input
            results[name] = (name, value)  # what a dask literal hands to the nodes
        try:
            for name in orders[key]:
                node = self._graph_schema.nodes[name]
                # A name neither computed nor given reaches the node as is, as with dask.
                results[name] = self._instantiated_nodes[name](*(results.get(n, n) for n in node.needs.values()))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(results[t] for t in run_targets)

    run.__wrapped__ = original
    DaskGraphRunner.run = run
