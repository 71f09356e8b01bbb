"""The real Functions runtime's registration rules, applied to the app's function metadata.

An app the real runtime would refuse, or would start without some of its functions, fails
``make test`` and is refused by the local host. Bindings are read as the Python worker sends
them to the host (``Function.get_raw_bindings()``); each message names the function and quotes
the runtime's own message where it has one. Functions run on the Flex Consumption plan.

Where each rule comes from:

- Azure/azure-functions-host ``src/WebJobs.Script/Utility.cs`` (``ValidateName``,
  ``ValidateBinding``, ``ValidateRetryOptions``) and
  ``src/WebJobs.Script/Host/WorkerFunctionMetadataProvider.cs`` (``ValidateMetadata``,
  ``ValidateBindings``): a function name matches ``^[a-z][a-z0-9_\\-]{0,127}$`` ignoring case
  and is not ``host``; a binding name matches ``^([a-zA-Z][a-zA-Z0-9]{0,127}|$return)$``,
  is unique ignoring case, and ``$return`` is an output; a function has at least one binding
  and an input binding whose type ends in ``Trigger``; retry options are complete, with
  ``maxRetryCount`` of -1 or more and a ``minimumInterval`` no greater than the
  ``maximumInterval`` (Azure/azure-webjobs-sdk ``src/Microsoft.Azure.WebJobs.Host/``
  ``RetryAttribute.cs``, ``ExponentialBackoffRetryAttribute.cs``,
  ``Timers/RandomizedExponentialBackoffStrategy.cs``).
- ``src/WebJobs.Script.Abstractions/Description/Binding/BindingMetadata.cs``: a binding
  direction is ``in``, ``out`` or ``inout``.
- ``src/WebJobs.Script/Description/FunctionDescriptorProvider.cs`` (``ValidateFunction``):
  every binding has a type, and there is only one trigger.
- ``src/WebJobs.Script/Host/ScriptHost.cs`` (``ValidateFunction``, ``ValidateHttpFunction``,
  ``HttpRoutesConflict``), taking functions in name order as
  ``src/WebJobs.Script/Host/FunctionMetadataManager.cs`` hands them over: an HTTP route
  (the function name when none is given), trimmed of '/' and lower-cased, does not start with
  ``admin`` or ``runtime``, whatever the route prefix; no two HTTP functions share a route
  (ignoring case and outer '/') with intersecting methods (none listed means all); HTTP
  function names are unique; on Flex Consumption a blob trigger has ``source: EventGrid``
  (``src/WebJobs.Script/Extensions/FunctionMetadataExtensions.cs``,
  ``IsLegacyBlobTriggerFunction``).
- Timer schedules: ``src/WebJobs.Script/Binding/CoreExtensionsScriptBindingProvider.cs``
  (six fields are demanded on Windows Consumption only) and Azure/azure-webjobs-sdk-extensions
  ``src/WebJobs.Extensions/Extensions/Timers/Scheduling/TimerSchedule.cs`` and
  ``CronSchedule.cs``: an NCRONTAB expression of five or six fields as NCrontab 3.3.3 parses
  it (atifaziz/NCrontab ``NCrontab/CrontabSchedule.cs``, ``CrontabFieldImpl.cs``,
  ``CrontabField.cs``), or a TimeSpan (``[-]d`` or ``[-][d.]hh:mm[:ss[.fffffff]]``).
- ``%SETTING%`` expressions in timer schedules, blob trigger paths and queue names:
  Azure/azure-webjobs-sdk ``src/Microsoft.Azure.WebJobs.Host/NameResolverExtensions.cs``
  (``ResolveWholeString``) and ``DefaultNameResolver.cs``; app settings are looked up
  ignoring case, as configuration keys are. Checked only when settings are given.
- Queue names, for queue triggers and (without ``{}`` tokens) queue outputs: Azure/
  azure-sdk-for-net ``sdk/storage/Microsoft.Azure.WebJobs.Extensions.Storage.Queues/src/``
  ``Triggers/QueueTriggerAttributeBindingProvider.cs``,
  ``Config/QueuesExtensionConfigProvider.cs`` and ``QueueClientExtensions.cs``: lower-cased,
  then 3-63 letters, digits and single dashes, not starting or ending with a dash.
- Blob trigger paths: ``sdk/storage/Microsoft.Azure.WebJobs.Extensions.Storage.Blobs/src/``
  ``Triggers/BlobTriggerAttributeBindingProvider.cs``, ``BlobPathSource.cs`` and
  ``BlobNameValidationAttribute.cs``, and Azure/azure-webjobs-sdk
  ``src/Microsoft.Azure.WebJobs.Host/Bindings/Path/BindingTemplateParser.cs``.
- The Python side: Azure/azure-functions-python-library ``azure/functions/decorators/``
  ``function_app.py`` (``validate_function_names``): function names are unique app-wide;
  Azure/azure-functions-python-worker ``azure_functions_worker/loader.py``
  (``build_retry_protos``): the retry strategy is ``fixed_delay`` or ``exponential_backoff``,
  the count an integer and intervals ``HH:MM:SS``; ``azure_functions_worker/functions.py``
  (``add_indexed_function``): the Python parameters are the binding names (``context``
  aside) and no binding is ``inout``.

Not checked: binding types missing from the extension bundle, route template syntax,
connection settings, Python type annotations, template expression names, and ``authLevel``
(the library always writes one of its own ``AuthLevel`` names).
"""

