// Optional private networking: a virtual network with a subnet the Function App integrates with
// (outbound traffic) and a subnet for private endpoints, plus the private DNS zones that make the
// services' normal host names resolve to those endpoints.

@description('Name of the virtual network.')
param name string

@description('Azure region of the virtual network.')
param location string

@description('Tags applied to the network resources.')
param tags object

@description('Address space of the virtual network.')
param addressPrefix string = '10.40.0.0/16'

@description('Address range of the Function App integration subnet.')
param appSubnetPrefix string = '10.40.0.0/24'

@description('Address range of the private endpoint subnet.')
param privateEndpointSubnetPrefix string = '10.40.1.0/24'

var storageSuffix = environment().suffixes.storage
var zoneNames = {
  blob: 'privatelink.blob.${storageSuffix}'
  queue: 'privatelink.queue.${storageSuffix}'
  table: 'privatelink.table.${storageSuffix}'
  cosmos: 'privatelink.documents.azure.com'
  cognitiveServices: 'privatelink.cognitiveservices.azure.com'
  keyVault: 'privatelink.vaultcore.azure.net'
}
var zoneNameList = [
  zoneNames.blob
  zoneNames.queue
  zoneNames.table
  zoneNames.cosmos
  zoneNames.cognitiveServices
  zoneNames.keyVault
]

resource appNsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: 'nsg-${name}-app'
  location: location
  tags: tags
}

resource endpointNsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: 'nsg-${name}-pe'
  location: location
  tags: tags
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: appSubnetPrefix
          networkSecurityGroup: {
            id: appNsg.id
          }
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          networkSecurityGroup: {
            id: endpointNsg.id
          }
          privateEndpointNetworkPolicies: 'Enabled'
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2020-06-01' = [for zoneName in zoneNameList: {
  name: zoneName
  location: 'global'
  tags: tags
}]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [for (zoneName, i) in zoneNameList: {
  parent: zones[i]
  name: '${name}-link'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}]

@description('Resource id of the Function App integration subnet.')
output appSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'app')

@description('Resource id of the private endpoint subnet.')
output privateEndpointSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'private-endpoints')

@description('Private DNS zone ids keyed blob, queue, table, cosmos, cognitiveServices and keyVault.')
output dnsZoneIds object = {
  blob: resourceId('Microsoft.Network/privateDnsZones', zoneNames.blob)
  queue: resourceId('Microsoft.Network/privateDnsZones', zoneNames.queue)
  table: resourceId('Microsoft.Network/privateDnsZones', zoneNames.table)
  cosmos: resourceId('Microsoft.Network/privateDnsZones', zoneNames.cosmos)
  cognitiveServices: resourceId('Microsoft.Network/privateDnsZones', zoneNames.cognitiveServices)
  keyVault: resourceId('Microsoft.Network/privateDnsZones', zoneNames.keyVault)
}
