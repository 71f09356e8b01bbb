"""The Functions app: one Blueprint per feature module, nothing else."""

import azure.functions as func

from functions import system

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(system.bp)
