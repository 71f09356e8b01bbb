// One storage account, identity-only: shared keys off (so no account key or account SAS works),
// no anonymous blob access, TLS 1.2, soft delete for blobs and containers, and versioning.
// main.bicep deploys it twice: the host account (Functions runtime and deployment package) and
// the media account (case media, reached by clients with short-lived user delegation SAS URLs,
// and the queue that carries its upload events).

@description('Name of the storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the storage account.')
param location string

@description('Tags applied to the storage account.')
param tags object

@description('Blob containers to create.')
param containerNames array

@description('A blob container whose blobs no one can change or delete for immutabilityDays after they were written, appends aside (a time-based WORM policy): the audit anchors. Empty for none.')
param immutableContainerName string = ''

@description('Days each blob of immutableContainerName stays immutable after it was last written.')
@minValue(1)
@maxValue(146000)
param immutabilityDays int = 3650

@description('Whether the policy of immutableContainerName has been locked: the deployment then leaves it alone (a locked policy can only be extended, by its own action).')
param immutabilityPolicyLocked bool = false

@description('Storage queues to create. Empty for none.')
param queueNames array = []

@description('Replication of the account: geo-zone-redundant by default (for UK South the copy is in UK West, so data stays in the UK).')
@allowed([
  'Standard_GZRS'
  'Standard_RAGZRS'
  'Standard_GRS'
  'Standard_RAGRS'
])
param skuName string = 'Standard_GZRS'

@description('Days a deleted blob or overwritten blob version can be restored.')
@minValue(7)
@maxValue(365)
param deleteRetentionDays int = 30

@description('Whether the account accepts traffic from public networks. The media account must, because devices upload to it directly.')
param allowPublicNetworkAccess bool = true

@description('Browser origins allowed to PUT and GET blobs with a SAS URL (web clients): exact https origins, never *. Empty for none.')
param corsAllowedOrigins array = []

@description('Subnet for private endpoints (blob and queue, and table if privateTableEndpoint). Empty for none.')
param privateEndpointSubnetId string = ''

@description('Private DNS zone ids for the private endpoints, keyed by sub-resource (blob, queue, table).')
param privateDnsZoneIds object = {}

@description('Whether the table service gets a private endpoint too: the Functions host keeps its diagnostic events in tables of its storage account.')
param privateTableEndpoint bool = false

@description('Turn on Microsoft Defender for Storage with on-upload malware scanning for this account.')
param enableMalwareScanning bool = false

@description('Monthly cap, in GB, on the data malware scanning reads.')
param malwareScanningCapGBPerMonth int = 1000

var usePrivateEndpoints = !empty(privateEndpointSubnetId)
var useTableEndpoint = usePrivateEndpoints && privateTableEndpoint

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: allowPublicNetworkAccess ? 'Enabled' : 'Disabled'
    // AzureServices: trusted services reach the account through its firewall; Event Grid needs
    // it to deliver to the media account's queue and dead-letter containers.
    // checkov:skip=CKV_AZURE_35:Deny-by-default applies when public access is off; otherwise devices and Flex Consumption instances on dynamic addresses must reach the account, authorised by Entra ID only (shared keys are off).
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: allowPublicNetworkAccess ? 'Allow' : 'Deny'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: deleteRetentionDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: deleteRetentionDays
    }
    isVersioningEnabled: true
    changeFeed: {
      enabled: true
      retentionInDays: deleteRetentionDays
    }
    // A browser may PUT blocks and the block list to an upload SAS URL and GET media with a read
    // SAS URL, from the listed origins only, sending only the headers those requests need. The
    // SAS, not CORS, is what authorises a request; CORS only lets the web app read the answers.
    cors: {
      corsRules: empty(corsAllowedOrigins) ? [] : [
        {
          allowedOrigins: corsAllowedOrigins
          allowedMethods: [
            'GET'
            'HEAD'
            'PUT'
          ]
          allowedHeaders: [
            'content-type'
            'content-md5'
            'x-ms-blob-type'
            'x-ms-blob-content-type'
            'x-ms-content-crc64'
            'x-ms-version'
            'x-ms-date'
            'x-ms-client-request-id'
          ]
          exposedHeaders: [
            'etag'
            'last-modified'
            'content-length'
            'content-type'
            'x-ms-request-id'
            'x-ms-error-code'
          ]
          // Browsers cap a cached preflight at two hours (Chromium) or a day (Firefox).
          maxAgeInSeconds: 3600
        }
      ]
    }
  }
}

