"""The Functions app: one Blueprint per feature module, at the log levels LOG_LEVEL asks for, with
telemetry when a destination is configured (set up by the first invocation, not here)."""

import azure.functions as func

from functions import (
    case_records,
    evaluation,
    families,
    media,
    notifications,
    partners,
    records_duty,
    safety,
    sync,
    system,
    words,
)
from shared.bootstrap import start_telemetry
from shared.log_levels import configure_log_levels

configure_log_levels()
start_telemetry()

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(system.bp)
app.register_functions(families.bp)
app.register_functions(case_records.bp)
app.register_functions(notifications.bp)
app.register_functions(sync.bp)
app.register_functions(media.bp)
app.register_functions(records_duty.bp)
app.register_functions(evaluation.bp)
app.register_functions(words.bp)
app.register_functions(safety.bp)
app.register_functions(partners.bp)
