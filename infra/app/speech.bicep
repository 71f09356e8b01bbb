// Azure AI Speech for transcripts of recorded audio and video: a custom subdomain (required for
// Entra ID tokens) and local (key) auth disabled.

@description('Name of the Speech resource; also its custom subdomain.')
param name string

@description('Azure region of the Speech resource (one that offers fast transcription).')
param location string

@description('Tags applied to the Speech resource.')
param tags object

@description('Whether the resource accepts traffic from public networks.')
param allowPublicNetworkAccess bool = true

@description('Subnet for the private endpoint. Empty for none.')
param privateEndpointSubnetId string = ''

@description('Private DNS zone id (privatelink.cognitiveservices.azure.com) for the private endpoint.')
param privateDnsZoneId string = ''

resource speech 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: name
  location: location
  tags: tags
  kind: 'SpeechServices'
  sku: {
    name: 'S0'
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    customSubDomainName: name
    disableLocalAuth: true
    // checkov:skip=CKV_AZURE_134:Public access is turned off by the enablePrivateNetworking parameter; without it only Entra ID tokens are accepted (local auth is disabled).
    publicNetworkAccess: allowPublicNetworkAccess ? 'Enabled' : 'Disabled'
    networkAcls: {
      defaultAction: allowPublicNetworkAccess ? 'Allow' : 'Deny'
    }
  }
}

module endpoint 'private-endpoint.bicep' = if (!empty(privateEndpointSubnetId)) {
  name: '${name}-pe-account'
  params: {
    name: 'pe-${name}-account'
    location: location
    tags: tags
    subnetId: privateEndpointSubnetId
    serviceId: speech.id
    groupId: 'account'
    privateDnsZoneId: privateDnsZoneId
  }
}

@description('Name of the Speech resource.')
output name string = speech.name

@description('Custom-subdomain endpoint of the Speech resource, for Entra ID authenticated calls.')
output endpoint string = speech.properties.endpoint

@description('Region of the Speech resource.')
output region string = speech.location