from __future__ import annotations

import inspect
import json
import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import azure.functions as func

__all__ = ["RegistrationError", "check_registration", "registration_errors"]

Binding = dict[str, Any]

FUNCTION_NAME = re.compile(r"[a-z][a-z0-9_\-]{0,127}", re.IGNORECASE | re.ASCII)
BINDING_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9]{0,127}|\$return")
RESERVED_ROUTE_PREFIXES = ("admin", "runtime")
DIRECTIONS = {"in", "out", "inout"}
RETRY_STRATEGIES = ("fixed_delay", "exponential_backoff")
INT32 = range(-(2**31), 2**31)

DOTNET_WHITESPACE = "\t\n\v\f\r "
DOTNET_INTEGER = re.compile(rf"[{DOTNET_WHITESPACE}]*[+-]?[0-9]+[{DOTNET_WHITESPACE}]*")
CRONTAB_NUMBER = re.compile(rf"[0-9]+[{DOTNET_WHITESPACE}]*")
TIMESPAN_DAYS = re.compile(r"\s*-?(?P<days>[0-9]{1,8})\s*", re.ASCII)
TIMESPAN_CLOCK = re.compile(
    r"\s*-?(?:(?P<days>[0-9]{1,8})\.)?(?P<hours>[0-9]{1,2}):(?P<minutes>[0-9]{1,2})"
    r"(?::(?P<seconds>[0-9]{1,2})(?:\.[0-9]{1,7})?)?\s*",
    re.ASCII,
)
MAX_TIMESPAN_DAYS = 10675199
MONTHS: tuple[str, ...] = ("January", "February", "March", "April", "May", "June", "July")
MONTHS += ("August", "September", "October", "November", "December")
DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
CRONTAB_FIELDS: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (0, 59, ()),
    (0, 59, ()),
    (0, 23, ()),
    (1, 31, ()),
    (1, 12, MONTHS),
    (0, 6, DAYS),
)
TEMPLATE_TOKEN = re.compile(
    r"(?P<escape>\{\{|\}\})|\{(?P<parameter>[^{}]*)\}|(?P<literal>[^{}]+)|(?P<unbalanced>[{}])"
)
CONTAINER_NAME = re.compile(r"[a-z0-9][a-z0-9\-\[^]{1,61}[a-z0-9]")


class RegistrationError(ValueError):
    """The real Functions runtime would refuse some of the app's functions."""


@dataclass(frozen=True)
class Metadata:
    """One function as the Python worker describes it to the host."""

    name: str
    bindings: tuple[Binding, ...]
    retry: Mapping[str, Any] | None
    code: Callable[..., Any] | None

    @classmethod
    def of(cls, function: func.Function) -> Metadata:
        return cls(
            name=str(function.get_function_name()),
            bindings=tuple(json.loads(raw) for raw in function.get_raw_bindings()),
            retry=function.get_settings_dict("retry_policy"),
            code=function.get_user_function(),
        )

    @property
    def trigger(self) -> Binding | None:
        return next((b for b in self.bindings if is_input(b) and is_trigger(b)), None)


def registration_errors(
    functions: list[func.Function], settings: Mapping[str, str] | None = None
) -> list[str]:
    """Every registration rule the functions break, one message each."""
    described = [Metadata.of(function) for function in functions]
    lookup = None if settings is None else setting_lookup(settings)
    errors = duplicate_name_errors(described)
    for metadata in described:
        errors += [f"{metadata.name}: {e}" for e in function_errors(metadata, lookup)]
    return errors + http_route_errors(described)


