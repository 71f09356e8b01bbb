// The Event Grid subscription that delivers blob-created events of the uploads container to the
// Event Grid-triggered function media_process_upload, which opens the blob itself.
//
// Deployed after the code, by infra/hooks/postdeploy.sh (azd runs it; see docs/deploy.md for
// az deployment): Event Grid accepts an Azure Function destination only once the function is
// deployed and listed on the app. The destination names the function by its resource id, and
// Event Grid fetches the trigger's key itself, so this template reads and holds no key.

@description('Name of the Function App hosting the Event Grid-triggered function.')
param functionAppName string

@description('Name of the Event Grid-triggered function that processes uploads.')
param functionName string = 'media_process_upload'

@description('Name of the Event Grid system topic on the media storage account.')
param systemTopicName string

@description('Container whose new blobs trigger the function.')
param uploadsContainerName string = 'uploads'

@description('Name of the media storage account, which holds the dead-letter container.')
param mediaAccountName string

@description('Container that receives events Event Grid could not deliver.')
param deadLetterContainerName string

@description('Delivery attempts before an event is dead-lettered.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: systemTopicName
}

resource mediaAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: mediaAccountName
}

resource uploads 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: topic
  name: 'media-process-upload'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${site.id}/functions/${functionName}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      subjectBeginsWith: '/blobServices/default/containers/${uploadsContainerName}/'
    }
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: mediaAccount.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

@description('Name of the event subscription.')
output subscriptionName string = uploads.name
