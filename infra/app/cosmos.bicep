// Cosmos DB for NoSQL: key (local) auth off, continuous backup, TLS 1.2, serverless unless a
// throughput is asked for. The containers mirror shared/storage_layout.py exactly; a test in
// tests/infra compares them, so edit both together.

@description('Name of the Cosmos DB account (3-44 lowercase letters, digits and hyphens).')
@minLength(3)
@maxLength(44)
param accountName string

@description('Name of the database the app uses (COSMOS_DATABASE).')
param databaseName string

@description('Azure region of the account.')
param location string

@description('Tags applied to the account.')
param tags object

@description('Serverless (billed per request) when true; otherwise the database autoscales up to maxThroughput RU/s.')
param serverless bool = true

@description('Autoscale maximum RU/s shared by the database when not serverless: 1000 to 1000000 in steps of 1000, the values Cosmos DB accepts.')
@minValue(1000)
@maxValue(1000000)
param maxThroughput int = 1000

@description('Whether the account accepts traffic from public networks.')
param allowPublicNetworkAccess bool = true

@description('Subnet for the private endpoint. Empty for none.')
param privateEndpointSubnetId string = ''

@description('Private DNS zone id (privatelink.documents.azure.com) for the private endpoint.')
param privateDnsZoneId string = ''

var containers = [
  {
    id: 'records'
    partitionKey: {
      paths: [
        '/familyId'
      ]
      kind: 'Hash'
      version: 2
    }
    indexingPolicy: {
      indexingMode: 'consistent'
      automatic: true
      includedPaths: [
        {
          path: '/*'
        }
      ]
      excludedPaths: [
        {
          path: '/body/?'
        }
        {
          path: '/transcript/*'
        }
        {
          path: '/snapshot/*'
        }
        {
          path: '/"_etag"/?'
        }
      ]
      compositeIndexes: [
        [
          {
            path: '/createdAt'
            order: 'descending'
          }
          {
            path: '/id'
            order: 'descending'
          }
        ]
        [
          {
            path: '/createdAt'
            order: 'ascending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/_ts'
            order: 'ascending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
      ]
    }
  }
  {
    id: 'audit'
    partitionKey: {
      paths: [
        '/familyId'
      ]
      kind: 'Hash'
      version: 2
    }
    indexingPolicy: {
      indexingMode: 'consistent'
      automatic: true
      includedPaths: [
        {
          path: '/*'
        }
      ]
      excludedPaths: [
        {
          path: '/"_etag"/?'
        }
      ]
      compositeIndexes: [
        [
          {
            path: '/at'
            order: 'descending'
          }
          {
            path: '/id'
            order: 'descending'
          }
        ]
      ]
    }
  }
  {
    id: 'directory'
    partitionKey: {
      paths: [
        '/id'
      ]
      kind: 'Hash'
      version: 2
    }
    indexingPolicy: {
      indexingMode: 'consistent'
      automatic: true
      includedPaths: [
        {
          path: '/*'
        }
      ]
      excludedPaths: [
        {
          path: '/"_etag"/?'
        }
      ]
    }
    defaultTtl: -1
  }
  {
    id: 'sync'
    partitionKey: {
      paths: [
        '/pk'
      ]
      kind: 'Hash'
      version: 2
    }
    indexingPolicy: {
      indexingMode: 'consistent'
      automatic: true
      includedPaths: []
      excludedPaths: [
        {
          path: '/*'
        }
      ]
    }
    defaultTtl: -1
  }
  {
    id: 'disposals'
    partitionKey: {
      paths: [
        '/id'
      ]
      kind: 'Hash'
      version: 2
    }
    indexingPolicy: {
      indexingMode: 'consistent'
      automatic: true
      includedPaths: [
        {
          path: '/*'
        }
      ]
      excludedPaths: [
        {
          path: '/"_etag"/?'
        }
      ]
    }
  }
  {
    id: 'evaluation'
    partitionKey: {
      paths: [
        '/teamId'
      ]
      kind: 'Hash'
      version: 2
    }
    indexingPolicy: {
      indexingMode: 'consistent'
      automatic: true
      includedPaths: [
        {
          path: '/teamId/?'
        }
        {
          path: '/week/?'
        }
        {
          path: '/type/?'
        }
      ]
      excludedPaths: [
        {
          path: '/*'
        }
      ]
    }
  }
]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: accountName
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: serverless ? [
      {
        name: 'EnableServerless'
      }
    ] : []
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: 'Continuous30Days'
      }
    }
    // checkov:skip=CKV_AZURE_101:Public access is turned off by the enablePrivateNetworking parameter; without it the Flex Consumption app reaches Cosmos DB over the internet with Entra ID tokens only (key auth is disabled).
    publicNetworkAccess: allowPublicNetworkAccess ? 'Enabled' : 'Disabled'
    networkAclBypass: 'None'
    enableAutomaticFailover: false
    enableMultipleWriteLocations: false
    enableFreeTier: false
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    options: serverless ? {} : {
      autoscaleSettings: {
        maxThroughput: maxThroughput
      }
    }
  }
}

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [for container in containers: {
  parent: database
  name: container.id
  properties: {
    resource: container
  }
}]

module endpoint 'private-endpoint.bicep' = if (!empty(privateEndpointSubnetId)) {
  name: '${accountName}-pe-sql'
  params: {
    name: 'pe-${accountName}-sql'
    location: location
    tags: tags
    subnetId: privateEndpointSubnetId
    serviceId: account.id
    groupId: 'Sql'
    privateDnsZoneId: privateDnsZoneId
  }
}

@description('Name of the Cosmos DB account.')
output accountName string = account.name

@description('Document endpoint of the account (COSMOS__accountEndpoint).')
output endpoint string = account.properties.documentEndpoint

@description('Name of the database.')
output databaseName string = database.name
