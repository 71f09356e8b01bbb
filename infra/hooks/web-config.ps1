# Windows counterpart of web-config.sh (azd's prepackage hook of the web service): writes
# dist/config.json, the web app's runtime configuration, and narrows the Content-Security-Policy
# of dist/staticwebapp.config.json to this borough's API origin, media blob endpoint and
# External ID tenant. Every value is checked against the form it must have, and nothing is
# written if one is wrong. The values are those web-config.sh lists.
$ErrorActionPreference = 'Stop'

function Find-Value([string] $Name) {
    $current = [Environment]::GetEnvironmentVariable($Name)
    if (-not $current -and (Get-Command azd -ErrorAction SilentlyContinue)) {
        $current = azd env get-value $Name 2>$null
        if ($LASTEXITCODE -ne 0) { $current = '' }
    }
    return "$current"
}

# The value of Name, which must match Pattern in full (case-sensitive, one line).
function Get-Value([string] $Name, [string] $Pattern, [string] $Description, [string] $Default = $null) {
    $current = Find-Value $Name
    if (-not $current) {
        if ($null -eq $Default) { throw "web-config: $Name is not set ($Description)" }
        $current = $Default
    }
    if ($current -cnotmatch "\A(?:$Pattern)\z") { throw "web-config: $Name must be $Description" }
    return $current
}

$guid = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'
$hostName = '[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+'

$api = Get-Value 'API_BASE_URL' "https://$hostName/api/v1" "the API's https address ending in /api/v1 (an output of infra/main.bicep)"
$media = Get-Value 'MEDIA_BLOB_URL' "https://$hostName/?" "the media account's https blob endpoint (an output of infra/main.bicep)"
$staffTenant = Get-Value 'FAMILYSTORY_STAFF_TENANT_ID' $guid 'the workforce tenant id'
$staffApi = Get-Value 'FAMILYSTORY_STAFF_API_CLIENT_ID' $guid "the staff API registration's client id"
$staffWeb = Get-Value 'FAMILYSTORY_STAFF_WEB_CLIENT_ID' $guid "the client id of the web app's registration in the workforce tenant"
$familyTenant = Get-Value 'FAMILYSTORY_FAMILY_TENANT_ID' $guid 'the External ID tenant id'
$familyApi = Get-Value 'FAMILYSTORY_FAMILY_APP_CLIENT_ID' $guid "the family app registration's client id"
$familyWeb = Get-Value 'FAMILYSTORY_FAMILY_WEB_CLIENT_ID' $guid "the client id of the web app's registration in the External ID tenant" $familyApi
$subdomain = Get-Value 'FAMILYSTORY_FAMILY_TENANT_SUBDOMAIN' '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?' "the External ID tenant's subdomain (<subdomain>.ciamlogin.com)"
$days = Get-Value 'FAMILYSTORY_WEB_MAX_OFFLINE_DAYS' '[1-9]|[1-8][0-9]|90' 'a whole number of days from 1 to 90' '14'

$dist = Find-Value 'FAMILYSTORY_WEB_DIST'
if (-not $dist) { $dist = Join-Path $PSScriptRoot '../../clients/web/dist' }
$headers = Join-Path $dist 'staticwebapp.config.json'
if (-not ((Test-Path (Join-Path $dist 'index.html') -PathType Leaf) -and (Test-Path $headers -PathType Leaf))) {
    throw "web-config: $dist holds no built web app with its staticwebapp.config.json (npm run build -w clients/web)"
}

$dist = (Resolve-Path -Path $dist).Path
$headers = Join-Path $dist 'staticwebapp.config.json'

$apiOrigin = $api -replace '^(https://[^/]+)/.*$', '$1'
$mediaOrigin = $media.TrimEnd('/')
$ciam = "https://$subdomain.ciamlogin.com"

$policy = Get-Content -Raw -Path $headers
foreach ($wildcard in @('https://*.azurewebsites.net', 'https://*.blob.core.windows.net', 'https://*.ciamlogin.com')) {
    if (-not $policy.Contains($wildcard)) {
        throw "web-config: $headers has no $wildcard in its Content-Security-Policy to narrow (narrowed already? build again: npm run build -w clients/web)"
    }
}
$policy = $policy.Replace('https://*.azurewebsites.net', $apiOrigin).Replace('https://*.blob.core.windows.net', $mediaOrigin).Replace('https://*.ciamlogin.com', $ciam)

$config = [ordered]@{
    apiBaseUrl     = $api
    signIn         = 'entra'
    staff          = [ordered]@{
        clientId  = $staffWeb
        authority = "https://login.microsoftonline.com/$staffTenant"
        scopes    = @("api://$staffApi/access_as_user")
    }
    family         = [ordered]@{
        clientId  = $familyWeb
        authority = "$ciam/$familyTenant"
        scopes    = @("api://$familyApi/access_as_user")
    }
    maxOfflineDays = [int] $days
}

$utf8 = New-Object System.Text.UTF8Encoding $false
[IO.File]::WriteAllText((Join-Path $dist 'config.json'), ($config | ConvertTo-Json -Depth 4), $utf8)
[IO.File]::WriteAllText($headers, $policy, $utf8)

Write-Output "web-config: $(Join-Path $dist 'config.json') written for $api; the Content-Security-Policy names $apiOrigin, $mediaOrigin and $ciam"
