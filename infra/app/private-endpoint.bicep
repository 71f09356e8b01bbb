// A private endpoint for one sub-resource of a service, registered in its private DNS zone.

@description('Name of the private endpoint.')
param name string

@description('Azure region of the private endpoint.')
param location string

@description('Tags applied to the private endpoint.')
param tags object

@description('Resource id of the subnet the endpoint takes an address in.')
param subnetId string

@description('Resource id of the service the endpoint connects to.')
param serviceId string

@description('Sub-resource (group id) of the service, such as blob, queue, Sql or account.')
param groupId string

@description('Resource id of the private DNS zone that resolves the service to the endpoint.')
param privateDnsZoneId string

resource endpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: serviceId
          groupIds: [
            groupId
          ]
        }
      }
    ]
  }
}

resource dnsGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: groupId
        properties: {
          privateDnsZoneId: privateDnsZoneId
        }
      }
    ]
  }
}

@description('Resource id of the private endpoint.')
output id string = endpoint.id
