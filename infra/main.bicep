// One borough's FamilyStory stack: a resource group holding the Function App (Flex Consumption),
// storage for the host and for media, Cosmos DB, Communication Services, Azure AI Speech, a Key
// Vault for the audit seal key and monitoring, all reached with one user-assigned managed
// identity and no keys; and the web app (clients/web) on Static Web Apps, whose origins alone
// may call the API and the media account from a browser.
// Deploy with `azd up`, or `az deployment sub create` with a file from infra/tenants
// (docs/deploy.md walks through both).

targetScope = 'subscription'

@description('Short name of this deployment, such as westminster or westminster-test; names and tags every resource.')
@minLength(3)
@maxLength(24)
param environmentName string

@description('Azure region for the stack, such as uksouth.')
param location string

@description('Azure region for Azure AI Speech; one that offers fast transcription.')
param speechLocation string = location

@description('Tenant id of the borough\'s workforce Entra ID tenant (staff sign-in).')
@minLength(36)
@maxLength(36)
param staffTenantId string

@description('Application (client) id of the staff API app registration; the audience of staff tokens.')
@minLength(36)
@maxLength(36)
param staffApiClientId string

@description('Tenant id of the Entra External ID tenant for family members.')
@minLength(36)
@maxLength(36)
param familyTenantId string

@description('Application (client) id of the family app registration in the External ID tenant; the audience of family tokens.')
@minLength(36)
@maxLength(36)
param familyAppClientId string

@description('Alphanumeric SMS sender id the borough registered with Azure Communication Services (registration is out of band).')
@minLength(3)
@maxLength(11)
param smsSender string

@description('The borough\'s service name as families know it, used in reminder texts.')
@minLength(3)
@maxLength(60)
param serviceName string

@description('UK mobile number of the borough\'s duty team (out-of-hours emergency duty), texted when no one acknowledges a family member\'s safety alert in time (SAFETY_ACK_MINUTES, 15 by default).')
@minLength(10)
@maxLength(16)
param safetyDutyPhone string

@description('Browser origins of other web clients, allowed to call the API and upload media beside the web app\'s own origins (which are always allowed). Exact https origins only, never *. Empty for none.')
param corsAllowedOrigins array = []

@description('Region of the web app\'s Static Web Apps resource: one that offers it (none in the UK; it holds no data, only the app\'s static files, served from Microsoft\'s edge).')
param webLocation string = 'westeurope'

@description('Hosting plan of the web app: Standard (SLA, private endpoints, five custom domains) or Free.')
param webSku string = 'Standard'

@description('Custom domain of the web app, such as familystory.westminster.gov.uk, whose CNAME already points at the default host name (docs/deploy.md). Empty for none.')
param webCustomDomain string = ''

@description('Name of the Cosmos DB database.')
param cosmosDatabaseName string = 'familystory'

@description('Serverless Cosmos DB (billed per request) when true; false provisions autoscale throughput shared by the database, up to cosmosMaxThroughput RU/s. Choose before the first deployment: changing it later is a migration.')
param cosmosServerless bool = true

@description('Autoscale maximum RU/s of the Cosmos DB database when cosmosServerless is false: 1000 to 1000000 in steps of 1000, the values Cosmos DB accepts.')
@minValue(1000)
@maxValue(1000000)
param cosmosMaxThroughput int = 1000

@description('Put storage, Cosmos DB and Speech behind private endpoints with public access off, and integrate the app with a virtual network. The media account stays reachable from the internet because devices upload to it with SAS URLs.')
param enablePrivateNetworking bool = false

@description('Turn on Microsoft Defender for Storage on-upload malware scanning for the media account (billed per GB scanned).')
param enableMalwareScanning bool = false