def check_registration(
    functions: list[func.Function], settings: Mapping[str, str] | None = None
) -> None:
    errors = registration_errors(functions, settings)
    if errors:
        raise RegistrationError(
            "The Functions host would not register these functions:\n"
            + "\n".join(f"- {e}" for e in errors)
        )


def says(what: str, message: str, who: str = "the host") -> str:
    return f'{what}; {who} says: "{message}"'


# --- Bindings ---------------------------------------------------------------------------------


def value_of(binding: Binding, key: str) -> Any:
    if key in binding:
        return binding[key]
    return next((v for k, v in binding.items() if k.lower() == key.lower()), None)


def text_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else json.dumps(value)


def type_of(binding: Binding) -> str:
    return str(value_of(binding, "type") or "")


def direction_of(binding: Binding) -> str:
    return str(value_of(binding, "direction") or "in").lower()


def is_input(binding: Binding) -> bool:
    return direction_of(binding) != "out"


def is_trigger(binding: Binding) -> bool:
    return type_of(binding).lower().endswith("trigger")


def function_errors(metadata: Metadata, lookup: SettingLookup | None) -> Iterator[str]:
    name = metadata.name
    if not FUNCTION_NAME.fullmatch(name) or name.lower() == "host":
        yield says("is not a valid function name", f"'{name}' is not a valid function name.")
    yield from retry_errors(metadata.retry)
    yield from binding_errors(metadata.bindings)
    yield from parameter_errors(name, metadata.bindings, metadata.code)
    trigger = metadata.trigger
    if trigger is not None:
        yield from trigger_errors(name, trigger, lookup)
    for binding in metadata.bindings:
        if type_of(binding).lower() == "queue" and not is_input(binding):
            yield from queue_name_errors(binding, lookup, output=True)


def binding_errors(bindings: tuple[Binding, ...]) -> Iterator[str]:
    seen: set[str] = set()
    for binding in bindings:
        name = value_of(binding, "name")
        shown = "" if name is None else str(name)
        direction = direction_of(binding)
        if direction not in DIRECTIONS and not DOTNET_INTEGER.fullmatch(direction):
            yield says(
                f"binding {shown!r} has direction {direction!r}",
                f"'{value_of(binding, 'direction')}' is not a valid binding direction.",
            )
        if not isinstance(name, str) or not BINDING_NAME.fullmatch(name):
            yield says(
                f"binding name {shown!r} is not a letter followed by letters and digits",
                f"The binding name {shown} is invalid. Please assign a valid name to the binding.",
            )
        elif name.lower() == "$return" and direction != "out":
            yield says(
                "$return is not an output", "$return bindings must specify a direction of 'out'."
            )
        if not type_of(binding):
            yield says(
                f"binding {shown!r} has no type",
                f"Binding '{shown}' is invalid. Bindings must specify a Type.",
            )
        if shown.lower() in seen:
            yield says(
                f"binding name {shown!r} is used twice",
                f"Multiple bindings with name '{shown}' discovered. Binding names must be unique.",
            )
        seen.add(shown.lower())
        if direction == "inout":
            yield says(
                f"binding {shown!r} is inout",
                '"inout" bindings are not supported',
                who="the Python worker",
            )
    if not bindings:
        yield says("has no bindings", "At least one binding must be declared.")
    triggers = [b for b in bindings if is_input(b) and is_trigger(b)]
    if bindings and not triggers:
        yield says(
            "has no trigger",
            "No trigger binding specified. A function must have a trigger input binding.",
        )
    if len(triggers) > 1:
        yield says(
            f"has {len(triggers)} triggers",
            "Multiple trigger bindings defined. A function can only have a single trigger binding.",
        )


def parameter_errors(
    name: str, bindings: tuple[Binding, ...], code: Callable[..., Any] | None
) -> Iterator[str]:
    if code is None:
        return
    try:
        parameters = set(inspect.signature(code).parameters)
    except (TypeError, ValueError):
        return
    bound = {str(value_of(b, "name")) for b in bindings} - {"$return"}
    if "context" in parameters and "context" not in bound:
        parameters.discard("context")
    worker = "the Python worker"
    if parameters - bound:
        listed = shown_set(parameters - bound)
        yield says(
            f"parameters {listed} have no binding",
            f"cannot load the {name} function: the following parameters are declared in "
            f"Python but not in function.json: {listed}",
            who=worker,
        )
    if bound - parameters:
        listed = shown_set(bound - parameters)
        yield says(
            f"bindings {listed} have no parameter",
            f"cannot load the {name} function: the following parameters are declared in "
            f"function.json but not in Python: {listed}",
            who=worker,
        )


