// Azure Communication Services for visit reminder texts (data kept in the UK, access keys off),
// and two Event Grid system topics: one on the media account, whose blob-created events
// upload-events.bicep puts on a Storage queue for the queue-triggered media_process_upload, and
// one on Communication Services, whose SMS delivery reports drive the Event Grid-triggered
// function reminders_delivery_report. A subscription can point only at a function that is
// deployed, so delivery-reports.bicep creates that one after the code is deployed
// (infra/hooks/postdeploy.sh).

@description('Name of the Communication Services resource.')
param communicationServicesName string

@description('Name of the Event Grid system topic for the media storage account.')
param systemTopicName string

@description('Name of the Event Grid system topic for the Communication Services resource (SMS delivery reports).')
param smsSystemTopicName string

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

// Communication Services is a global resource, so its system topic is global too.
resource smsEvents 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: smsSystemTopicName
  location: 'global'
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: communicationServices.id
    topicType: 'Microsoft.Communication.CommunicationServices'
  }
}

@description('Name of the Communication Services resource.')
output communicationServicesName string = communicationServices.name

@description('Endpoint of the Communication Services resource, for the SMS client.')
output communicationServicesEndpoint string = 'https://${communicationServices.properties.hostName}'

@description('Name of the Event Grid system topic on the media account.')
output systemTopicName string = mediaEvents.name

@description('Object id of the media system topic\'s identity, which puts upload events on their queue and undeliverable ones in their dead-letter container.')
output systemTopicPrincipalId string = mediaEvents.identity.principalId

@description('Name of the Event Grid system topic on Communication Services, which publishes SMS delivery reports.')
output smsSystemTopicName string = smsEvents.name

@description('Object id of the SMS system topic\'s identity, which writes undeliverable delivery reports to their dead-letter container.')
output smsSystemTopicPrincipalId string = smsEvents.identity.principalId
