// The Event Grid subscription that puts the blob-created events of the media account's uploads
// container on the Storage queue media-uploads of the same account, where the queue-triggered
// function media_process_upload takes them (it opens the blob itself).
//
// main.bicep deploys it with the rest of the stack, after the queue and the roles exist: unlike
// a function destination, a queue does not need the code deployed. Event Grid writes to the
// queue and the dead-letter container with the system topic's own identity (rbac.bicep), so no
// key or SAS is involved. Behind a storage firewall only a system-assigned identity can deliver,
// and only with trusted Azure services let through (networkAcls.bypass, storage.bicep).

@description('Name of the Event Grid system topic on the media storage account.')
param systemTopicName string

@description('Name of the media storage account, which holds the uploads container, the queue and the dead-letter container.')
param mediaAccountName string

@description('Container whose new blobs raise the events.')
param uploadsContainerName string = 'uploads'

@description('Queue the events are put on (UPLOAD_EVENTS_QUEUE in shared/storage_layout.py).')
param queueName string

@description('Container that receives events Event Grid could not deliver.')
param deadLetterContainerName string

@description('Delivery attempts before an event is dead-lettered.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

@description('Seconds an event waits on the queue before it expires; 7 days, the Storage default. An upload whose event expired unread is still picked up by the media_recheck timer.')
@minValue(3600)
@maxValue(604800)
param queueMessageTimeToLiveInSeconds int = 604800

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
    deliveryWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      destination: {
        endpointType: 'StorageQueue'
        properties: {
          resourceId: mediaAccount.id
          queueName: queueName
          queueMessageTimeToLiveInSeconds: queueMessageTimeToLiveInSeconds
        }
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
