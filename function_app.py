"""The Functions app: one Blueprint per feature module, at the log levels LOG_LEVEL asks for."""

import azure.functions as func

from functions import (
    case_records,
    families,
    media,
    notifications,
    partners,
    records_duty,
    sync,
    system,
)
from shared.log_levels import configure_log_levels

configure_log_levels()

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(system.bp)
app.register_functions(families.bp)
app.register_functions(case_records.bp)
app.register_functions(notifications.bp)
app.register_functions(sync.bp)
app.register_functions(media.bp)
app.register_functions(records_duty.bp)
app.register_functions(partners.bp)