def shown_set(names: set[str]) -> str:
    return "{" + ", ".join(repr(n) for n in sorted(names)) + "}"


# --- Retry options ----------------------------------------------------------------------------


def retry_errors(retry: Mapping[str, Any] | None) -> Iterator[str]:
    if retry is None:
        return
    worker = "the Python worker"
    strategy = retry.get("strategy")
    try:
        count = int(retry.get("max_retry_count"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        shown = repr(retry.get("max_retry_count"))
        yield f"retry max_retry_count {shown} is not an integer; {worker} cannot read it"
        return
    if count not in INT32:
        yield f"retry max_retry_count {count} does not fit the 32-bit count {worker} sends"
        return
    keys = (
        ["delay_interval"]
        if strategy == "fixed_delay"
        else ["minimum_interval", "maximum_interval"]
    )
    seconds: dict[str, int] = {}
    for key in keys:
        try:
            parsed = time.strptime(retry.get(key), "%H:%M:%S")  # type: ignore[arg-type]
        except (TypeError, ValueError):
            yield f"retry {key} {retry.get(key)!r} is not HH:MM:SS; {worker} cannot read it"
            return
        seconds[key] = parsed.tm_hour * 3600 + parsed.tm_min * 60 + parsed.tm_sec
    if strategy not in RETRY_STRATEGIES:
        yield (
            f"retry strategy {strategy!r} is neither fixed_delay nor exponential_backoff; "
            f"{worker} cannot send it"
        )
        return
    if count < -1:
        yield says(
            f"retry max_retry_count {count} is below -1 (retry forever)",
            "Specified argument was out of the range of valid values. (Parameter 'maxRetryCount')",
        )
    if (
        strategy == "exponential_backoff"
        and seconds["minimum_interval"] > seconds["maximum_interval"]
    ):
        yield says(
            "retry minimum_interval is longer than maximum_interval",
            "The minimumInterval must not be greater than the maximumInterval.",
        )


# --- Triggers ---------------------------------------------------------------------------------


def trigger_errors(name: str, trigger: Binding, lookup: SettingLookup | None) -> Iterator[str]:
    kind = type_of(trigger).lower()
    if kind == "timertrigger":
        yield from schedule_errors(trigger, lookup)
    elif kind == "queuetrigger":
        yield from queue_name_errors(trigger, lookup, output=False)
    elif kind == "blobtrigger":
        yield from blob_path_errors(trigger, lookup)
        source = value_of(trigger, "source")
        if source is None or str(source).lower() != "eventgrid":
            yield says(
                "is a blob trigger without source EventGrid",
                "The Flex Consumption SKU only supports EventGrid as the source for BlobTrigger "
                f"functions. Please update function '{name}' to use EventGrid. For more "
                "information see https://aka.ms/blob-trigger-eg.",
            )


def schedule_errors(trigger: Binding, lookup: SettingLookup | None) -> Iterator[str]:
    schedule = text_of(value_of(trigger, "schedule"))
    if not schedule:
        yield "timer trigger has no schedule; the host has no schedule to build"
        return
    try:
        resolved = resolve_settings(schedule, lookup)
    except UnresolvedSettingError as error:
        yield says(f"schedule {schedule!r}", str(error))
        return
    if resolved is not None and not (is_ncrontab(resolved) or is_timespan(resolved)):
        yield says(
            f"schedule {schedule!r} is neither NCRONTAB nor a TimeSpan",
            f"The schedule expression '{resolved}' was not recognized as a valid cron "
            "expression or timespan string.",
        )


def queue_name_errors(
    binding: Binding, lookup: SettingLookup | None, *, output: bool
) -> Iterator[str]:
    configured = text_of(value_of(binding, "queueName"))
    what = f"queue {'output' if output else 'trigger'} name {configured!r}"
    try:
        resolved = resolve_settings(configured or "", lookup)
    except UnresolvedSettingError as error:
        yield says(what, str(error))
        return
    if resolved is None or (output and "{" in resolved):
        return
    problem = queue_name_problem(resolved.lower())
    if problem:
        yield says(what, problem)


def queue_name_problem(name: str) -> str | None:
    if not name:
        return "A queue name can't be null or empty"
    if not 3 <= len(name) <= 63:
        return f'A queue name must be from 3 to 63 characters long - "{name}"'
    if name[0] == "-" or name[-1] == "-":
        return f'The dash (-) character may not be the first or last letter - "{name}"'
    previous = "a"
    for character in name:
        if unicodedata.category(character) == "Lu":
            return f'Queue names must be all lower case - "{name}"'
        if not (character.isalpha() or character.isdecimal()) and character != "-":
            return (
                f'A queue name can contain only letters, numbers, and dash(-) characters - "{name}"'
            )
        if character == "-" and previous == "-":
            return "A queue name cannot contain consecutive dash(-) characters."
        previous = character
    return None


def blob_path_errors(trigger: Binding, lookup: SettingLookup | None) -> Iterator[str]:
    configured = text_of(value_of(trigger, "path"))
    what = f"blob trigger path {configured!r}"
    if configured is None:
        yield says(what, "Blob paths must not be null.")
        return
    try:
        resolved = resolve_settings(configured, lookup)
    except UnresolvedSettingError as error:
        yield says(what, str(error))
        return
    if resolved is not None:
        problem = blob_path_problem(resolved)
        if problem:
            yield says(what, problem)


def blob_path_problem(pattern: str) -> str | None:
    container, slash, blob = pattern.partition("/")
    if (slash and not (container and blob)) or "\\" in container:
        return (
            f"Invalid blob trigger path '{pattern}'. Paths must be in the format 'container/blob'."
        )
    if "{" in container:
        return (
            f"Invalid blob trigger path '{pattern}'. Container paths cannot contain {{resolve}} "
            "tokens."
        )
    has_parameters = False
    for token in TEMPLATE_TOKEN.finditer(pattern):
        if token.group("unbalanced"):
            side = "closing" if token.group("unbalanced") == "{" else "opening"
            position = token.start() + 1
            return f"Invalid template '{pattern}'. Missing {side} bracket at position {position}."
        if token.group("parameter") is not None:
            if not token.group("parameter"):
                return (
                    f"Invalid template '{pattern}'. The parameter name at position "
                    f"{token.start() + 1} is empty."
                )
            has_parameters = True
    if has_parameters:
        return None
    if container != "$root" and not CONTAINER_NAME.fullmatch(container):
        return f"Invalid container name: {container}"
    if slash:
        return blob_name_problem(blob)
    return None


def blob_name_problem(blob: str) -> str | None:
    if len(blob) > 1024:
        return (
            f"The given blob name '{blob}' is too long. A blob name must be at least one character "
            "long and cannot be more than 1,024 characters long."
        )
    if blob.endswith((".", "/")):
        return (
            f"The given blob name '{blob}' has an invalid suffix. Avoid blob names that end with a "
            "dot ('.'), a forward slash ('/'), or a sequence or combination of the two."
        )
    if "\\" in blob:
        return (
            f"The given blob name '{blob}' contain illegal characters. A blob name cannot the "
            "following character(s): '\\'."
        )
    return None


# --- %SETTING% expressions --------------------------------------------------------------------

SettingLookup = Callable[[str], str | None]


class UnresolvedSettingError(ValueError):
    """A %SETTING% expression the host cannot resolve."""


def setting_lookup(settings: Mapping[str, str]) -> SettingLookup:
    folded = {key.upper(): value for key, value in settings.items()}
    return lambda name: folded.get(name.upper()) if name else None


def resolve_settings(value: str, lookup: SettingLookup | None) -> str | None:
    """The value with each %NAME% replaced, or None when there are names but no settings."""
    parts: list[str] = []
    position = 0
    unknown = False
    while (start := value.find("%", position)) >= 0:
        end = value.find("%", start + 1)
        if end < 0:
            raise UnresolvedSettingError(f"The '%' at position {start} does not have a closing '%'")
        name = value[start + 1 : end]
        resolved = None if lookup is None else lookup(name)
        if lookup is None:
            unknown = True
        elif resolved is None:
            raise UnresolvedSettingError(f"'%{name}%' does not resolve to a value.")
        parts += [value[position:start], resolved or ""]
        position = end + 1
    return None if unknown else "".join(parts) + value[position:]


# --- Timer schedules --------------------------------------------------------------------------


def is_ncrontab(expression: str) -> bool:
    tokens = [token for token in expression.split(" ") if token]
    if len(tokens) not in (5, 6):
        return False
    fields = CRONTAB_FIELDS[6 - len(tokens) :]
    return all(is_crontab_field(token, *field) for token, field in zip(tokens, fields, strict=True))


def is_crontab_field(text: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    if text.find(",") > 0:
        return all(part and is_crontab_field(part, low, high, names) for part in text.split(","))
    slash = text.find("/")
    stepped = slash > 0
    if stepped:
        step = text[slash + 1 :]
        if not DOTNET_INTEGER.fullmatch(step) or int(step) not in INT32:
            return False
        text = text[:slash]
    if text == "*":
        return True
    dash = text.find("-")
    if dash > 0:
        bounds = [
            crontab_value(text[:dash], names, low),
            crontab_value(text[dash + 1 :], names, low),
        ]
    else:
        bounds = [crontab_value(text, names, low)]
    return all(value is not None and low <= value <= high for value in bounds)


def crontab_value(text: str, names: tuple[str, ...], low: int) -> int | None:
    if not text:
        return None
    if "0" <= text[0] <= "9":
        return int(text) if CRONTAB_NUMBER.fullmatch(text) and int(text) in INT32 else None
    return next(
        (low + i for i, name in enumerate(names) if name.lower().startswith(text.lower())), None
    )


def is_timespan(expression: str) -> bool:
    days = TIMESPAN_DAYS.fullmatch(expression)
    if days:
        return int(days["days"]) <= MAX_TIMESPAN_DAYS
    clock = TIMESPAN_CLOCK.fullmatch(expression)
    return bool(
        clock
        and int(clock["days"] or 0) <= MAX_TIMESPAN_DAYS
        and int(clock["hours"]) < 24
        and int(clock["minutes"]) < 60
        and int(clock["seconds"] or 0) < 60
    )


# --- App-wide rules ---------------------------------------------------------------------------


def duplicate_name_errors(functions: list[Metadata]) -> list[str]:
    errors: list[str] = []
    seen: set[str] = set()
    for metadata in functions:
        if metadata.name in seen:
            errors.append(
                f"{metadata.name}: "
                + says(
                    "the name is used twice",
                    f"Function {metadata.name} does not have a unique function name. Please "
                    "change @app.function_name() or the function method name to be unique.",
                    who="azure-functions",
                )
            )
        seen.add(metadata.name)
    return errors


@dataclass(frozen=True)
class HttpTrigger:
    route: str
    methods: tuple[str, ...]

    def conflicts_with(self, other: HttpTrigger) -> bool:
        if self.route.strip("/").upper() != other.route.strip("/").upper():
            return False
        return not self.methods or not other.methods or bool(set(self.methods) & set(other.methods))


def http_route_errors(functions: list[Metadata]) -> list[str]:
    errors: list[str] = []
    registered: dict[str, HttpTrigger] = {}
    for metadata in sorted(functions, key=lambda m: m.name.upper()):
        trigger = metadata.trigger
        if trigger is None or type_of(trigger).lower() != "httptrigger":
            continue
        route = text_of(value_of(trigger, "route"))
        http = HttpTrigger(
            route=route if route and route.strip() else metadata.name,
            methods=tuple(str(m) for m in value_of(trigger, "methods") or ()),
        )
        shown = f"route {http.route!r}"
        if http.route.strip("/").lower().startswith(RESERVED_ROUTE_PREFIXES):
            errors.append(
                f"{metadata.name}: "
                + says(
                    f"{shown} starts with a reserved segment (admin, runtime)",
                    "The specified route conflicts with one or more built in routes.",
                )
            )
            continue
        other = next((n for n, o in registered.items() if http.conflicts_with(o)), None)
        if other is not None:
            errors.append(
                f"{metadata.name}: "
                + says(
                    f"{shown} and its methods overlap {other}'s",
                    f"The route specified conflicts with the route defined by function '{other}'.",
                )
            )
            continue
        if metadata.name in registered:
            errors.append(
                f"{metadata.name}: "
                + says(
                    "the name is used by another HTTP function",
                    f"The function or proxy name '{metadata.name}' must be unique within the "
                    "function app.",
                )
            )
            continue
        registered[metadata.name] = http
    return errors
