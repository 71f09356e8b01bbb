#!/bin/sh
# Creates the Event Grid subscription that can exist only once the code is deployed (azd's
# postdeploy hook, or by hand after `func azure functionapp publish`): delivery-reports.bicep,
# SMS delivery reports of Communication Services to the Event Grid-triggered function
# reminders_delivery_report. Event Grid looks the function up itself (no key is read or
# passed), but only accepts it once the deployed app lists it, so the hook waits for that first.
# (Upload events go to a Storage queue, which main.bicep subscribes with the rest of the stack.)
#
# Needs: az (signed in), and these values from the main deployment's outputs, taken from the
# environment or, under azd, from the azd environment:
#   AZURE_RESOURCE_GROUP AZURE_FUNCTION_APP_NAME MEDIA_ACCOUNT_NAME
#   SMS_EVENTS_SYSTEM_TOPIC SMS_EVENTS_DEADLETTER_CONTAINER
set -eu

value() {
  eval "current=\${$1:-}"
  if [ -z "$current" ] && command -v azd >/dev/null 2>&1; then
    current=$(azd env get-value "$1" 2>/dev/null || true)
  fi
  if [ -z "$current" ]; then
    echo "postdeploy: $1 is not set (an output of infra/main.bicep)" >&2
    exit 1
  fi
  printf '%s' "$current"
}

group=$(value AZURE_RESOURCE_GROUP)
app=$(value AZURE_FUNCTION_APP_NAME)
storage=$(value MEDIA_ACCOUNT_NAME)
sms_topic=$(value SMS_EVENTS_SYSTEM_TOPIC)
sms_deadletter=$(value SMS_EVENTS_DEADLETTER_CONTAINER)
here=$(cd "$(dirname "$0")" && pwd)
host=$(az functionapp show --resource-group "$group" --name "$app" --query defaultHostName --output tsv)

# Event Grid refuses an Azure Function destination it cannot find; wake the app and wait until
# it lists the function.
wait_for_function() {
  attempt=0
  until az functionapp function show --resource-group "$group" --name "$app" \
      --function-name "$1" --query name --output tsv >/dev/null 2>&1; do
    attempt=$((attempt + 1))
    if [ "$attempt" -gt 30 ]; then
      echo "postdeploy: $app does not list $1; is it deployed?" >&2
      exit 1
    fi
    curl --silent --output /dev/null --max-time 30 "https://$host/" || true
    sleep 10
  done
}

wait_for_function reminders_delivery_report
az deployment group create \
  --name delivery-reports \
  --resource-group "$group" \
  --template-file "$here/../app/delivery-reports.bicep" \
  --parameters functionAppName="$app" systemTopicName="$sms_topic" \
    mediaAccountName="$storage" deadLetterContainerName="$sms_deadletter" \
  --output none

echo "postdeploy: SMS delivery reports from $sms_topic now trigger reminders_delivery_report on $app"
