// The Function App on the Flex Consumption plan: Python 3.11, the user-assigned identity for
// everything (host storage, deployment package, SDK clients, telemetry), HTTPS and TLS 1.2 only,
// FTP, basic publishing credentials and remote debugging off.
//
// appSettings below is the one place app settings are set. tests/infra/test_settings_drift.py
// checks it against shared/settings.py: every setting the code declares with scope "azure" must
// be here, every other name here must be declared by the code or be a Functions host setting,
// and no "local" setting may appear anywhere under infra/.

@description('Name of the Function App.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Azure region of the plan and the app.')
param location string

@description('Tags applied to the plan and the app.')
param tags object

@description('Resource id of the app\'s user-assigned managed identity.')
param identityId string

@description('Client id of the app\'s user-assigned managed identity.')
param identityClientId string

@description('Name of the host storage account (AzureWebJobsStorage).')
param hostStorageAccountName string

@description('Blob endpoint of the host storage account.')
param hostStorageBlobEndpoint string

@description('Container in the host storage account that holds the deployment package.')
param deploymentContainerName string

@description('Blob endpoint of the media storage account.')
param mediaBlobEndpoint string

@description('Queue endpoint of the media storage account, where the upload queue trigger reads.')
param mediaQueueEndpoint string

@description('Document endpoint of the Cosmos DB account.')
param cosmosEndpoint string

@description('Name of the Cosmos DB database.')
param cosmosDatabaseName string

@description('Name of the Application Insights component the app sends telemetry to.')
param appInsightsName string

@description('Tenant id of the borough\'s workforce Entra ID tenant (staff sign-in).')
param staffTenantId string

@description('Application (client) id of the staff API app registration; the audience of staff tokens.')
param staffApiClientId string

@description('Tenant id of the Entra External ID tenant for family members.')
param familyTenantId string

@description('Application (client) id of the family app registration; the audience of family tokens.')
param familyAppClientId string

@description('Python log level of the app\'s own loggers.')
@allowed([
  'DEBUG'
  'INFO'
  'WARNING'
  'ERROR'
])
param logLevel string = 'INFO'

@description('Six-field NCRONTAB schedule (seconds first, UTC) of the visit reminder run. The timer reads it as %REMINDER_SCHEDULE%, so the host needs it set.')
param reminderSchedule string = '0 */5 * * * *'

@description('NCRONTAB schedule (six fields, UTC) of the daily records disposal and tombstone purge run.')
param disposalSchedule string = '0 30 2 * * *'

@description('Six-field NCRONTAB schedule of the safety alert follow-up (text retries, escalation to the duty team). The timer reads it as %SAFETY_SCHEDULE%, so the host needs it set.')
param safetySchedule string = '0 * * * * *'

@description('UK mobile number of the borough\'s duty team, texted when no one acknowledges a family member\'s safety alert in time. Not a secret.')
param safetyDutyPhone string

@description('Browser origins allowed to call the API (web clients). Empty for none.')
param corsAllowedOrigins array = []

@description('Maximum number of instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('HTTP requests one instance serves at once, and the Python worker\'s threads (PYTHON_THREADPOOL_THREAD_COUNT), so every request admitted has a thread and the SDK connection pools, sized from the thread count, a connection. See docs/deploy.md ("Concurrency").')
@minValue(1)
@maxValue(64)
param httpPerInstanceConcurrency int = 16

@description('Proxy for the app\'s calls to Azure services, for a borough whose network requires one; empty for none. No credentials in it.')
param outboundProxyUrl string = ''

