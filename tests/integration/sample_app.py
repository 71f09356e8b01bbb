"""A small app that exercises every trigger kind the local host supports."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def _record(kind: str, value: dict[str, object]) -> None:
    with Path(os.environ["SAMPLE_EVENTS_FILE"]).open("a") as events:
        events.write(json.dumps({"kind": kind, **value}) + "\n")


@app.function_name("sample_echo")
@app.route(route="things/{thingId}/parts/{partId:int}", methods=["POST", "PUT"])
def sample_echo(req: func.HttpRequest) -> func.HttpResponse:
    payload = {
        "method": req.method,
        "route": dict(req.route_params),
        "query": dict(req.params),
        "header": req.headers.get("x-sample"),
        "body": req.get_body().decode(),
    }
    return func.HttpResponse(
        json.dumps(payload), status_code=201, mimetype="application/json", headers={"X-Echo": "1"}
    )


@app.function_name("sample_crash")
@app.route(route="crash", methods=["GET"])
def sample_crash(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("boom with secret AccountKey=abc")


@app.function_name("sample_slow")
@app.route(route="slow", methods=["GET"])
def sample_slow(req: func.HttpRequest) -> func.HttpResponse:
    time.sleep(0.5)
    return func.HttpResponse("done")


@app.function_name("sample_blob")
@app.blob_trigger(
    arg_name="blob",
    path="samples/{folder}/{name}",
    connection="MEDIA_STORAGE",
    source=func.BlobSource.EVENT_GRID,
)
def sample_blob(blob: func.InputStream) -> None:
    data = blob.read()
    if data == b"fail":
        raise ValueError("this blob always fails")
    _record("blob", {"name": blob.name, "length": len(data)})


@app.function_name("sample_tick")
@app.timer_trigger(arg_name="timer", schedule="%SAMPLE_SCHEDULE%")
def sample_tick(timer: func.TimerRequest) -> None:
    _record("timer", {"pastDue": timer.past_due, "at": time.time()})
