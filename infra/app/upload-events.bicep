// The Event Grid subscription that delivers blob-created events of the uploads container to the
// blob-triggered function (Flex Consumption runs Event Grid-sourced blob triggers only).
//
// Deployed after the code, by infra/hooks/postdeploy.sh (azd runs it; see docs/deploy.md for
// az deployment): the webhook URL carries the host's blobs_extension system key, which exists
// only once the deployed app has started with its blob trigger. The key goes straight into the
// subscription's write-only endpoint URL; it is never an output.

@description('Name of the Function App hosting the blob-triggered function.')
param functionAppName string

@description('Name of the blob-triggered function that processes uploads.')
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
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${site.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${listKeys('${site.id}/host/default', '2024-04-01').systemKeys.blobs_extension}'
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
