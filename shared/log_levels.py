"""LOG_LEVEL sets how much the app logs, in Azure as locally.

The Functions host hands the worker's root logger to the app, so the app sets its own loggers'
levels when it starts (``function_app.py``). The variable is read straight from the
environment: the settings model would load pydantic, and this runs on every cold start.
The Azure SDKs and urllib3 log every request at INFO; they stay at WARNING unless LOG_LEVEL is
DEBUG.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

# The app's loggers: named familystory.<area>, or after their module (shared.*, functions.*).
APP_LOGGERS = ("familystory", "shared", "functions")
SDK_LOGGERS = (
    "azure",
    "azure.core.pipeline.policies.http_logging_policy",
    "azure.identity",
    "urllib3",
)
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT = "INFO"


def configure_log_levels(environ: Mapping[str, str] = os.environ) -> str:
    """Set the app's and the SDKs' logger levels from LOG_LEVEL; returns the level used.

    A value that is not a level name falls back to INFO with a warning, never an error: a typo
    in an app setting must not stop the app from starting.
    """
    given = environ.get("LOG_LEVEL", "")
    name = given.strip().upper() or DEFAULT
    valid = name in LEVELS
    if not valid:
        name = DEFAULT
    for logger in APP_LOGGERS:
        logging.getLogger(logger).setLevel(name)
    sdk_level = "DEBUG" if name == "DEBUG" else "WARNING"
    for logger in SDK_LOGGERS:
        logging.getLogger(logger).setLevel(sdk_level)
    if not valid:
        logging.getLogger("familystory").warning(
            "LOG_LEVEL %r is not one of %s; logging at %s", given, ", ".join(LEVELS), DEFAULT
        )
    return name