@description('Days Log Analytics keeps logs and telemetry.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 90

@description('Days a deleted or overwritten blob can be restored.')
@minValue(7)
@maxValue(365)
param blobDeleteRetentionDays int = 30

@description('The key that MACs the audit seals: 32 characters or more, random (docs/deploy.md), kept in the stack\'s Key Vault. Give it on the first deployment only; empty leaves the stored key as it is.')
@secure()
param auditSealKey string = ''

@description('Days each audit anchor (one line per audit seal) stays immutable in the media account.')
@minValue(365)
@maxValue(146000)
param auditAnchorRetentionDays int = 3650

@description('Set true once the audit anchors\' retention policy is locked (docs/deploy.md): deployments then leave the locked policy alone.')
param auditAnchorPolicyLocked bool = false

@description('Maximum number of Function App instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('HTTP requests one Function App instance serves at once; the Python worker gets as many threads.')
@minValue(1)
@maxValue(64)
param httpPerInstanceConcurrency int = 16

@description('Proxy for the app\'s calls to Azure services, where the borough\'s network requires one; empty for none.')
param outboundProxyUrl string = ''

@description('Memory of each Function App instance in MB.')
@allowed([
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Python log level of the app\'s own loggers.')
@allowed([
  'DEBUG'
  'INFO'
  'WARNING'
  'ERROR'
])
param logLevel string = 'INFO'

@description('E-mail address of the borough\'s on-call engineers, whom every alert notifies (docs/operations.md is their runbook).')
@minLength(6)
param alertEmailAddress string

@description('HTTPS webhook every alert also calls, in the common alert schema (Teams, PagerDuty, a ticketing system). Empty for none.')
@secure()
param alertWebhookUrl string = ''

var token = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'familystory'
}
var deploymentContainerName = 'app-package'
var deadLetterContainerName = 'upload-events-deadletter'
var smsDeadLetterContainerName = 'sms-events-deadletter'
// One append blob per family and month, a line per audit seal; immutable (shared/storage_layout.py).
var auditAnchorsContainerName = 'audit-anchors'
var auditSealKeySecretName = 'audit-seal-key'
var mediaContainerNames = [
  'uploads'
  'originals'
  'derivatives'
]
// Event Grid puts the uploads container's blob-created events on the first queue; the Functions
// host moves a message that failed maxDequeueCount times to the second (shared/storage_layout.py).
var uploadEventsQueueName = 'media-uploads'
var uploadEventsPoisonQueueName = 'media-uploads-poison'
var mediaQueueNames = [
  uploadEventsQueueName
  uploadEventsPoisonQueueName
]

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-familystory-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: group
  params: {
    name: 'id-familystory-${token}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: group
  params: {
    workspaceName: 'log-familystory-${token}'
    appInsightsName: 'appi-familystory-${token}'
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
  }
}

// The web app: static files on Static Web Apps. Its origins (default host name, custom domain)
// are the only browser origins the API and the media account accept, with corsAllowedOrigins.
module web 'app/web.bicep' = {
  name: 'web'
  scope: group
  params: {
    name: 'stapp-familystory-${token}'
    location: webLocation
    tags: tags
    hostingPlan: webSku
    customDomain: webCustomDomain
  }
}

var browserOrigins = union(web.outputs.origins, corsAllowedOrigins)

module network 'app/network.bicep' = if (enablePrivateNetworking) {
  name: 'network'
  scope: group
  params: {
    name: 'vnet-familystory-${token}'
    location: location
    tags: tags
  }
}

module hostStorage 'app/storage.bicep' = {
  name: 'host-storage'
  scope: group
  params: {
    name: 'sthost${token}'
    location: location
    tags: tags
    containerNames: [
      deploymentContainerName
    ]
    deleteRetentionDays: blobDeleteRetentionDays
    allowPublicNetworkAccess: !enablePrivateNetworking
    privateEndpointSubnetId: enablePrivateNetworking ? network.outputs.privateEndpointSubnetId : ''
    privateDnsZoneIds: enablePrivateNetworking ? network.outputs.dnsZoneIds : {}
    privateTableEndpoint: true
  }
}

module mediaStorage 'app/storage.bicep' = {
  name: 'media-storage'
  scope: group
  params: {
    name: 'stmedia${token}'
    location: location
    tags: tags
    containerNames: concat(mediaContainerNames, [
      deadLetterContainerName
      smsDeadLetterContainerName
    ])
    queueNames: mediaQueueNames
    deleteRetentionDays: blobDeleteRetentionDays
    allowPublicNetworkAccess: true
    corsAllowedOrigins: browserOrigins
    privateEndpointSubnetId: enablePrivateNetworking ? network.outputs.privateEndpointSubnetId : ''
    privateDnsZoneIds: enablePrivateNetworking ? network.outputs.dnsZoneIds : {}
    enableMalwareScanning: enableMalwareScanning
    immutableContainerName: auditAnchorsContainerName
    immutabilityDays: auditAnchorRetentionDays
    immutabilityPolicyLocked: auditAnchorPolicyLocked
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'key-vault'
  scope: group
  params: {
    name: 'kv-fs-${token}'
    location: location
    tags: tags
    sealKeySecretName: auditSealKeySecretName
    auditSealKey: auditSealKey
    allowPublicNetworkAccess: !enablePrivateNetworking
    privateEndpointSubnetId: enablePrivateNetworking ? network.outputs.privateEndpointSubnetId : ''
    privateDnsZoneId: enablePrivateNetworking ? network.outputs.dnsZoneIds.keyVault : ''
  }
}

module cosmos 'app/cosmos.bicep' = {
  name: 'cosmos'
  scope: group
  params: {
    accountName: 'cosmos-familystory-${token}'
    databaseName: cosmosDatabaseName
    location: location
    tags: tags
    serverless: cosmosServerless
    maxThroughput: cosmosMaxThroughput
    allowPublicNetworkAccess: !enablePrivateNetworking
    privateEndpointSubnetId: enablePrivateNetworking ? network.outputs.privateEndpointSubnetId : ''
    privateDnsZoneId: enablePrivateNetworking ? network.outputs.dnsZoneIds.cosmos : ''
  }
}

module messaging 'app/messaging.bicep' = {
  name: 'messaging'
  scope: group
  params: {
    communicationServicesName: 'acs-familystory-${token}'
    systemTopicName: 'evgt-media-${token}'
    smsSystemTopicName: 'evgt-sms-${token}'
    location: location
    tags: tags
    mediaStorageAccountId: mediaStorage.outputs.id
  }
}

module speech 'app/speech.bicep' = {
  name: 'speech'
  scope: group
  params: {
    name: 'spch-familystory-${token}'
    location: speechLocation
    tags: tags
    allowPublicNetworkAccess: !enablePrivateNetworking
    privateEndpointSubnetId: enablePrivateNetworking ? network.outputs.privateEndpointSubnetId : ''
    privateDnsZoneId: enablePrivateNetworking ? network.outputs.dnsZoneIds.cognitiveServices : ''
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: group
  params: {
    appPrincipalId: identity.outputs.principalId
    hostStorageAccountName: hostStorage.outputs.name
    mediaStorageAccountName: mediaStorage.outputs.name
    deadLetterContainerName: deadLetterContainerName
    uploadEventsQueueName: uploadEventsQueueName
    systemTopicPrincipalId: messaging.outputs.systemTopicPrincipalId
    smsDeadLetterContainerName: smsDeadLetterContainerName
    smsSystemTopicPrincipalId: messaging.outputs.smsSystemTopicPrincipalId
    cosmosAccountName: cosmos.outputs.accountName
    cosmosDatabaseName: cosmos.outputs.databaseName
    speechName: speech.outputs.name
    communicationServicesName: messaging.outputs.communicationServicesName
    appInsightsName: monitoring.outputs.appInsightsName
    keyVaultName: keyVault.outputs.name
  }
}

// Upload events go to a queue, which exists before the code is deployed, so the subscription is
// part of the stack; it waits for the roles that let the topic write to the queue and to the
// dead-letter container.
module uploadEvents 'app/upload-events.bicep' = {
  name: 'upload-events'
  scope: group
  params: {
    systemTopicName: messaging.outputs.systemTopicName
    mediaAccountName: mediaStorage.outputs.name
    queueName: uploadEventsQueueName
    deadLetterContainerName: deadLetterContainerName
  }
  dependsOn: [
    rbac
  ]
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: group
  params: {
    name: 'func-familystory-${token}'
    planName: 'plan-familystory-${token}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    hostStorageAccountName: hostStorage.outputs.name
    hostStorageBlobEndpoint: hostStorage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    mediaBlobEndpoint: mediaStorage.outputs.blobEndpoint
    mediaQueueEndpoint: mediaStorage.outputs.queueEndpoint
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    appInsightsName: monitoring.outputs.appInsightsName
    staffTenantId: staffTenantId
    staffApiClientId: staffApiClientId
    familyTenantId: familyTenantId
    familyAppClientId: familyAppClientId
    logLevel: logLevel
    corsAllowedOrigins: browserOrigins
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    outboundProxyUrl: outboundProxyUrl
    virtualNetworkSubnetId: enablePrivateNetworking ? network.outputs.appSubnetId : ''
    communicationServicesEndpoint: messaging.outputs.communicationServicesEndpoint
    smsSender: smsSender
    serviceName: serviceName
    safetyDutyPhone: safetyDutyPhone
    speechEndpoint: speech.outputs.endpoint
    speechRegion: speech.outputs.region
    malwareScanningEnabled: enableMalwareScanning
    keyVaultName: keyVault.outputs.name
    auditSealKeySecretName: auditSealKeySecretName
  }
  dependsOn: [
    rbac
  ]
}

// Alerts, the action group and the availability test of /health/ready: in every borough's stack.
module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  scope: group
  params: {
    namePrefix: 'familystory-${environmentName}'
    location: location
    tags: tags
    appInsightsName: monitoring.outputs.appInsightsName
    functionHostName: api.outputs.defaultHostName
    cosmosAccountName: cosmos.outputs.accountName
    mediaEventsTopicName: messaging.outputs.systemTopicName
    alertEmailAddress: alertEmailAddress
    alertWebhookUrl: alertWebhookUrl
  }
}

@description('Name of the resource group holding the stack.')
output AZURE_RESOURCE_GROUP string = group.name

@description('Name of the Function App.')
output AZURE_FUNCTION_APP_NAME string = api.outputs.name

@description('Base URL of the HTTP API.')
output API_BASE_URL string = 'https://${api.outputs.defaultHostName}/api/v1'

@description('Client id of the app\'s managed identity.')
output AZURE_CLIENT_ID string = identity.outputs.clientId

@description('Name of the media storage account, which also holds the upload events queue and the dead-letter containers of upload events and SMS delivery reports.')
output MEDIA_ACCOUNT_NAME string = mediaStorage.outputs.name

@description('Container in the media account that receives upload events Event Grid could not deliver.')
output UPLOAD_EVENTS_DEADLETTER_CONTAINER string = deadLetterContainerName

@description('Queue in the media account that Event Grid puts upload events on and media_process_upload reads.')
output UPLOAD_EVENTS_QUEUE string = uploadEventsQueueName

@description('Name of the Event Grid system topic on the media account, whose subscription media-process-upload puts upload events on UPLOAD_EVENTS_QUEUE.')
output MEDIA_EVENTS_SYSTEM_TOPIC string = messaging.outputs.systemTopicName

@description('Name of the Event Grid system topic on Communication Services; infra/hooks/postdeploy.sh subscribes reminders_delivery_report to its SMS delivery reports.')
output SMS_EVENTS_SYSTEM_TOPIC string = messaging.outputs.smsSystemTopicName

@description('Container in the media account that receives SMS delivery reports Event Grid could not deliver.')
output SMS_EVENTS_DEADLETTER_CONTAINER string = smsDeadLetterContainerName

@description('Name of the Communication Services resource, where the alphanumeric sender is registered.')
output COMMUNICATION_SERVICES_NAME string = messaging.outputs.communicationServicesName

@description('Name of the Cosmos DB account.')
output COSMOS_ACCOUNT_NAME string = cosmos.outputs.accountName

@description('Name of the Key Vault that holds the secret the audit seals are MACed with.')
output AUDIT_VAULT_NAME string = keyVault.outputs.name

@description('Container in the media account holding the immutable audit anchors.')
output AUDIT_ANCHORS_CONTAINER string = auditAnchorsContainerName

@description('Blob endpoint of the media account, which devices upload to and read media from with SAS URLs; the web app\'s Content-Security-Policy names it.')
output MEDIA_BLOB_URL string = mediaStorage.outputs.blobEndpoint

@description('Name of the web app\'s static web app, which azd deploys clients/web to.')
output WEB_APP_NAME string = web.outputs.name

@description('Address people open the web app at; the redirect URI of its sign-in registrations (docs/deploy.md).')
output WEB_URL string = web.outputs.url