@description('Memory of each instance in MB; media processing (video frames, transcription) needs at least 2048.')
@allowed([
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Subnet the app integrates with for outbound traffic to private endpoints. Empty for none.')
param virtualNetworkSubnetId string = ''

// Values of the SMS, transcription and malware-scanning settings. speechRegion is not read: the
// app reaches Azure AI Speech by its custom-domain endpoint, as Entra ID authentication requires.
@description('Endpoint of Azure Communication Services, for the SMS client.')
param communicationServicesEndpoint string

@description('Alphanumeric SMS sender id (at most 11 characters) registered for the borough.')
param smsSender string

@description('The borough\'s service name as families know it, used in reminder texts.')
param serviceName string

@description('Custom-subdomain endpoint of Azure AI Speech, for transcription.')
param speechEndpoint string

@description('Region of Azure AI Speech.')
#disable-next-line no-unused-params
param speechRegion string

@description('Whether Defender for Storage malware scanning is on for the media account.')
param malwareScanningEnabled bool

@description('Name of the Key Vault holding the audit seal key.')
param keyVaultName string

@description('Name of the secret in that vault holding the audit seal key.')
param auditSealKeySecretName string

@description('Six-field NCRONTAB schedule (seconds first, UTC) of the audit sealing run. The timer reads it as %AUDIT_SEAL_SCHEDULE%, so the host needs it set.')
param auditSealSchedule string = '0 * * * * *'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

var appSettings = {
  // Functions host: runtime storage through the managed identity.
  AzureWebJobsStorage__accountName: hostStorageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  // Functions host: telemetry, authenticated with the identity (the component has local auth off).
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // Python worker: it passes each invocation's trace context to the code and leaves the app's
  // logs to the app's own exporter (shared/adapters/telemetry.py), which signs in with the
  // identity. Not PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY: the worker would then set up
  // Azure Monitor itself, with no credential, which the component (local auth off) refuses.
  PYTHON_ENABLE_OPENTELEMETRY: 'true'
  // The exporter's own usage statistics, sent to Microsoft: off.
  APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL: 'true'
  // Functions host: the upload queue trigger's connection, through the managed identity (with
  // the media account's queue endpoint, below).
  MEDIA_STORAGE__credential: 'managedidentity'
  MEDIA_STORAGE__clientId: identityClientId
  // Read by the code (shared/settings.py).
  MEDIA_STORAGE__blobServiceUri: mediaBlobEndpoint
  MEDIA_STORAGE__queueServiceUri: mediaQueueEndpoint
  AZURE_CLIENT_ID: identityClientId
  COSMOS__accountEndpoint: cosmosEndpoint
  COSMOS_DATABASE: cosmosDatabaseName
  AUTH_STAFF_TENANT_ID: staffTenantId
  AUTH_STAFF_AUDIENCE: staffApiClientId
  AUTH_FAMILY_TENANT_ID: familyTenantId
  AUTH_FAMILY_AUDIENCE: familyAppClientId
  LOG_LEVEL: logLevel
  SMS_ACS_ENDPOINT: communicationServicesEndpoint
  SMS_SENDER_ID: smsSender
  SMS_SERVICE_NAME: serviceName
  REMINDER_SCHEDULE: reminderSchedule
  MEDIA_TRANSCRIPTION_ENGINE: 'azure-speech'
  SPEECH__endpoint: speechEndpoint
  MEDIA_MALWARE_SCANNING: malwareScanningEnabled ? 'true' : 'false'
  DISPOSAL_SCHEDULE: disposalSchedule
  AUDIT_SEAL_SCHEDULE: auditSealSchedule
  // A Key Vault reference, resolved by the platform with the app's identity (keyVaultReferenceIdentity
  // below); the key's value is never in the template or its outputs. Versionless: the latest version.
  AUDIT_SEAL_KEY: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${auditSealKeySecretName})'
  // The worker's threads match the HTTP concurrency per instance (functionAppConfig below).
  PYTHON_THREADPOOL_THREAD_COUNT: string(httpPerInstanceConcurrency)
  OUTBOUND_PROXY_URL: outboundProxyUrl
  SAFETY_SCHEDULE: safetySchedule
  SAFETY_DUTY_PHONE: safetyDutyPhone
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225:Zone redundancy of a Flex Consumption plan is offered per region; a borough whose region offers it sets zoneRedundant here.
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_212:Flex Consumption scales instances on demand (maximumInstanceCount); numberOfWorkers does not apply.
  // checkov:skip=CKV_AZURE_213:A health probe every minute would keep a scale-to-zero Flex Consumption app running; failures are watched in Application Insights instead.
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    // checkov:skip=CKV_AZURE_222:The API serves staff and family devices on the internet; each request must carry an Entra ID token that the code validates.
    publicNetworkAccess: 'Enabled'
    // checkov:skip=CKV_AZURE_17:Callers authenticate with Entra ID bearer tokens; client certificates cannot be issued to family members' devices.
    clientCertEnabled: false
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    siteConfig: {
      appSettings: [for setting in items(appSettings): {
        name: setting.key
        value: setting.value
      }]
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      remoteDebuggingEnabled: false
      http20Enabled: true
      cors: {
        allowedOrigins: corsAllowedOrigins
        supportCredentials: false
      }
    }
    functionAppConfig: {
      runtime: {
        name: 'python'
        version: '3.11'
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        triggers: {
          http: {
            // A Python app's default is 1: one request per instance, idle while it waits for
            // Cosmos DB, and an instance (with its cold start) for every concurrent request.
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
    }
  }
}

resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

@description('Name of the Function App.')
output name string = site.name

@description('Default host name of the Function App.')
output defaultHostName string = site.properties.defaultHostName
