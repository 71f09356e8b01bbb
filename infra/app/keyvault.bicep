// Key Vault for the one secret the app needs: the key that MACs the audit seals
// (shared/audit_seal.py). It is kept outside the database on purpose: someone able to write to
// Cosmos DB cannot make a seal the verifier accepts. RBAC authorisation (the app's identity reads
// secrets, in rbac.bicep), soft delete and purge protection, so the key cannot be lost by a slip.
// The app reads it through a Key Vault reference in its app settings (api.bicep).

@description('Name of the key vault (3-24 letters, digits and dashes).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the key vault.')
param location string

@description('Tags applied to the key vault.')
param tags object

@description('Name of the secret holding the audit seal key.')
param sealKeySecretName string = 'audit-seal-key'

@description('The audit seal key (at least 32 characters), set on the first deployment only: empty leaves the stored secret as it is. Changing it later makes seals made before unverifiable with the new key.')
@secure()
param auditSealKey string = ''

@description('Whether the vault accepts traffic from public networks.')
param allowPublicNetworkAccess bool = true

@description('Subnet for the private endpoint. Empty for none.')
param privateEndpointSubnetId string = ''

@description('Private DNS zone id (privatelink.vaultcore.azure.net) for the private endpoint.')
param privateDnsZoneId string = ''

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    // checkov:skip=CKV_AZURE_189:Public access is turned off by the enablePrivateNetworking parameter; without it every call needs an Entra ID token with a data role on this vault.
    publicNetworkAccess: allowPublicNetworkAccess ? 'Enabled' : 'Disabled'
    // checkov:skip=CKV_AZURE_109:Deny-by-default applies when public access is off; otherwise Flex Consumption instances on dynamic addresses resolve the Key Vault reference, authorised by Entra ID only.
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: allowPublicNetworkAccess ? 'Allow' : 'Deny'
    }
  }
}

resource sealKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(auditSealKey)) {
  // checkov:skip=CKV_AZURE_41:The seal key must verify seals for as long as families are kept (decades); an expiry would stop the app from reading it, not make it safer.
  // checkov:skip=CKV_AZURE_114:contentType is set below; Checkov does not read the properties of a resource deployed under a condition.
  parent: vault
  name: sealKeySecretName
  properties: {
    value: auditSealKey
    contentType: 'text/plain; HMAC-SHA256 key of the audit seals'
  }
}

module endpoint 'private-endpoint.bicep' = if (!empty(privateEndpointSubnetId)) {
  name: '${name}-pe-vault'
  params: {
    name: 'pe-${name}-vault'
    location: location
    tags: tags
    subnetId: privateEndpointSubnetId
    serviceId: vault.id
    groupId: 'vault'
    privateDnsZoneId: privateDnsZoneId
  }
}

@description('Name of the key vault.')
output name string = vault.name
