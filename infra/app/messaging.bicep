// Azure Communication Services for visit reminder texts (data kept in the UK, access keys off),
// and the Event Grid system topic on the media account whose blob-created events drive the
// blob-triggered function. The topic's subscription needs the deployed function's
// blobs_extension key, so upload-events.bicep creates it after the code is deployed.

@description('Name of the Communication Services resource.')
param communicationServicesName string

@description('Name of the Event Grid system topic for the media storage account.')
param systemTopicName string

@description('Azure region of the system topic (the media account\'s region).')
param location string

@description('Tags applied to the messaging resources.')
param tags object

@description('Resource id of the media storage account whose events the topic publishes.')
param mediaStorageAccountId string

resource communicationServices 'Microsoft.Communication/communicationServices@2025-05-01' = {
  name: communicationServicesName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: 'UK'
    disableLocalAuth: true
  }
}

resource mediaEvents 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: systemTopicName
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: mediaStorageAccountId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

@description('Name of the Communication Services resource.')
output communicationServicesName string = communicationServices.name

@description('Endpoint of the Communication Services resource, for the SMS client.')
output communicationServicesEndpoint string = 'https://${communicationServices.properties.hostName}'

@description('Name of the Event Grid system topic on the media account.')
output systemTopicName string = mediaEvents.name

@description('Object id of the system topic\'s identity, which writes undeliverable events to the dead-letter container.')
output systemTopicPrincipalId string = mediaEvents.identity.principalId
