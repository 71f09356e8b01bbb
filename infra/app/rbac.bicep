// Every role assignment of the stack, least privilege, each named
// guid(scope id, principal id, role definition id) so redeploying never duplicates one.

@description('Object id of the app\'s user-assigned managed identity.')
param appPrincipalId string

@description('Name of the host storage account (AzureWebJobsStorage and the deployment package).')
param hostStorageAccountName string

@description('Name of the media storage account.')
param mediaStorageAccountName string

@description('Container in the media storage account that receives undeliverable upload events.')
param deadLetterContainerName string

@description('Queue in the media storage account that Event Grid puts upload events on.')
param uploadEventsQueueName string

@description('Container in the media storage account that devices upload to.')
param uploadsContainerName string = 'uploads'

@description('Object id of the media account\'s Event Grid system topic identity.')
param systemTopicPrincipalId string

@description('Container in the media storage account that receives undeliverable SMS delivery reports.')
param smsDeadLetterContainerName string

@description('Object id of the Communication Services Event Grid system topic identity.')
param smsSystemTopicPrincipalId string

@description('Name of the Cosmos DB account.')
param cosmosAccountName string

@description('Name of the Cosmos DB database the app may read and write.')
param cosmosDatabaseName string

@description('Name of the Azure AI Speech resource.')
param speechName string

@description('Name of the Communication Services resource.')
param communicationServicesName string

@description('Name of the Application Insights component.')
param appInsightsName string

@description('Name of the Key Vault holding the audit seal key.')
param keyVaultName string

// Storage Blob Data Owner: the Functions host keeps keys, leases and the deployment package in
// blobs; Microsoft documents Owner for an identity-based AzureWebJobsStorage connection.
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
// Storage Blob Data Contributor: read, write and delete blobs (no ACL or ownership changes).
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
// Storage Queue Data Contributor: the Functions host's own queues in host storage, and the
// upload queue trigger in media storage (read, hide, delete, move to the poison queue).
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
// Storage Queue Data Message Sender: add messages to a queue, nothing else (Event Grid putting
// upload events on their queue).
var storageQueueDataMessageSender = 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'
// Storage Table Data Contributor: the Functions host writes its diagnostic events to tables in
// host storage.
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
// Storage Blob Delegator: get a user delegation key to sign short-lived SAS URLs.
var storageBlobDelegator = 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'
// Cognitive Services User: call the Speech APIs with an Entra ID token (no key listing).
var cognitiveServicesUser = 'a97b65f3-24c7-4388-baec-2e87135dc908'
// Communication and Email Service Owner: the narrowest built-in role that lets an Entra ID
// principal send SMS; its scope is this one Communication Services resource, whose keys are off.
var communicationAndEmailServiceOwner = '09976791-48a7-449e-bb21-39d1a415f350'
// Monitoring Metrics Publisher: send telemetry to an Application Insights with local auth off.
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'
// Key Vault Secrets User: read secret values (the audit seal key, through the app setting's Key
// Vault reference); no listing of keys, no writing.
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
// Cosmos DB Built-in Data Contributor (data plane): read and write items; no account keys,
// no database or container management.
var cosmosDataContributor = '00000000-0000-0000-0000-000000000002'

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageAccountName
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${mediaStorageAccountName}/default/${deadLetterContainerName}'
}

resource smsDeadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${mediaStorageAccountName}/default/${smsDeadLetterContainerName}'
}

resource mediaStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: mediaStorageAccountName
}

resource uploadsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${mediaStorageAccountName}/default/${uploadsContainerName}'
}

resource uploadEventsQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = {
  name: '${mediaStorageAccountName}/default/${uploadEventsQueueName}'
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

resource speech 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: speechName
}

resource communicationServices 'Microsoft.Communication/communicationServices@2025-05-01' existing = {
  name: communicationServicesName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource hostBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, appPrincipalId, storageBlobDataOwner)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource hostQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, appPrincipalId, storageQueueDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource hostTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, appPrincipalId, storageTableDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource mediaBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(mediaStorage.id, appPrincipalId, storageBlobDataContributor)
  scope: mediaStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource mediaDelegator 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(mediaStorage.id, appPrincipalId, storageBlobDelegator)
  scope: mediaStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDelegator)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource mediaQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(mediaStorage.id, appPrincipalId, storageQueueDataContributor)
  scope: mediaStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Owner on the uploads container only: Defender writes its malware-scan verdict as a blob index
// tag, and reading index tags (blobs/tags/read) is in Storage Blob Data Owner, not Contributor.
resource uploadsTagReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(uploadsContainer.id, appPrincipalId, storageBlobDataOwner)
  scope: uploadsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource deadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, systemTopicPrincipalId, storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: systemTopicPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The media system topic puts upload events on their queue, and on no other.
resource uploadEventsSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(uploadEventsQueue.id, systemTopicPrincipalId, storageQueueDataMessageSender)
  scope: uploadEventsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataMessageSender)
    principalId: systemTopicPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The SMS system topic writes the delivery reports it could not deliver to their own container.
resource smsDeadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(smsDeadLetterContainer.id, smsSystemTopicPrincipalId, storageBlobDataContributor)
  scope: smsDeadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: smsSystemTopicPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource speechUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(speech.id, appPrincipalId, cognitiveServicesUser)
  scope: speech
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cognitiveServicesUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource smsSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communicationServices.id, appPrincipalId, communicationAndEmailServiceOwner)
  scope: communicationServices
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', communicationAndEmailServiceOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource telemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appPrincipalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource sealKeyReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, appPrincipalId, keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

var cosmosDatabaseScope = '${cosmos.id}/dbs/${cosmosDatabaseName}'

resource cosmosDataAccess 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: cosmos
  name: guid(cosmosDatabaseScope, appPrincipalId, cosmosDataContributor)
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributor}'
    principalId: appPrincipalId
    scope: cosmosDatabaseScope
  }
}
