"""A local Functions host for machines without Azure Functions Core Tools.

It loads ``function_app.py`` and reads every function's trigger from the ``azure-functions``
library's own metadata (``app.get_functions()``), so routes, blob paths, queues and schedules
are declared once, in the decorators. One module per kind of trigger:

- ``http``: HTTP triggers are served at their routes under the ``host.json`` route prefix;
  Event Grid triggers take events POSTed to ``/runtime/webhooks/eventgrid?functionName=<name>``,
  as the real host's webhook does (Event Grid schema arrays or CloudEvents, and the
  subscription validation handshake), so a developer can deliver an event by hand;
- ``blobs``: blob triggers fire when a matching blob appears or changes in Azurite, once per
  version; Event Grid functions subscribed to a container's blob-created events
  (``local.subscriptions``, the local stand-in for the Bicep subscriptions) get those events
  the same way;
- ``eventgrid``: the webhook, and delivery as Event Grid does it (answer limit, retries,
  dead-lettering, duplicates);
- ``queues``: queue triggers run on Azurite's queues as the Storage queues extension runs them;
- ``timers``: timer triggers run on their NCRONTAB schedules (``%SETTING%`` resolved from
  settings).

``rules`` holds the real runtime's registration rules, which the host applies before it starts;
``app`` reads the app's functions and their triggers; ``invoke`` calls a function as the worker
does; ``serve`` wires it all together (``python -m local.host --port 7071 --app function_app``).

Each invocation is logged with its function, status and duration; an exception inside a
function becomes a 500 problem+json (HTTP) or a logged failure, never a crash of the host.
"""