// A blob deleted or overwritten leaves a previous version (versioning is on). Previous versions
// are deleted after the restore period, so media destroyed by the records disposal run leaves
// no copy behind beyond it (the app's data role cannot delete versions itself).
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          enabled: true
          name: 'expire-previous-versions'
          type: 'Lifecycle'
          definition: {
            actions: {
              version: {
                delete: {
                  daysAfterCreationGreaterThan: deleteRetentionDays
                }
              }
            }
            filters: {
              blobTypes: [
                'blockBlob'
              ]
            }
          }
        }
      ]
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for containerName in containerNames: {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}]

// Time-based retention, appends allowed: a blob (an append blob of audit anchors) can grow and be
// read, but not be written over or deleted, by the app or anyone, until its period has passed.
// The policy is made unlocked (a deployment could not lock it, and a locked one can never be
// shortened or removed): docs/deploy.md says how a borough locks it once it has checked it.
resource immutableContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = if (!empty(immutableContainerName)) {
  parent: blobService
  name: empty(immutableContainerName) ? 'unused' : immutableContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource immutability 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = if (!empty(immutableContainerName) && !immutabilityPolicyLocked) {
  parent: immutableContainer
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: immutabilityDays
    allowProtectedAppendWrites: true
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queueName in queueNames: {
  parent: queueService
  name: queueName
}]

resource malwareScanning 'Microsoft.Security/defenderForStorageSettings@2022-12-01-preview' = if (enableMalwareScanning) {
  name: 'current'
  scope: account
  properties: {
    isEnabled: true
    overrideSubscriptionLevelSettings: true
    malwareScanning: {
      onUpload: {
        isEnabled: true
        capGBPerMonth: malwareScanningCapGBPerMonth
      }
    }
    sensitiveDataDiscovery: {
      isEnabled: false
    }
  }
}

module blobEndpoint 'private-endpoint.bicep' = if (usePrivateEndpoints) {
  name: '${name}-pe-blob'
  params: {
    name: 'pe-${name}-blob'
    location: location
    tags: tags
    subnetId: privateEndpointSubnetId
    serviceId: account.id
    groupId: 'blob'
    privateDnsZoneId: usePrivateEndpoints ? privateDnsZoneIds.blob : ''
  }
}

module queueEndpoint 'private-endpoint.bicep' = if (usePrivateEndpoints) {
  name: '${name}-pe-queue'
  params: {
    name: 'pe-${name}-queue'
    location: location
    tags: tags
    subnetId: privateEndpointSubnetId
    serviceId: account.id
    groupId: 'queue'
    privateDnsZoneId: usePrivateEndpoints ? privateDnsZoneIds.queue : ''
  }
}

module tableEndpoint 'private-endpoint.bicep' = if (useTableEndpoint) {
  name: '${name}-pe-table'
  params: {
    name: 'pe-${name}-table'
    location: location
    tags: tags
    subnetId: privateEndpointSubnetId
    serviceId: account.id
    groupId: 'table'
    privateDnsZoneId: useTableEndpoint ? privateDnsZoneIds.table : ''
  }
}

@description('Name of the storage account.')
output name string = account.name

@description('Resource id of the storage account.')
output id string = account.id

@description('Blob service endpoint of the account.')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('Queue service endpoint of the account.')
output queueEndpoint string = account.properties.primaryEndpoints.queue
