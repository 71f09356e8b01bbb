"""The real Functions runtime's registration rules, on the real app and on small bad apps."""

from __future__ import annotations

from typing import Any

import azure.functions as func
import pytest

from local.host.rules import RegistrationError, check_registration, registration_errors

RESERVED = "The specified route conflicts with one or more built in routes."

Route = tuple[str, str | None, list[str] | None]


def new_app() -> func.FunctionApp:
    return func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def http_app(*routes: Route) -> list[func.Function]:
    app = new_app()
    for name, route, methods in routes:

        def handler(req: func.HttpRequest) -> func.HttpResponse:
            return func.HttpResponse()

        app.function_name(name)(app.route(route=route, methods=methods)(handler))
    return list(app.get_functions())


def timer_app(schedule: str) -> list[func.Function]:
    app = new_app()

    @app.function_name("jobs_tick")
    @app.timer_trigger(arg_name="timer", schedule=schedule)
    def tick(timer: func.TimerRequest) -> None:
        return None

    return list(app.get_functions())


def queue_app(queue_name: str) -> list[func.Function]:
    app = new_app()

    @app.function_name("jobs_take")
    @app.queue_trigger(arg_name="message", queue_name=queue_name, connection="MEDIA_STORAGE")
    def take(message: func.QueueMessage) -> None:
        return None

    return list(app.get_functions())


def blob_app(path: str, **source: Any) -> list[func.Function]:
    app = new_app()

    @app.function_name("media_take")
    @app.blob_trigger(arg_name="blob", path=path, connection="MEDIA_STORAGE", **source)
    def take(blob: func.InputStream) -> None:
        return None

    return list(app.get_functions())


def event_grid_blob_app(path: str) -> list[func.Function]:
    return blob_app(path, source=func.BlobSource.EVENT_GRID)


def retry_app(**retry: str) -> list[func.Function]:
    app = new_app()

    @app.function_name("jobs_tick")
    @app.retry(**retry)  # type: ignore[arg-type]
    @app.timer_trigger(arg_name="timer", schedule="0 */5 * * * *")
    def tick(timer: func.TimerRequest) -> None:
        return None

    return list(app.get_functions())


def test_the_app_breaks_no_registration_rule(
    app_functions: list[func.Function], base_settings: dict[str, str]
) -> None:
    assert registration_errors(app_functions, base_settings) == []


@pytest.mark.parametrize("route", ["admin", "Admin/x", "/runtime/x", "administrators", "admin/"])
def test_a_route_in_the_hosts_own_space_is_refused(route: str) -> None:
    errors = registration_errors(http_app(("things_get", route, ["GET"])))
    assert errors == [
        f"things_get: route {route!r} starts with a reserved segment (admin, runtime); "
        f'the host says: "{RESERVED}"'
    ]


def test_a_function_without_a_route_is_served_at_its_name_which_may_be_reserved() -> None:
    errors = registration_errors(http_app(("admin_staff_list", None, ["GET"])))
    assert errors == [
        "admin_staff_list: route 'admin_staff_list' starts with a reserved segment "
        f'(admin, runtime); the host says: "{RESERVED}"'
    ]


def test_routes_that_differ_only_in_case_and_slashes_conflict_on_a_shared_method() -> None:
    functions = http_app(
        ("notes_list", "families/{familyId}/notes", ["GET", "HEAD"]),
        ("notes_search", "/Families/{familyId}/Notes/", ["GET"]),
    )
    assert registration_errors(functions) == [
        "notes_search: route '/Families/{familyId}/Notes/' and its methods overlap notes_list's; "
        'the host says: "The route specified conflicts with the route defined by function '
        "'notes_list'.\""
    ]


def test_the_same_route_with_different_methods_is_allowed() -> None:
    functions = http_app(
        ("notes_list", "families/{familyId}/notes", ["GET"]),
        ("notes_create", "families/{familyId}/notes", ["POST"]),
    )
    assert registration_errors(functions) == []


def test_a_route_with_no_methods_takes_every_method_and_so_conflicts() -> None:
    functions = http_app(("sync_any", "sync", None), ("sync_push", "sync", ["POST"]))
    assert registration_errors(functions) == [
        "sync_push: route 'sync' and its methods overlap sync_any's; the host says: "
        "\"The route specified conflicts with the route defined by function 'sync_any'.\""
    ]


