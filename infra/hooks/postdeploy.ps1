# Windows counterpart of postdeploy.sh, run once the code is deployed: subscribes
# reminders_delivery_report to SMS delivery reports of Communication Services. Event Grid looks
# the function up itself (no key), but only once the deployed app lists it. (Upload events go to
# a Storage queue, which main.bicep subscribes with the rest of the stack.)
$ErrorActionPreference = 'Stop'

function Get-Output([string] $Name) {
    $current = [Environment]::GetEnvironmentVariable($Name)
    if (-not $current -and (Get-Command azd -ErrorAction SilentlyContinue)) {
        $current = azd env get-value $Name 2>$null
    }
    if (-not $current) { throw "postdeploy: $Name is not set (an output of infra/main.bicep)" }
    return $current
}

$group = Get-Output 'AZURE_RESOURCE_GROUP'
$app = Get-Output 'AZURE_FUNCTION_APP_NAME'
$storage = Get-Output 'MEDIA_ACCOUNT_NAME'
$smsTopic = Get-Output 'SMS_EVENTS_SYSTEM_TOPIC'
$smsDeadletter = Get-Output 'SMS_EVENTS_DEADLETTER_CONTAINER'
$appHost = az functionapp show --resource-group $group --name $app --query defaultHostName --output tsv

# Event Grid refuses an Azure Function destination it cannot find; wait until the app lists it.
function Wait-Function([string] $Name) {
    for ($attempt = 1; $attempt -le 30; $attempt++) {
        az functionapp function show --resource-group $group --name $app --function-name $Name --query name --output tsv 2>$null | Out-Null
        if ($LASTEXITCODE -eq 0) { return }
        try { Invoke-WebRequest -Uri "https://$appHost/" -TimeoutSec 30 -UseBasicParsing | Out-Null } catch { }
        Start-Sleep -Seconds 10
    }
    throw "postdeploy: $app does not list $Name; is it deployed?"
}

Wait-Function 'reminders_delivery_report'
az deployment group create `
    --name delivery-reports `
    --resource-group $group `
    --template-file (Join-Path $PSScriptRoot '../app/delivery-reports.bicep') `
    --parameters functionAppName=$app systemTopicName=$smsTopic mediaAccountName=$storage deadLetterContainerName=$smsDeadletter `
    --output none
if ($LASTEXITCODE -ne 0) { throw 'postdeploy: the delivery-reports deployment failed' }

Write-Output "postdeploy: SMS delivery reports from $smsTopic now trigger reminders_delivery_report on $app"