def test_the_later_function_by_name_ignoring_case_is_the_one_refused() -> None:
    functions = http_app(("b_get", "things", ["GET"]), ("A_get", "things", ["GET"]))
    assert [e.split(":")[0] for e in registration_errors(functions)] == ["b_get"]


@pytest.mark.parametrize("name", ["1notes", "notes.create", "notes create", "n" * 129])
def test_a_function_name_must_start_with_a_letter_and_hold_letters_digits_dash_underscore(
    name: str,
) -> None:
    errors = registration_errors(http_app((name, "things", ["GET"])))
    assert errors == [
        f"{name}: is not a valid function name; the host says: "
        f"\"'{name}' is not a valid function name.\""
    ]


@pytest.mark.parametrize("name", ["host", "HOST"])
def test_host_is_not_a_function_name(name: str) -> None:
    errors = registration_errors(http_app((name, "things", ["GET"])))
    assert errors == [
        f"{name}: is not a valid function name; the host says: "
        f"\"'{name}' is not a valid function name.\""
    ]


def test_a_binding_name_with_an_underscore_is_refused() -> None:
    app = new_app()

    @app.function_name("things_get")
    @app.route(route="things", methods=["GET"], trigger_arg_name="the_req")
    def things_get(the_req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse()

    assert registration_errors(list(app.get_functions())) == [
        "things_get: binding name 'the_req' is not a letter followed by letters and digits; "
        'the host says: "The binding name the_req is invalid. Please assign a valid name to '
        'the binding."'
    ]


def test_two_bindings_may_not_share_a_name_even_in_different_case() -> None:
    app = new_app()

    @app.function_name("things_get")
    @app.generic_input_binding(arg_name="Req", type="blob", path="things/one")
    @app.route(route="things", methods=["GET"])
    def things_get(req: func.HttpRequest, Req: bytes) -> func.HttpResponse:  # noqa: N803
        return func.HttpResponse()

    assert registration_errors(list(app.get_functions())) == [
        "things_get: binding name 'Req' is used twice; the host says: \"Multiple bindings with "
        "name 'Req' discovered. Binding names must be unique.\""
    ]


def test_a_function_has_one_trigger_only() -> None:
    app = new_app()

    @app.function_name("things_get")
    @app.generic_input_binding(arg_name="other", type="queueTrigger", queueName="things")
    @app.route(route="things", methods=["GET"])
    def things_get(req: func.HttpRequest, other: str) -> func.HttpResponse:
        return func.HttpResponse()

    assert registration_errors(list(app.get_functions())) == [
        'things_get: has 2 triggers; the host says: "Multiple trigger bindings defined. A '
        'function can only have a single trigger binding."'
    ]


def test_function_names_are_unique_across_the_app() -> None:
    functions = http_app(("notes_list", "notes", ["GET"])) + http_app(
        ("notes_list", "other-notes", ["GET"])
    )
    assert registration_errors(functions) == [
        'notes_list: the name is used twice; azure-functions says: "Function notes_list does '
        "not have a unique function name. Please change @app.function_name() or the function "
        'method name to be unique."',
        'notes_list: the name is used by another HTTP function; the host says: "The function '
        "or proxy name 'notes_list' must be unique within the function app.\"",
    ]


def test_python_parameters_must_be_the_binding_names() -> None:
    app = new_app()

    @app.function_name("things_get")
    @app.route(route="things", methods=["GET"])
    def things_get(request: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse()

    errors = registration_errors(list(app.get_functions()))
    assert errors == [
        "things_get: parameters {'request'} have no binding; the Python worker says: \"cannot "
        "load the things_get function: the following parameters are declared in Python but "
        "not in function.json: {'request'}\"",
        "things_get: bindings {'req'} have no parameter; the Python worker says: \"cannot load "
        "the things_get function: the following parameters are declared in function.json but "
        "not in Python: {'req'}\"",
    ]


def test_a_context_parameter_needs_no_binding() -> None:
    app = new_app()

    @app.function_name("things_get")
    @app.route(route="things", methods=["GET"])
    def things_get(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return func.HttpResponse()

    assert registration_errors(list(app.get_functions())) == []


def test_a_blob_trigger_on_flex_consumption_must_use_event_grid() -> None:
    assert registration_errors(blob_app("uploads/{name}")) == [
        'media_take: is a blob trigger without source EventGrid; the host says: "The Flex '
        "Consumption SKU only supports EventGrid as the source for BlobTrigger functions. "
        "Please update function 'media_take' to use EventGrid. For more information see "
        'https://aka.ms/blob-trigger-eg."'
    ]
    assert registration_errors(event_grid_blob_app("uploads/{name}")) == []


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("uploads", None),
        (
            "uploads/",
            "Invalid blob trigger path 'uploads/'. Paths must be in the format 'container/blob'.",
        ),
        (
            "up{x}/a",
            "Invalid blob trigger path 'up{x}/a'. Container paths cannot contain {resolve} tokens.",
        ),
        (
            "uploads/{name",
            "Invalid template 'uploads/{name'. Missing closing bracket at position 9.",
        ),
        ("uploads/{}", "Invalid template 'uploads/{}'. The parameter name at position 9 is empty."),
        ("Uploads/a.jpg", "Invalid container name: Uploads"),
        (
            "uploads/a.",
            "The given blob name 'a.' has an invalid suffix. Avoid blob names that "
            "end with a dot ('.'), a forward slash ('/'), or a sequence or combination of the two.",
        ),
    ],
)
def test_a_blob_trigger_path_is_checked_as_the_storage_extension_does(
    path: str, message: str | None
) -> None:
    errors = registration_errors(event_grid_blob_app(path))
    assert errors == (
        []
        if message is None
        else [f'media_take: blob trigger path {path!r}; the host says: "{message}"']
    )


@pytest.mark.parametrize(
    ("queue", "message"),
    [
        ("ab", 'A queue name must be from 3 to 63 characters long - "ab"'),
        ("q" * 64, f'A queue name must be from 3 to 63 characters long - "{"q" * 64}"'),
        ("-uploads", 'The dash (-) character may not be the first or last letter - "-uploads"'),
        ("media--uploads", "A queue name cannot contain consecutive dash(-) characters."),
        (
            "media_uploads",
            "A queue name can contain only letters, numbers, and dash(-) "
            'characters - "media_uploads"',
        ),
    ],
)
def test_a_queue_name_must_be_a_valid_azure_queue_name(queue: str, message: str) -> None:
    assert registration_errors(queue_app(queue)) == [
        f'jobs_take: queue trigger name {queue!r}; the host says: "{message}"'
    ]


def test_a_queue_trigger_name_is_lower_cased_before_it_is_checked() -> None:
    assert registration_errors(queue_app("Media-Uploads")) == []


def test_a_queue_output_with_a_bad_name_is_refused() -> None:
    app = new_app()

    @app.function_name("things_post")
    @app.queue_output(arg_name="out", queue_name="a--b", connection="MEDIA_STORAGE")
    @app.route(route="things", methods=["POST"])
    def things_post(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
        return func.HttpResponse()

    assert registration_errors(list(app.get_functions())) == [
        "things_post: queue output name 'a--b'; the host says: \"A queue name cannot contain "
        'consecutive dash(-) characters."'
    ]


def test_a_setting_expression_must_resolve_when_settings_are_given() -> None:
    functions = queue_app("%UPLOAD_QUEUE%")
    assert registration_errors(functions) == []
    assert registration_errors(functions, {"upload_queue": "media-uploads"}) == []
    assert registration_errors(functions, {"OTHER": "x"}) == [
        "jobs_take: queue trigger name '%UPLOAD_QUEUE%'; the host says: "
        "\"'%UPLOAD_QUEUE%' does not resolve to a value.\""
    ]
    assert registration_errors(functions, {"UPLOAD_QUEUE": "Bad_Queue"}) == [
        "jobs_take: queue trigger name '%UPLOAD_QUEUE%'; the host says: \"A queue name can "
        'contain only letters, numbers, and dash(-) characters - "bad_queue""'
    ]


def test_an_unclosed_setting_expression_is_refused_even_without_settings() -> None:
    assert registration_errors(timer_app("%SCHEDULE")) == [
        "jobs_tick: schedule '%SCHEDULE'; the host says: \"The '%' at position 0 does not have "
        "a closing '%'\""
    ]


@pytest.mark.parametrize(
    "schedule",
    [
        "0 */5 * * * *",
        "*/5 * * * *",
        "0 30 9 * * Mon-Fri",
        "0 0 0 1 jan,Jul *",
        "0 0 12 * * 5/2",
        "00:05:00",
        "1.00:00:00",
        "7",
    ],
)
def test_ncrontab_of_five_or_six_fields_and_timespans_are_valid_schedules(schedule: str) -> None:
    assert registration_errors(timer_app(schedule)) == []


@pytest.mark.parametrize(
    "schedule",
    [
        "0 0 * * * * *",
        "60 * * * * *",
        "0 0 24 * * *",
        "0 0 0 0 * *",
        "0 0 0 * * 7",
        "0 0 0 ? * *",
        "0 0 0 L * *",
        "0 0 0 * * Mon#1",
        "0 1,,2 * * * *",
        "24:00:00",
        "soon",
    ],
)
def test_a_schedule_ncrontab_and_timespan_both_reject_is_refused(schedule: str) -> None:
    assert registration_errors(timer_app(schedule)) == [
        f"jobs_tick: schedule {schedule!r} is neither NCRONTAB nor a TimeSpan; the host says: "
        f"\"The schedule expression '{schedule}' was not recognized as a valid cron expression "
        'or timespan string."'
    ]


def test_a_schedule_setting_is_resolved_before_it_is_checked() -> None:
    functions = timer_app("%SCHEDULE%")
    assert registration_errors(functions, {"SCHEDULE": "0 */5 * * * *"}) == []
    assert registration_errors(functions, {"SCHEDULE": "every five minutes"}) == [
        "jobs_tick: schedule '%SCHEDULE%' is neither NCRONTAB nor a TimeSpan; the host says: "
        "\"The schedule expression 'every five minutes' was not recognized as a valid cron "
        'expression or timespan string."'
    ]


def test_retry_options_the_host_accepts() -> None:
    assert (
        registration_errors(
            retry_app(strategy="fixed_delay", max_retry_count="-1", delay_interval="00:00:10")
        )
        == []
    )
    assert (
        registration_errors(
            retry_app(
                strategy="exponential_backoff",
                max_retry_count="5",
                minimum_interval="00:00:04",
                maximum_interval="00:15:00",
            )
        )
        == []
    )


@pytest.mark.parametrize(
    ("retry", "message"),
    [
        (
            {"strategy": "fixed_delay", "max_retry_count": "three", "delay_interval": "00:00:10"},
            "retry max_retry_count 'three' is not an integer; the Python worker cannot read it",
        ),
        (
            {"strategy": "fixed_delay", "max_retry_count": "3"},
            "retry delay_interval None is not HH:MM:SS; the Python worker cannot read it",
        ),
        (
            {"strategy": "fixed_delay", "max_retry_count": "3", "delay_interval": "10s"},
            "retry delay_interval '10s' is not HH:MM:SS; the Python worker cannot read it",
        ),
        (
            {
                "strategy": "linear",
                "max_retry_count": "3",
                "minimum_interval": "00:00:01",
                "maximum_interval": "00:00:02",
            },
            "retry strategy 'linear' is neither fixed_delay nor exponential_backoff; the Python "
            "worker cannot send it",
        ),
        (
            {"strategy": "fixed_delay", "max_retry_count": "-2", "delay_interval": "00:00:10"},
            'retry max_retry_count -2 is below -1 (retry forever); the host says: "Specified '
            "argument was out of the range of valid values. (Parameter 'maxRetryCount')\"",
        ),
        (
            {
                "strategy": "exponential_backoff",
                "max_retry_count": "3",
                "minimum_interval": "00:01:00",
                "maximum_interval": "00:00:10",
            },
            'retry minimum_interval is longer than maximum_interval; the host says: "The '
            'minimumInterval must not be greater than the maximumInterval."',
        ),
    ],
)
def test_retry_options_the_runtime_refuses(retry: dict[str, str], message: str) -> None:
    assert registration_errors(retry_app(**retry)) == [f"jobs_tick: {message}"]


def test_check_registration_names_every_broken_rule_at_once() -> None:
    functions = http_app(("host", "admin/tools", ["GET"]), ("things_get", "things", ["GET"]))
    with pytest.raises(RegistrationError) as refused:
        check_registration(functions)
    assert isinstance(refused.value, ValueError)
    assert str(refused.value).splitlines() == [
        "The Functions host would not register these functions:",
        "- host: is not a valid function name; the host says: \"'host' is not a valid function "
        'name."',
        "- host: route 'admin/tools' starts with a reserved segment (admin, runtime); the host "
        f'says: "{RESERVED}"',
    ]
    check_registration(http_app(("things_get", "things", ["GET"])))
